// The network model (issue 27): delaying proxies in front of the local KMS and dynalite (15/5 ms and 30/8 ms per
// call), the signer handler run as one warm Lambda instance per case in a process of its own, with its logs and
// metrics on (deployed) and off (trimmed): latency median and p99, handler CPU per signature, and the calls each
// case makes; then the first invocation of a fresh process (the built bundle) against one warm signature plus
// one GetPublicKey. `tsx bench/network-model.ts [--quick]` runs it alone; `npm run bench` runs it with the rest.
// `--only 3 --cpu-prof DIR` runs the no-table case and case 3 at 15/5 ms only, each worker under V8's profiler;
// `--cold-only` only what the cold starts need (their two cases, deployed, at 15/5 ms) and the cold starts;
// `--cold-node BIN` runs the cold starts' fresh processes on another node (e.g. the Lambda runtime's major).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { bundleForChild } from './bundle';
import { LAMBDA_BUNDLES } from './cold-start';
import { childEnv } from './memory';
import { SIGNER_NODE_OPTIONS } from '../lambdas/runtime/config';
import type { NetworkCaseFigures } from './network-model-worker';
import { summarize, type Summary } from './stats';

/** How much to measure. */
export interface NetworkModelPlan {
  readonly warmup: number;
  readonly signatures: number;
  /** Fresh processes per cold-start case. */
  readonly coldRuns: number;
  /** Writes a V8 CPU profile of each warm case's worker (readable bundle) into this directory: for finding what to cut, not for figures. */
  readonly cpuProfileDir?: string;
  /** Only these cases (indices into NETWORK_CASES; the no-table baseline is always run) at only the first delay setting, no cold starts: a profiling run. */
  readonly only?: readonly number[];
  /** Only what the cold starts are compared with (the two cold-start cases, deployed, at the first delay setting), then the cold starts. */
  readonly coldOnly?: boolean;
  /** The node binary of the cold starts' fresh processes (default: this one), e.g. one of the Lambda runtime's major. */
  readonly coldNode?: string;
}

/** Injected one-way delays per call: every answer is held this long by the proxy. */
export const NETWORK_DELAYS = [
  { kmsMs: 15, dynamodbMs: 5 },
  { kmsMs: 30, dynamodbMs: 8 },
] as const;

/**
 * The configurations the handler runs in: as deployed (INFO logs and EMF metrics on stdout, the stack's
 * NODE_OPTIONS, in "Lambda": AWS_LAMBDA_FUNCTION_NAME set, so the start-up self-check of lambdas/runtime/config.ts
 * runs and passes) and trimmed (no logs, metrics off: outside Lambda, where that check does not apply). An
 * undefined value removes the variable.
 */
