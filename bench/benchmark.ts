// The whole benchmark: every measurement in one run, so that the figures are comparable with each other.
import { createHandler } from '../lambdas/handler';
import { KNOWN_KEYS } from '../test/fixtures/known-keys';
import { measureClientCpu, pointSdkAt, type ClientCpuResult } from './client-cpu';
import { measureColdStart, type ColdStartResult, type KmsEndpoint } from './cold-start';
import { createContenders } from './contenders';
import { describeMachine, type MachineInfo } from './machine';
import { measureMemory, type MemoryResult } from './memory';
import { measureNetworkModel, type NetworkModelPlan, type NetworkModelResult } from './network-model';
import { measureOverhead, type OverheadPlan, type OverheadResult } from './overhead';
import { measurePolicyEvaluation } from './policy';
import { precomputeAnswers } from './precompute';
import type { Summary } from './stats';
import { measureThroughput, type ThroughputResult } from './throughput';
import { benchTransactions } from './transactions';

/** How much to measure; `quick` is a smoke run (seconds, meaningless figures) for the test suite. */
export interface BenchPlan {
  readonly overhead: OverheadPlan;
  /** Signatures through the local KMS over HTTP, per contender, for client CPU. */
  readonly clientCpu: OverheadPlan;
  readonly coldStartRuns: number;
  readonly memorySignatures: number;
  readonly throughputSignatures: number;
  readonly concurrencies: readonly number[];
  readonly policyEvaluations: number;
  /** The network model (bench/network-model.ts); absent in a quick run, which must stay short. */
  readonly networkModel?: NetworkModelPlan;
}

/** The plan for figures worth publishing. */
export const FULL_PLAN: BenchPlan = {
  overhead: { warmup: 300, rounds: 10, perRound: 300 },
  clientCpu: { warmup: 300, rounds: 10, perRound: 200 },
  coldStartRuns: 10,
  memorySignatures: 1000,
  throughputSignatures: 1000,
  // 200: the default KMS timeouts must hold for 200 concurrent invocations on one warm instance (no test
  // asserts it: it depends on the machine's speed).
  concurrencies: [1, 8, 32, 200],
  policyEvaluations: 20000,
  networkModel: { warmup: 200, signatures: 200, coldRuns: 5 }, // warm-up as the client-CPU bench's: JIT settled, as on a busy warm instance
};

/** A plan that only proves the benchmark runs. */
export const QUICK_PLAN: BenchPlan = {
  overhead: { warmup: 3, rounds: 2, perRound: 4 },
  clientCpu: { warmup: 2, rounds: 2, perRound: 3 },
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
  /** Client CPU per signature through the local KMS over HTTP; skipped without a local KMS. */
  readonly clientCpu: ClientCpuResult[] | { readonly skipped: string };
  /** Our client CPU per signature / each peer's, same run: below 1 means we use less. */
  readonly clientCpuRatio: Record<string, number>;
  readonly coldStart: ColdStartResult[];
  /** Init of the reference, a bare `import()` of @aws-sdk/client-kms, measured interleaved with the bundles. */
  readonly initReferenceMs: Summary;
  /** Median init of each bundle / median init of the reference, same run. */
  readonly initRatio: Record<string, number>;
  readonly memory: MemoryResult;
  readonly throughput: ThroughputResult[] | { readonly skipped: string };
  /** Signing policy evaluation per transaction, 100 rules and 1,000 addresses (bench/policy.ts), by case. */
  readonly policyEvaluation: Record<string, Summary>;
  /** Latency, CPU and calls per case behind delaying proxies (bench/network-model.ts); skipped in a quick run. */
  readonly networkModel: NetworkModelResult | { readonly skipped: string };
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
    const { bundles: coldStart, referenceImportMs: initReferenceMs } = await measureColdStart(plan.coldStartRuns, firstEvent, local);
    const initRatio = Object.fromEntries(coldStart.map((c) => [c.bundle, c.importMs.median / initReferenceMs.median]));
    const skipped = { skipped: 'no local KMS (scripts/local-kms) in this checkout' };
    let throughput: BenchResults['throughput'] = skipped;
    let clientCpu: BenchResults['clientCpu'] = skipped;
    let clientCpuRatio: BenchResults['clientCpuRatio'] = {};
    if (local) {
      log('client CPU per signature: contenders interleaved, local KMS over HTTP in another process');
      const cpu = await measureClientCpu(local, transactions, plan.clientCpu);
      const ourCpu = cpu[0]?.cpuMs.median ?? Number.NaN;
      clientCpu = cpu;
      clientCpuRatio = Object.fromEntries(cpu.slice(1).map((peer) => [peer.name, ourCpu / peer.cpuMs.median]));
      throughput = [];
      for (const concurrency of plan.concurrencies) {
        log(`throughput at concurrency ${concurrency}: SDK over HTTP to the local KMS`);
        throughput.push(await measureThroughput(localHandler(local), benchTransactions(plan.throughputSignatures).map((t) => t.event), concurrency));
      }
    }
    let networkModel: BenchResults['networkModel'] = { skipped: 'not in this plan (a quick run)' };
    if (plan.networkModel) {
      log('network model: delaying proxies in front of the local KMS and dynalite, one process per case');
      networkModel = await measureNetworkModel(plan.networkModel, log);
    }
    return { date: new Date().toISOString(), quick, machine, plan, overhead, speedup, clientCpu, clientCpuRatio, coldStart, initReferenceMs, initRatio, memory, throughput, policyEvaluation, networkModel };
  } finally {
    await local?.close();
  }
}

/**
 * A warm handler (GetPublicKey already done, one Sign per signature) on the process-wide client, pointed at
 * the local KMS through the environment as on Lambda.
 */
function localHandler(local: LocalKms) {
  pointSdkAt(local);
  const handler = createHandler('eip1559');
  // One status call first, so that the figure is for warm signatures, not the cold GetPublicKey.
  let warmed: Promise<unknown> | undefined;
  return async (event: unknown) => {
    await (warmed ??= handler({ operation: 'status' }));
    return handler(event);
  };
}
