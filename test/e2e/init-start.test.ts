// The built bundle's start at init (scripts/lambda-entry.ts: a top-level await of the handler's start): in a fresh
// process, as Lambda runs it, importing the bundle (the INIT phase) sends GetPublicKey and nothing else (the
// rehearsal of the first signature sends nothing), the first invocation then makes one Sign, and a start that
// fails at init is made again, or reported, by the first invocation. The real local KMS over HTTP, behind a proxy
// that records every call.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Transaction } from 'ethers';
import { SIGNER_NODE_OPTIONS } from '../../lambdas/runtime/config';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy } from '../helpers/dynamodb-fault-proxy';
import { useLocalKmsSigningKey } from '../helpers/local-kms';

jest.setTimeout(60_000);

const BUNDLE = resolve('dist/eip1559/index.mjs');
const transaction = { to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' };

// The child imports the bundle, says so, waits for a line on stdin, invokes the handler once and prints the outcome.
const CHILD = `
import { createInterface } from 'node:readline';
const lambda = await import(process.argv[1]);
process.stdout.write('imported\\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
const context = { functionName: 'eth-signer-eip1559', awsRequestId: 'init-start', getRemainingTimeInMillis: () => 10000 };
const outcome = await lambda.handler(JSON.parse(process.env.EVENT), context).then((response) => ({ response }), (error) => ({ error: { name: error.name, message: error.message } }));
process.stdout.write('outcome ' + JSON.stringify(outcome) + '\\n');
process.exit(0);
`;

interface Outcome {
  readonly response?: { signedTransaction: string };
  readonly error?: { name: string; message: string };
}

/** Starts the bundle in a fresh process; `invoke` sends the first event once the test has looked at the import. */
async function startBundle(env: Record<string, string | undefined>): Promise<{ invoke(): Promise<Outcome> }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, EVENT: JSON.stringify({ operation: 'sign', transaction }) };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, BUNDLE], { env: childEnv, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const next = (prefix: string) =>
    new Promise<string>((done, fail) => {
      const onLine = (line: string) => {
        if (!line.startsWith(prefix)) return;
        lines.off('line', onLine);
        done(line.slice(prefix.length));
      };
      lines.on('line', onLine);
      child.once('exit', (code) => fail(new Error(`the bundle's process exited (${code}) before "${prefix}"`)));
    });
  await next('imported');
  return {
    invoke: async () => {
      const outcome = next('outcome ');
      child.stdin.write('invoke\n');
      return JSON.parse(await outcome) as Outcome;
    },
  };
}

describe('the built bundle started at init', () => {
  const local = useLocalKmsSigningKey();
  let proxy: DynamoDbFaultProxy;
  beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first (npm test does)`);
    proxy = await startDynamoDbFaultProxy(local.kms.url);
  });
  afterAll(() => proxy?.close());
  beforeEach(() => (proxy.calls.length = 0));

  // As the stack deploys it, in Lambda (the start-up self-check passes), pointed at the proxy.
  const lambdaEnv = (): Record<string, string | undefined> => ({
    AWS_LAMBDA_FUNCTION_NAME: 'eth-signer-eip1559',
    NODE_OPTIONS: SIGNER_NODE_OPTIONS,
    POWERTOOLS_METRICS_DISABLED: undefined,
    AWS_ENDPOINT_URL_KMS: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_MAX_ATTEMPTS: '1',
    KMS_KEY_ID: local.keyId,
    ETH_NETWORK: 'sepolia',
    SIGNING_POLICY_FILE: 'examples/policies/allow-all.json',
    LOG_LEVEL: 'SILENT',
    POLICY_TABLE_NAME: undefined,
    IDEMPOTENCY: undefined,
  });
  const operations = () => proxy.calls.map((call) => call.operation);
  const signer = (outcome: Outcome) => Transaction.from(outcome.response?.signedTransaction ?? '').from;

  it('sends GetPublicKey during the import and nothing else; the first invocation then makes one Sign', async () => {
    const bundle = await startBundle(lambdaEnv());
    expect(operations()).toEqual(['GetPublicKey']); // INIT waits for it (at most INIT_WAIT_MS, 1 s)
    const outcome = await bundle.invoke();
    expect(operations()).toEqual(['GetPublicKey', 'Sign']);
    const { address } = await (await import('../../lambdas/signer/kms-key')).fetchKmsKey(local.client, local.keyId);
    expect(signer(outcome)).toBe(address);
  });

  it('sends nothing during the import when KMS_KEY_ID is unset, and the first invocation reports the ConfigurationError', async () => {
    const bundle = await startBundle({ ...lambdaEnv(), KMS_KEY_ID: undefined });
    expect(operations()).toEqual([]);
    const { error } = await bundle.invoke();
    expect(error?.name).toBe('ConfigurationError');
    expect(error?.message).toContain('KMS_KEY_ID is not set');
    expect(operations()).toEqual([]);
  });

  it('looks the key up again on the first invocation when GetPublicKey failed during the import', async () => {
    proxy.inject({ fault: '500-before', operation: 'GetPublicKey' });
    const bundle = await startBundle(lambdaEnv());
    expect(operations()).toEqual(['GetPublicKey']);
    const outcome = await bundle.invoke();
    expect(operations()).toEqual(['GetPublicKey', 'GetPublicKey', 'Sign']);
    expect(outcome.response?.signedTransaction).toMatch(/^0x02/);
  });
});
