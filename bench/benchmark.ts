// The whole benchmark: every measurement in one run, so that the figures are comparable with each other.
import { KMSClient } from '@aws-sdk/client-kms';
import { createHandler } from '../lambdas/handler';
import { KNOWN_KEYS } from '../test/fixtures/known-keys';
import { measureColdStart, type ColdStartResult, type KmsEndpoint } from './cold-start';
import { createContenders } from './contenders';
import { BENCH_HANDLER_ENV } from './handler-env';
import { describeMachine, type MachineInfo } from './machine';
import { measureMemory, type MemoryResult } from './memory';
import { measureOverhead, type OverheadPlan, type OverheadResult } from './overhead';
import { measurePolicyEvaluation } from './policy';
import { precomputeAnswers } from './precompute';
import type { Summary } from './stats';
import { measureThroughput, type ThroughputResult } from './throughput';
import { benchTransactions } from './transactions';

/** How much to measure; `quick` is a smoke run (seconds, meaningless figures) for the test suite. */
export interface BenchPlan {
  readonly overhead: OverheadPlan;
  readonly coldStartRuns: number;
  readonly memorySignatures: number;
  readonly throughputSignatures: number;
  readonly concurrencies: readonly number[];
  readonly policyEvaluations: number;
}

/** The plan for figures worth publishing. */
export const FULL_PLAN: BenchPlan = {
  overhead: { warmup: 300, rounds: 10, perRound: 300 },
  coldStartRuns: 10,
  memorySignatures: 1000,
  throughputSignatures: 1000,
  concurrencies: [1, 8, 32],
  policyEvaluations: 20000,
};

/** A plan that only proves the benchmark runs. */
export const QUICK_PLAN: BenchPlan = {
  overhead: { warmup: 3, rounds: 2, perRound: 4 },
  coldStartRuns: 1,
  memorySignatures: 10,
  throughputSignatures: 8,
  concurrencies: [1, 8, 32],
  policyEvaluations: 20,
};

/** A local KMS holding a secp256k1 signing key, for the throughput and first-invocation measurements. */
export interface LocalKms extends KmsEndpoint {
  close(): Promise<void>;
}

/** Everything `bench/results.json` holds. */
export interface BenchResults {
  readonly date: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly plan: BenchPlan;
  readonly overhead: OverheadResult[];
  /** Peer median / our median, per peer: above 1 means we are faster. */
  readonly speedup: Record<string, number>;
  readonly coldStart: ColdStartResult[];
  readonly memory: MemoryResult;
  readonly throughput: ThroughputResult[] | { readonly skipped: string };
  /** Signing policy evaluation per transaction, 100 rules and 1,000 addresses (bench/policy.ts), by case. */
  readonly policyEvaluation: Record<string, Summary>;
}

/** Runs every measurement. `startLocalKms` is optional: without it, throughput and the first invocation are skipped. */
export async function runBenchmark(
  plan: BenchPlan,
  { quick = false, startLocalKms, log = () => {} }: { quick?: boolean; startLocalKms?: () => Promise<LocalKms>; log?: (line: string) => void } = {},
): Promise<BenchResults> {
  const machine = describeMachine();
  const key = KNOWN_KEYS[0];
  const { warmup, rounds, perRound } = plan.overhead;
  const transactions = benchTransactions(Math.max(warmup + 1, rounds * perRound, plan.memorySignatures));
  log(`signing ${transactions.length} digests ahead of time (noble, random nonces, no low-s)`);
  const answers = precomputeAnswers(key.privateKey, transactions.map((t) => t.digest));

  log('local overhead per signature: contenders interleaved, KMS in memory');
  const overhead = await measureOverhead(createContenders(answers), transactions, key.address, plan.overhead);
  const ours = overhead[0];
  const speedup = Object.fromEntries(overhead.slice(1).map((peer) => [peer.name, peer.latencyMs.median / (ours?.latencyMs.median ?? Number.NaN)]));

  log(`signing policy evaluation: ${plan.policyEvaluations} per case, 100 rules and 1,000 addresses`);
  const policyEvaluation = measurePolicyEvaluation(plan.policyEvaluations);

  log(`memory: ${plan.memorySignatures} signatures in a fresh process`);
  const memory = await measureMemory(answers, plan.memorySignatures);

  const local = startLocalKms ? await startLocalKms() : undefined;
  try {
    log(`cold start: ${plan.coldStartRuns} fresh node processes per bundle${local ? ', first invocation against the local KMS' : ''}`);
    const firstEvent = transactions[0]?.event;
    const coldStart = await measureColdStart(plan.coldStartRuns, firstEvent, local);
    let throughput: BenchResults['throughput'] = { skipped: 'no local KMS (scripts/local-kms) in this checkout' };
    if (local) {
      throughput = [];
      for (const concurrency of plan.concurrencies) {
        log(`throughput at concurrency ${concurrency}: SDK over HTTP to the local KMS`);
        throughput.push(await measureThroughput(localHandler(local), benchTransactions(plan.throughputSignatures).map((t) => t.event), concurrency));
      }
    }
    return { date: new Date().toISOString(), quick, machine, plan, overhead, speedup, coldStart, memory, throughput, policyEvaluation };
  } finally {
    await local?.close();
  }
}

/** A warm handler (GetPublicKey already done, one Sign per signature) on a client pointed at the local KMS. */
function localHandler(local: LocalKms) {
  Object.assign(process.env, BENCH_HANDLER_ENV, { KMS_KEY_ID: local.keyId });
  const client = new KMSClient({
    endpoint: local.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const handler = createHandler('eip1559', { client });
  // One status call first, so that the figure is for warm signatures, not the cold GetPublicKey.
  let warmed: Promise<unknown> | undefined;
  return async (event: unknown) => {
    await (warmed ??= handler({ operation: 'status' }));
    return handler(event);
  };
}
