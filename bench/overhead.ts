// Local overhead per signature: contenders interleaved round by round on the same transactions and answers.
import { Transaction } from 'ethers';
import { SECP256K1_HALF_N } from '../lambdas/signer/curve';
import type { Contender } from './contenders';
import { spreadPercent, summarize, type Summary } from './stats';
import type { BenchTransaction } from './transactions';

/** How long to measure: warm-up signatures, then rounds of signatures per contender. */
export interface OverheadPlan {
  readonly warmup: number;
  readonly rounds: number;
  readonly perRound: number;
}

/** One contender's figures: per-signature latency, the spread of round medians, and KMS calls. */
export interface OverheadResult {
  readonly name: string;
  readonly latencyMs: Summary;
  readonly roundMediansMs: number[];
  readonly roundSpreadPercent: number;
  readonly kmsCalls: { readonly cold: number; readonly warm: number };
}

const gc: (() => void) | undefined = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

/**
 * Measures each contender's whole signing path with KMS answered in memory. The first signature counts the
 * cold KMS calls; warm-up follows; then, in every round, each contender signs `perRound` transactions in
 * turn, the order rotating between rounds (ABC, BCA, CAB) so that neither drift nor GC favours one of them.
 * Every signed transaction is checked to come from `address` with a low s: a fast wrong answer is no answer.
 */
export async function measureOverhead(
  contenders: readonly Contender[],
  transactions: readonly BenchTransaction[],
  address: string,
  plan: OverheadPlan,
): Promise<OverheadResult[]> {
  const pick = (i: number): BenchTransaction => {
    const transaction = transactions[i % transactions.length];
    if (!transaction) throw new Error('no transactions to sign');
    return transaction;
  };
  const cold = new Map<Contender, number>();
  for (const contender of contenders) {
    check(contender, await contender.sign(pick(0)), address);
    cold.set(contender, contender.kms.calls.GetPublicKey + contender.kms.calls.Sign);
    for (let i = 1; i <= plan.warmup; i++) check(contender, await contender.sign(pick(i)), address);
  }

  const samples = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  const roundMedians = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  const callsBefore = new Map<Contender, number>(contenders.map((c) => [c, c.kms.calls.GetPublicKey + c.kms.calls.Sign]));
  for (let round = 0; round < plan.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length];
      if (!contender) continue;
      gc?.(); // start every block with a clean heap, so one block does not pay for another's garbage
      const block: number[] = [];
      for (let i = 0; i < plan.perRound; i++) {
        const transaction = pick(round * plan.perRound + i);
        const started = performance.now();
        const signed = await contender.sign(transaction);
        block.push(performance.now() - started);
        if (i === 0) check(contender, signed, address);
      }
      samples.get(contender)?.push(...block);
      roundMedians.get(contender)?.push(summarize(block).median);
    }
  }

  return contenders.map((contender) => {
    const all = samples.get(contender) ?? [];
    const medians = roundMedians.get(contender) ?? [];
    const warmCalls = contender.kms.calls.GetPublicKey + contender.kms.calls.Sign - (callsBefore.get(contender) ?? 0);
    return {
      name: contender.name,
      latencyMs: summarize(all),
      roundMediansMs: medians,
      roundSpreadPercent: spreadPercent(medians),
      kmsCalls: { cold: cold.get(contender) ?? Number.NaN, warm: warmCalls / (all.length || 1) },
    };
  });
}

function check(contender: Contender, serialized: string, address: string): void {
  const transaction = Transaction.from(serialized);
  const s = transaction.signature ? BigInt(transaction.signature.s) : 0n;
  if (transaction.from !== address || s > SECP256K1_HALF_N) {
    throw new Error(`${contender.name} returned a transaction from ${transaction.from}, not ${address}, or with a high s`);
  }
}