export const CONFIGURATIONS: Record<'deployed' | 'trimmed', Record<string, string | undefined>> = {
  deployed: { LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: undefined, POWERTOOLS_METRICS_NAMESPACE: 'KmsEthSigner', NODE_OPTIONS: SIGNER_NODE_OPTIONS, AWS_LAMBDA_FUNCTION_NAME: 'eth-signer-eip1559' },
  trimmed: { LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true', NODE_OPTIONS: undefined, AWS_LAMBDA_FUNCTION_NAME: undefined },
};

interface NetworkCase {
  readonly name: string;
  readonly table: boolean;
  readonly idempotency: 'on' | 'off';
  readonly policy: object;
  readonly refused?: boolean;
  /** Time between two signatures (not measured): long enough that each finds its limit's oldest bucket expired. */
  readonly pauseMs?: number;
}

const allowAll = { version: 1, rules: [{ id: 'any', effect: 'allow' }] };
const withLimit = (name: string, window: string, maxCount: number) => ({ version: 1, limits: [{ name, window, maxCount }], rules: [{ id: 'any', effect: 'allow' }] });

/** The cases of issue 27's table, in its order. */
export const NETWORK_CASES: readonly NetworkCase[] = [
  { name: 'no table', table: false, idempotency: 'off', policy: allowAll },
  { name: 'table, no limit (idempotency on, the CDK default)', table: true, idempotency: 'on', policy: allowAll },
  { name: 'limit, idempotency off', table: true, idempotency: 'off', policy: withLimit('bench-limit', '24h', 1_000_000_000) },
  { name: 'limit + idempotency (the CDK default with limits)', table: true, idempotency: 'on', policy: withLimit('bench-limit-idem', '24h', 1_000_000_000) },
  { name: 'over the limit, limit + idempotency', table: true, idempotency: 'on', policy: withLimit('bench-over', '24h', 0), refused: true },
  // A 1 s window has 42 ms buckets: with 60 ms between signatures, each finds the oldest bucket expired.
  { name: 'sparse traffic (a bucket expired before each signature), limit', table: true, idempotency: 'off', policy: withLimit('bench-sparse', '1s', 1_000_000_000), pauseMs: 60 },
];

/** One case in one configuration at one delay. */
export interface NetworkCaseResult {
  readonly case: string;
  readonly configuration: keyof typeof CONFIGURATIONS;
  readonly kmsMs: number;
  readonly dynamodbMs: number;
  readonly latencyMs: Summary;
  readonly cpuMsPerSignature: number;
  /** The system (kernel) part of cpuMsPerSignature. */
  readonly systemCpuMsPerSignature: number;
  /** This case's CPU per signature / the no-table case's, same configuration and delay. */
  readonly cpuRatioToNoTable: number;
  readonly kmsCalls: Record<string, number>;
  readonly dynamodbCalls: Record<string, number>;
  /** Mean time the local KMS and dynalite took per call, beside the injected delays (part of every leg here). */
  readonly kmsServiceMs: number;
  readonly dynamodbServiceMs: number;
}

/**
 * A first invocation against its target, at the first delay setting (15/5 ms), deployed configuration; and, to
 * tell work removed from work moved into init, the whole cold start (import start to first response) against the
 * same bundle started on its first invocation, in the same run.
 */
export interface NetworkColdStart {
  readonly case: string;
  /** The handler's first invocation, the bundle imported as in Lambda (its start at init awaited by the import). */
  readonly firstInvocationMs: Summary;
  readonly warmSignatureMedianMs: number;
  readonly getPublicKeyMedianMs: number;
  /** firstInvocationMs median / (warm signature + GetPublicKey): the goal is at most 1.5. */
  readonly ratio: number;
  /** import() of the bundle: Lambda's INIT phase, the start at init included. */
  readonly importMs: Summary;
  /** From the start of import() to the first response: what the first caller of an on-demand instance waits for (less Node's own start). */
  readonly importToResponseMs: Summary;
  /** The reference: the same bundle outside Lambda (no AWS_LAMBDA_FUNCTION_NAME), which starts on its first invocation. */
  readonly reference: { readonly importMs: Summary; readonly firstInvocationMs: Summary; readonly importToResponseMs: Summary };
  /** importToResponseMs median / the reference's: below 1, work was removed; about 1, only moved into init. */
  readonly importToResponseRatio: number;
}

/** Everything the network model reports. */
export interface NetworkModelResult {
  readonly cases: NetworkCaseResult[];
  readonly coldStart: NetworkColdStart[] | { readonly skipped: string };
}

interface Stack {
  readonly kms: string;
  readonly dynamodb: string;
  readonly keyId: string;
  readonly tableName: string;
  setDelays(delays: { kmsMs: number; dynamodbMs: number }): Promise<void>;
  close(): Promise<void>;
}

async function startStack(): Promise<Stack> {
  // Run through tsx, not bundled: dynalite's storage is a native addon (and none of this process's CPU is measured).
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/network-stack-process.ts'], { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv() });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((done, fail) => {
    lines.once('line', done);
    child.once('exit', (code) => fail(new Error(`the network stack process exited (${code})`)));
  });
  const ready = JSON.parse(await next()) as Pick<Stack, 'kms' | 'dynamodb' | 'keyId' | 'tableName'>;
  return {
    ...ready,
    setDelays: async (delays) => {
      const answered = next();
      child.stdin.write(`${JSON.stringify(delays)}\n`);
      await answered;
    },
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

function handlerEnv(stack: Stack, policyFile: string, spec: NetworkCase, configuration: keyof typeof CONFIGURATIONS): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL_KMS: stack.kms,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamodb,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    KMS_KEY_ID: stack.keyId,
    ETH_NETWORK: 'sepolia',
    SIGNING_POLICY_FILE: policyFile,
    IDEMPOTENCY: spec.table ? spec.idempotency : '', // no table: no policy-state code loaded at all
    POLICY_TABLE_NAME: spec.table ? stack.tableName : '',
    ...CONFIGURATIONS[configuration],
  };
}

