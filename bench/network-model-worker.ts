// Child process: one case of the network model, measured as one warm Lambda instance would run it. The handler
// (bundled, with the process-wide KMS and DynamoDB clients the environment points at the delaying proxies) signs
// BENCH_NM_WARMUP then BENCH_NM_SIGNATURES transactions one after another; writes the figures to BENCH_NM_OUT.
import { writeFileSync } from 'node:fs';
import { createHandler } from '../lambdas/handler';
import { sharedKmsClient } from '../lambdas/signer/kms-client';
import { fetchKmsKey } from '../lambdas/signer/kms-key';
import { lambdaContext } from '../scripts/local-stack/lambda-context';

/** What the worker reports for its case. */
export interface NetworkCaseFigures {
  readonly latencyMs: number[];
  /** CPU (user + system) of this process per measured signature. */
  readonly cpuMsPerSignature: number;
  /** The part of it spent in the kernel (sockets, pipes): on loopback the peer's TCP receive path runs in the sender's system call too. */
  readonly systemCpuMsPerSignature: number;
  /** Calls per measured signature, by operation, as the proxies counted them. */
  readonly kmsCalls: Record<string, number>;
  readonly dynamodbCalls: Record<string, number>;
  /** Mean time the local KMS and dynalite took per call (their proxies' measure, injected delay excluded). */
  readonly kmsServiceMs: number;
  readonly dynamodbServiceMs: number;
  /** Warm GetPublicKey round trips (the same client), for the cold-start target. */
  readonly getPublicKeyMs: number[];
  readonly refused: number;
}

const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

async function counts(endpoint: string): Promise<Record<string, number>> {
  return (await (await fetch(`${endpoint}/__calls`)).json()) as Record<string, number>;
}

/** The far side's answering time so far, as its proxy measured it (injected delay excluded). */
async function upstreamTime(endpoint: string): Promise<{ calls: number; totalMs: number }> {
  return (await (await fetch(`${endpoint}/__upstream`)).json()) as { calls: number; totalMs: number };
}

/** Mean far-side milliseconds per call between two readings of upstreamTime. */
function meanMs(before: { calls: number; totalMs: number }, after: { calls: number; totalMs: number }): number {
  const calls = after.calls - before.calls;
  return calls === 0 ? 0 : (after.totalMs - before.totalMs) / calls;
}

function perSignature(before: Record<string, number>, after: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([operation, count]) => [operation, (count - (before[operation] ?? 0)) / n]).filter(([, perSig]) => perSig !== 0));
}

async function main(): Promise<void> {
  const signatures = Number(process.env.BENCH_NM_SIGNATURES);
  const warmup = Number(process.env.BENCH_NM_WARMUP);
  const pauseMs = Number(process.env.BENCH_NM_PAUSE_MS ?? '0');
  const expectRefusal = process.env.BENCH_NM_REFUSED === '1';
  const run = process.env.BENCH_NM_RUN ?? String(process.pid);
  const handler = createHandler('eip1559');
  const context = () => lambdaContext('eth-signer-eip1559', 10_000);
  let refused = 0;
  const sign = async (nonce: number) => {
    const event = { operation: 'sign', idempotencyKey: `${run}-${nonce}`, transaction: { to: RECIPIENT, value: '1', nonce, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' } };
    try {
      const response = await handler(event, context());
      if (!('signedTransaction' in response)) throw new Error('the handler did not sign');
    } catch (error) {
      if (!expectRefusal || (error as Error).name !== 'SpendingLimitExceededError') throw error;
      refused++;
    }
  };
  await handler({ operation: 'status' }, context());
  for (let i = 0; i < warmup; i++) await sign(i);
  const pause = () => (pauseMs > 0 ? new Promise((resolve) => setTimeout(resolve, pauseMs)) : Promise.resolve());
  const kmsBefore = await counts(process.env.AWS_ENDPOINT_URL_KMS ?? '');
  const dynamoBefore = await counts(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '');
  const kmsTimeBefore = await upstreamTime(process.env.AWS_ENDPOINT_URL_KMS ?? '');
  const dynamoTimeBefore = await upstreamTime(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '');
  const latencyMs: number[] = [];
  let cpuMicros = 0;
  let systemMicros = 0;
  refused = 0;
  for (let i = 0; i < signatures; i++) {
    await pause();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await sign(warmup + i);
    latencyMs.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    systemMicros += used.system;
  }
  const kmsCalls = perSignature(kmsBefore, await counts(process.env.AWS_ENDPOINT_URL_KMS ?? ''), signatures);
  const dynamodbCalls = perSignature(dynamoBefore, await counts(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''), signatures);
  const kmsServiceMs = meanMs(kmsTimeBefore, await upstreamTime(process.env.AWS_ENDPOINT_URL_KMS ?? ''));
  const dynamodbServiceMs = meanMs(dynamoTimeBefore, await upstreamTime(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? ''));
  const getPublicKeyMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await fetchKmsKey(sharedKmsClient(), process.env.KMS_KEY_ID ?? '');
    getPublicKeyMs.push(performance.now() - started);
  }
  const figures: NetworkCaseFigures = { latencyMs, cpuMsPerSignature: cpuMicros / 1000 / signatures, systemCpuMsPerSignature: systemMicros / 1000 / signatures, kmsCalls, dynamodbCalls, kmsServiceMs, dynamodbServiceMs, getPublicKeyMs, refused };
  writeFileSync(process.env.BENCH_NM_OUT ?? '', JSON.stringify(figures));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
