// Cold start: what a new Lambda execution environment pays before and during its first signature.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, resolve } from 'node:path';
import { bundleBytes } from '../scripts/bundle-size';
import { pathToFileURL } from 'node:url';
import { childEnv } from './memory';
import { summarize, type Summary } from './stats';

/** The Lambda bundles that `npm run build` writes. */
export const LAMBDA_BUNDLES = { eip1559: 'dist/eip1559/index.mjs', legacy: 'dist/legacy/index.mjs' } as const;

/** Where a first invocation finds KMS: an HTTP endpoint (the local KMS) and a key in it. */
export interface KmsEndpoint {
  readonly url: string;
  readonly keyId: string;
}

/** One bundle's cold-start figures over several fresh processes. */
export interface ColdStartResult {
  readonly bundle: string;
  /** Every .mjs file of the bundle: the entry and the chunks it may load (the SDK's lazy credential providers). */
  readonly bytes: number;
  /** `import()` of the bundle: parsing, module evaluation, SDK and ethers set-up. */
  readonly importMs: Summary;
  /** From the node process's time origin to the end of the import: what an invocation waits for at least. */
  readonly processToReadyMs: Summary;
  /** The first sign invocation: config, GetPublicKey and Sign over HTTP, key tables, response. */
  readonly firstInvocationMs?: Summary;
}

// Runs in the child as an ES module: time the import, then (if asked) one sign invocation.
const CHILD = `
const started = performance.now();
const lambda = await import(process.argv[1]);
const imported = performance.now();
let firstInvocationMs = null;
if (process.env.BENCH_EVENT) {
  const before = performance.now();
  const response = await lambda.handler(JSON.parse(process.env.BENCH_EVENT));
  firstInvocationMs = performance.now() - before;
  if (!response.signedTransaction) throw new Error('no signed transaction');
}
console.log(JSON.stringify({ importMs: imported - started, processToReadyMs: imported, firstInvocationMs }));
`;

/** The reference that init is compared with in the same run: a bare `import()` of the KMS client package. */
export const INIT_REFERENCE = '@aws-sdk/client-kms';

/** What `measureColdStart` returns: each bundle's figures, and the reference import's. */
export interface ColdStartResults {
  readonly bundles: ColdStartResult[];
  /** `import('@aws-sdk/client-kms')` (the package as installed, no bundle) in a fresh node. */
  readonly referenceImportMs: Summary;
}

interface ChildSample {
  importMs: number;
  processToReadyMs: number;
  firstInvocationMs: number | null;
}

/**
 * Imports each bundle, and the bare SDK package, in `runs` fresh `node` processes each, interleaved so that
 * a burst of load on the machine hits all of them alike (the OS file cache is warm after the first, as it is
 * on Lambda once the code is on the host). With `kms`, each EIP-1559 child also signs `event` once through it.
 */
export async function measureColdStart(runs: number, event: unknown, kms?: KmsEndpoint): Promise<ColdStartResults> {
  const targets = [
    ...Object.entries(LAMBDA_BUNDLES).map(([kind, path]) => ({ path, specifier: pathToFileURL(resolve(path)).href, sign: kms !== undefined && kind === 'eip1559' })),
    { path: INIT_REFERENCE, specifier: INIT_REFERENCE, sign: false },
  ];
  const samples = new Map<string, ChildSample[]>(targets.map((t) => [t.path, []]));
  const base = { LOG_LEVEL: 'SILENT', ETH_NETWORK: 'sepolia', SIGNING_POLICY_FILE: resolve('examples/policies/allow-all.json') };
  for (let i = 0; i < runs; i++) {
    for (const target of targets) {
      const env = childEnv(
        target.sign && kms
          ? {
              ...base,
              BENCH_EVENT: JSON.stringify(event),
              KMS_KEY_ID: kms.keyId,
              AWS_ENDPOINT_URL_KMS: kms.url,
              AWS_REGION: 'us-east-1',
              AWS_ACCESS_KEY_ID: 'bench',
              AWS_SECRET_ACCESS_KEY: 'bench',
            }
          : base,
      );
      // Asynchronous, so that this process keeps serving whatever it serves meanwhile.
      const child = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD, target.specifier], { encoding: 'utf8', env }).catch(
        (error: { code?: number; stderr?: string }) => {
          throw new Error(`cold start of ${target.path} failed (${error.code}): ${error.stderr}`);
        },
      );
      samples.get(target.path)?.push(JSON.parse(child.stdout) as ChildSample);
    }
  }
  const bundles = Object.values(LAMBDA_BUNDLES).map((path): ColdStartResult => {
    const own = samples.get(path) ?? [];
    const invocations = own.flatMap((s) => (s.firstInvocationMs === null ? [] : [s.firstInvocationMs]));
    return {
      bundle: path,
      bytes: bundleBytes(dirname(resolve(path))),
      importMs: summarize(own.map((s) => s.importMs)),
      processToReadyMs: summarize(own.map((s) => s.processToReadyMs)),
      ...(invocations.length > 0 && { firstInvocationMs: summarize(invocations) }),
    };
  });
  return { bundles, referenceImportMs: summarize((samples.get(INIT_REFERENCE) ?? []).map((s) => s.importMs)) };
}