/** Runs every case at every delay in both configurations, then the cold starts. */
export async function measureNetworkModel(plan: NetworkModelPlan, log: (line: string) => void = () => undefined): Promise<NetworkModelResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kms-eth-signer-network-'));
  const policies = NETWORK_CASES.map((spec, i) => {
    const file = join(dir, `policy-${i}.json`);
    writeFileSync(file, JSON.stringify(spec.policy));
    return file;
  });
  const worker = await bundleForChild('bench/network-model-worker.ts', { readable: plan.cpuProfileDir !== undefined });
  const profile = plan.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${plan.cpuProfileDir}`];
  const stack = await startStack();
  const cases: NetworkCaseResult[] = [];
  const warmFigures = new Map<string, NetworkCaseFigures>();
  let run = 0;
  try {
    const only = plan.coldOnly ? COLD_START_CASES : plan.only;
    for (const delays of only ? NETWORK_DELAYS.slice(0, 1) : NETWORK_DELAYS) {
      await stack.setDelays(delays);
      for (const configuration of (plan.coldOnly ? ['deployed'] : Object.keys(CONFIGURATIONS)) as (keyof typeof CONFIGURATIONS)[]) {
        const figures: NetworkCaseFigures[] = [];
        for (const [i, spec] of NETWORK_CASES.entries()) {
          if (only && i !== 0 && !only.includes(i)) continue;
          log(`network model ${delays.kmsMs}/${delays.dynamodbMs} ms, ${configuration}: ${spec.name}`);
          const out = join(dir, `figures-${++run}.json`);
          const flags = profile.length > 0 ? [...profile, `--cpu-prof-name=${delays.kmsMs}-${delays.dynamodbMs}-${configuration}-case${i}.cpuprofile`] : [];
          await runChild(worker, [], {
            ...handlerEnv(stack, policies[i] ?? '', spec, configuration),
            BENCH_NM_SIGNATURES: String(plan.signatures),
            BENCH_NM_WARMUP: String(plan.warmup),
            BENCH_NM_PAUSE_MS: String(spec.pauseMs ?? 0),
            BENCH_NM_REFUSED: spec.refused ? '1' : '0',
            BENCH_NM_RUN: `${process.pid}-${run}`,
            BENCH_NM_OUT: out,
          }, false, flags);
          const result = JSON.parse(readFileSync(out, 'utf8')) as NetworkCaseFigures;
          figures.push(result);
          warmFigures.set(`${delays.kmsMs}/${configuration}/${spec.name}`, result);
        }
        const baseline = figures[0]?.cpuMsPerSignature ?? Number.NaN;
        const ran = NETWORK_CASES.filter((_, i) => !only || i === 0 || only.includes(i));
        figures.forEach((result, i) =>
          cases.push({
            case: ran[i]?.name ?? '',
            configuration,
            ...delays,
            latencyMs: summarize(result.latencyMs),
            cpuMsPerSignature: result.cpuMsPerSignature,
            systemCpuMsPerSignature: result.systemCpuMsPerSignature,
            cpuRatioToNoTable: result.cpuMsPerSignature / baseline,
            kmsCalls: result.kmsCalls,
            dynamodbCalls: result.dynamodbCalls,
            kmsServiceMs: result.kmsServiceMs,
            dynamodbServiceMs: result.dynamodbServiceMs,
          }),
        );
      }
    }
    const coldStart = plan.only ? { skipped: 'a profiling run (--only)' } : await measureColdStarts(plan, stack, policies, warmFigures, log);
    return { cases, coldStart };
  } finally {
    await stack.close();
  }
}

// The cases whose first invocation is measured: no table, and the CDK default with limits.
const COLD_START_CASES = [0, 3] as const;

// A fresh process imports the built bundle (Lambda's init: the start at init is awaited by the import in Lambda),
// then invokes it at once (an on-demand cold start: the event is already waiting) and times that first invocation.
const COLD_CHILD = `
const started = performance.now();
const lambda = await import(process.argv[1]);
const imported = performance.now();
const deadline = Date.now() + 10000;
const context = { functionName: 'eth-signer-eip1559', awsRequestId: crypto.randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() };
const response = await lambda.handler(JSON.parse(process.env.BENCH_EVENT), context);
const answered = performance.now();
if (!response.signedTransaction) throw new Error('no signed transaction');
process.stderr.write('BENCH_COLD ' + JSON.stringify({ importMs: imported - started, firstInvocationMs: answered - imported }) + '\\n');
process.exit(0);
`;

async function measureColdStarts(plan: NetworkModelPlan, stack: Stack, policies: string[], warm: Map<string, NetworkCaseFigures>, log: (line: string) => void): Promise<NetworkColdStart[] | { skipped: string }> {
  const bundle = resolve(LAMBDA_BUNDLES.eip1559);
  try {
    readFileSync(bundle);
  } catch {
    return { skipped: `no ${LAMBDA_BUNDLES.eip1559}: run npm run build first` };
  }
  const [first] = NETWORK_DELAYS;
  await stack.setDelays(first);
  const results: NetworkColdStart[] = [];
  for (const index of COLD_START_CASES) {
    const spec = NETWORK_CASES[index];
    if (!spec) continue;
    log(`network model cold start ${first.kmsMs}/${first.dynamodbMs} ms: ${spec.name}`);
    const samples = { lambda: [] as ColdSample[], reference: [] as ColdSample[] };
    for (let i = 0; i < plan.coldRuns; i++) {
      // Interleaved, so that the load of the moment weighs on both alike.
      for (const variant of ['lambda', 'reference'] as const) {
        const event = { operation: 'sign', idempotencyKey: `cold-${process.pid}-${index}-${i}-${variant}`, transaction: { to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '1', nonce: i, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' } };
        const env = { ...handlerEnv(stack, policies[index] ?? '', spec, 'deployed'), BENCH_EVENT: JSON.stringify(event), ...(variant === 'reference' && { AWS_LAMBDA_FUNCTION_NAME: undefined }) };
        const { stderr } = await runChild(COLD_CHILD, [bundle], env, true, [], plan.coldNode);
        const line = stderr.split('\n').find((text) => text.startsWith('BENCH_COLD '));
        samples[variant].push(JSON.parse(line?.slice('BENCH_COLD '.length) ?? '{}') as ColdSample);
      }
    }
    const figures = warm.get(`${first.kmsMs}/deployed/${spec.name}`);
    const warmMedian = summarize(figures?.latencyMs ?? []).median;
    const getPublicKeyMedian = summarize(figures?.getPublicKeyMs ?? []).median;
    const [lambda, reference] = [samples.lambda, samples.reference].map((runs) => ({
      importMs: summarize(runs.map((run) => run.importMs)),
      firstInvocationMs: summarize(runs.map((run) => run.firstInvocationMs)),
      importToResponseMs: summarize(runs.map((run) => run.importMs + run.firstInvocationMs)),
    })) as [ColdFigures, ColdFigures];
    results.push({
      case: spec.name,
      ...lambda,
      warmSignatureMedianMs: warmMedian,
      getPublicKeyMedianMs: getPublicKeyMedian,
      ratio: lambda.firstInvocationMs.median / (warmMedian + getPublicKeyMedian),
      reference,
      importToResponseRatio: lambda.importToResponseMs.median / reference.importToResponseMs.median,
    });
  }
  return results;
}

interface ColdSample {
  readonly importMs: number;
  readonly firstInvocationMs: number;
}
type ColdFigures = NetworkColdStart['reference'];

const execFileAsync = promisify(execFile);

async function runChild(script: string, args: string[], env: Record<string, string | undefined>, inline = false, nodeFlags: string[] = [], node = process.execPath): Promise<{ stderr: string }> {
  const argv = inline ? ['--input-type=module', '-e', script, ...args] : [...nodeFlags, script, ...args];
  const set = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const unset = Object.keys(env).filter((name) => env[name] === undefined);
  const childEnvironment = childEnv(set);
  for (const name of unset) delete childEnvironment[name];
  const { stderr } = await execFileAsync(node, argv, { env: childEnvironment, maxBuffer: 256 * 1024 * 1024, timeout: 600_000 });
  return { stderr };
}

/** The network model as Markdown: one table per delay, deployed first, then the cold starts. */
export function networkModelMarkdown(result: NetworkModelResult): string {
  const lines: string[] = ['## Network model (delaying proxies in front of the local KMS and dynalite)', ''];
  const calls = (counts: Record<string, number>) => Object.entries(counts).map(([operation, n]) => `${operation} ${Number(n.toFixed(2))}`).join(', ') || '0';
  for (const delays of NETWORK_DELAYS) {
    lines.push(`### ${delays.kmsMs} ms per KMS call, ${delays.dynamodbMs} ms per DynamoDB call`, '');
    lines.push('| case | configuration | median ms | p99 ms | handler CPU ms / signature (system part) | CPU × no table | KMS calls / signature | DynamoDB calls / signature | far side ms / call beside the delay (KMS, DynamoDB) |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const row of result.cases.filter((r) => r.kmsMs === delays.kmsMs)) {
      lines.push(`| ${row.case} | ${row.configuration} | ${row.latencyMs.median.toFixed(1)} | ${row.latencyMs.p99.toFixed(1)} | ${row.cpuMsPerSignature.toFixed(2)} (${row.systemCpuMsPerSignature.toFixed(2)}) | ${row.cpuRatioToNoTable.toFixed(2)} | ${calls(row.kmsCalls)} | ${calls(row.dynamodbCalls)} | ${row.kmsServiceMs.toFixed(1)}, ${row.dynamodbServiceMs.toFixed(1)} |`);
    }
    lines.push('');
  }
  if ('skipped' in result.coldStart) lines.push(`First invocation: skipped (${result.coldStart.skipped}).`);
  else {
    lines.push('### First invocation (fresh process, built bundle, deployed configuration, 15/5 ms)', '', '| case | first invocation median ms | warm signature median ms | GetPublicKey median ms | first / (warm + GetPublicKey) |', '| --- | --- | --- | --- | --- |');
    for (const row of result.coldStart) lines.push(`| ${row.case} | ${row.firstInvocationMs.median.toFixed(1)} | ${row.warmSignatureMedianMs.toFixed(1)} | ${row.getPublicKeyMedianMs.toFixed(1)} | ${row.ratio.toFixed(2)} |`);
    lines.push('', '#### Moved or removed: import start to first response, against the same bundle started on its first invocation (same run)', '');
    lines.push('| case | import (INIT) median ms | first invocation median ms | import start to first response median ms | reference (no start at init): import, first invocation, import start to first response, median ms | import to response / reference |', '| --- | --- | --- | --- | --- | --- |');
    for (const row of result.coldStart) {
      const { reference } = row;
      lines.push(`| ${row.case} | ${row.importMs.median.toFixed(1)} | ${row.firstInvocationMs.median.toFixed(1)} | ${row.importToResponseMs.median.toFixed(1)} | ${reference.importMs.median.toFixed(1)}, ${reference.firstInvocationMs.median.toFixed(1)}, ${reference.importToResponseMs.median.toFixed(1)} | ${row.importToResponseRatio.toFixed(2)} |`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('network-model.ts')) {
  const quick = process.argv.includes('--quick');
  const count = (flag: string, fallback: number) => (process.argv.includes(flag) ? Number(process.argv[process.argv.indexOf(flag) + 1]) : fallback);
  const option = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  const cpuProfileDir = option('--cpu-prof');
  const only = option('--only')?.split(',').map(Number);
  const coldNode = option('--cold-node');
  const plan: NetworkModelPlan = {
    ...(quick ? { warmup: 2, signatures: 5, coldRuns: 1 } : { warmup: count('--warmup', 200), signatures: count('--signatures', 200), coldRuns: count('--cold-runs', 5) }),
    ...(cpuProfileDir !== undefined && { cpuProfileDir: resolve(cpuProfileDir) }),
    ...(only !== undefined && { only }),
    ...(process.argv.includes('--cold-only') && { coldOnly: true }),
    ...(coldNode !== undefined && { coldNode }),
  };
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  measureNetworkModel(plan, (line) => process.stderr.write(`bench: ${line}\n`)).then(
    (result) => {
      const out = process.argv[process.argv.indexOf('--out') + 1];
      if (process.argv.includes('--out') && out) writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), plan, ...result }, null, 2)}\n`);
      process.stdout.write(`${networkModelMarkdown(result)}\n`);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
