import type { TransactionRequest } from 'ethers';
import { evaluatePolicy, PolicyDeniedError, type CompiledPolicy, type PolicyDecision, type PolicyRequest, type RuleMiss, type SpendCharge } from '../policy';
import { logger } from '../runtime/logger';

/**
 * Where spending is counted (the DynamoDB store in lambdas/policy-state): `reserve` is atomic across all
 * charges and throws when a limit would be exceeded or the store is unavailable (fail closed); `release`
 * gives a reservation back when signing fails after it.
 */
export interface SpendingReserver<R = unknown> {
  reserve(charges: readonly SpendCharge[], options: { keyArn: string; reservationId: string; nowMs?: number; deadlineMs?: number; retryKey?: string }): Promise<R>;
  /** Gives a reservation back by `deadlineMs` (the invocation's, so that the caller is answered before Lambda's timeout). */
  release(reservation: R, budget?: { deadlineMs?: number }): Promise<void>;
}

/** Whose reservation it is, and by when its reserve and (if signing fails) its release must be over. */
export interface ReservationTarget {
  readonly keyArn: string;
  readonly reservationId: string;
  /** When the reservation must be made by (it precedes KMS). */
  readonly deadlineMs?: number;
  /** When a release must be over by: the invocation's end less the time to answer; undefined gives the store's own call timeout. */
  readonly releaseDeadlineMs?: number;
  /** The same for every retry of the request (its idempotency hash), so that a refusal can tell a retry: see ReserveOptions. */
  readonly retryKey?: string;
}

/** An allow decision. */
export type PolicyAllow = Extract<PolicyDecision, { allowed: true }>;

/** The decision as the check operation returns it: JSON-safe (amounts as decimal strings). */
export interface CheckResponse {
  readonly allowed: boolean;
  readonly ruleId?: string;
  readonly reason?: string;
  readonly closest?: readonly RuleMiss[];
  readonly charges?: readonly { readonly limitId: string; readonly amount: string; readonly asset: string }[];
  /** What remains of each limit the transaction would be charged to, read (not counted) from the spending store. */
  readonly limits?: readonly LimitStandingResponse[];
  /** Why `limits` is missing although the transaction would be charged to limits: sign may still refuse it. */
  readonly limitsUnknown?: string;
}

/** One limit in a check response: JSON-safe (amounts as decimal strings, time as ISO 8601). */
export interface LimitStandingResponse {
  readonly limitId: string;
  readonly asset: string;
  readonly windowSeconds: number;
  /** What this transaction would add. */
  readonly amount: string;
  readonly remainingAmount?: string;
  readonly remainingCount?: number;
  /** When the oldest counted spending leaves the window. */
  readonly nextReleaseAt?: string;
  /** False: signing now would exceed this limit, and sign would refuse. */
  readonly fits: boolean;
}

/** The part of a limit's standing that a check response carries (lambdas/policy-state/spending-remaining.ts). */
export interface LimitStanding {
  readonly limitId: string;
  readonly asset: string;
  readonly windowSeconds: number;
  readonly amount: bigint;
  readonly remainingAmount?: bigint;
  readonly remainingCount?: number;
  readonly nextReleaseMs?: number;
  readonly fits: boolean;
}

/** What the policy sees of a validated transaction request (see lambdas/events/request.ts). */
export function toPolicyRequest(transaction: TransactionRequest, chainId: bigint, replayProtection: boolean): PolicyRequest {
  const big = (value: unknown): bigint | undefined => (value === undefined || value === null ? undefined : BigInt(value as bigint));
  const gasLimit = big(transaction.gasLimit);
  const gasPrice = big(transaction.gasPrice);
  const maxFeePerGas = big(transaction.maxFeePerGas);
  const maxPriorityFeePerGas = big(transaction.maxPriorityFeePerGas);
  return {
    ...(replayProtection && { chainId }),
    type: Number(transaction.type ?? 0),
    ...(typeof transaction.to === 'string' && { to: transaction.to }),
    value: big(transaction.value) ?? 0n,
    data: typeof transaction.data === 'string' ? transaction.data : '0x',
    preEip155: !replayProtection,
    ...(gasLimit !== undefined && { gasLimit }),
    ...(gasPrice !== undefined && { gasPrice }),
    ...(maxFeePerGas !== undefined && { maxFeePerGas }),
    ...(maxPriorityFeePerGas !== undefined && { maxPriorityFeePerGas }),
  };
}

/**
 * The policy between a validated request and KMS: decides, refuses with PolicyDeniedError before anything
 * is signed, and counts spending in the store (when the allow carries charges) around the signature.
 */
export class PolicyGate {
  constructor(
    readonly policy: CompiledPolicy,
    private readonly store?: SpendingReserver,
  ) {}

  /** True when the policy declares spending limits, which need a store to be counted. */
  get hasLimits(): boolean {
    return this.policy.keyLimits.length > 0 || this.policy.allowRules.some((rule) => rule.limits.length > 0);
  }

  /** The decision, without acting on it. */
  decide(request: PolicyRequest): PolicyDecision {
    return evaluatePolicy(this.policy, request);
  }

  /** The allow decision, or PolicyDeniedError. */
  authorize(request: PolicyRequest): PolicyAllow {
    const decision = this.decide(request);
    if (!decision.allowed) throw new PolicyDeniedError(decision.ruleId, decision.reason);
    return decision;
  }

  /**
   * Runs `sign` under the decision's spending reservation; see `start`. With no charges nothing but `sign` happens.
   */
  withReservation<T>(decision: PolicyAllow, target: ReservationTarget, sign: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.start(decision, target, sign).result;
  }

  /**
   * Reserves the decision's charges first and only then runs `sign`, releasing if it fails: a refusal costs no
   * KMS call. For the message operations, where a Sign spent on a refusal is not worth the round trip it saves.
   */
  async reserveThenSign<T>(decision: PolicyAllow, target: ReservationTarget, sign: () => Promise<T>): Promise<T> {
    if (decision.charges.length === 0) return sign();
    const { store } = this;
    if (!store) throw new Error(NO_STORE); // the handler's start() refuses this configuration
    const { releaseDeadlineMs, ...reserveTarget } = target;
    const held = await store.reserve(decision.charges, reserveTarget);
    try {
      return await sign();
    } catch (error) {
      await releaseBy(store, releaseDeadlineMs)(held);
      throw error;
    }
  }

  /**
   * Starts the reservation of the decision's charges and `sign` at once (KMS does not wait for DynamoDB), but
   * `result` gives the signature only once the reservation has committed: a refused or failed reservation
   * aborts `sign` and drops whatever it returns, unseen (no response, log or record ever holds it), and a failed
   * `sign` releases the reservation by the target's release deadline. A limit refusal may thus cost one KMS
   * Sign; a policy denial never reaches here. With no charges, `result` is just `sign`.
   */
  start<T>(decision: PolicyAllow, target: ReservationTarget, sign: (signal: AbortSignal) => Promise<T>): ReservedSigning<T> {
    const signing = new AbortController();
    if (decision.charges.length === 0) return reservedSigning(sign(signing.signal), signing, async () => undefined);
    const { store } = this;
    if (!store) {
      // the handler's start() refuses this configuration; here it would be a programming error, and nothing is signed.
      return reservedSigning(Promise.reject(new Error(NO_STORE)), signing, async () => undefined);
    }
    const { releaseDeadlineMs, ...reserveTarget } = target;
    const release = releaseBy(store, releaseDeadlineMs);
    const reserving = store.reserve(decision.charges, reserveTarget);
    const signature = sign(signing.signal);
    signature.catch(() => undefined); // awaited below, or dropped with a failed reservation
    const result = (async () => {
      let held: unknown;
      try {
        held = await reserving;
      } catch (error) {
        signing.abort(); // the signature, if KMS already made it, is dropped here
        throw error;
      }
      try {
        return await signature;
      } catch (error) {
        await release(held);
        throw error;
      }
    })();
    return reservedSigning(result, signing, async () => {
      // Made, but not wanted (a replay): give the reservation back.
      const held = await reserving.catch(() => undefined);
      if (held !== undefined) await release(held);
    });
  }
}

const NO_STORE = 'the policy has spending limits but no spending store is configured';

/**
 * Gives a reservation back after signing failed, by the invocation's release deadline (not a call timeout of its
 * own: the caller must be answered). A failed release is logged, not thrown: the reservation only makes the limit
 * stricter until its window passes, and the signing error matters more.
 */
function releaseBy(store: SpendingReserver, releaseDeadlineMs: number | undefined): (held: unknown) => Promise<void> {
  const budget = { ...(releaseDeadlineMs !== undefined && { deadlineMs: releaseDeadlineMs }) };
  return (held) => store.release(held, budget).catch((releaseError: unknown) => logger.error('could not release a spending reservation after signing failed', releaseError as Error));
}

/** Signing under a reservation, started: see PolicyGate.start. */
export interface ReservedSigning<T> {
  /** The signature, once the reservation it is counted under has committed. */
  readonly result: Promise<T>;
  /**
   * Gives up on `result` (the request turned out to be a replay, or another invocation is signing it): aborts
   * Sign and gives back the reservation, if one was made and signing did not already give it back.
   */
  abandon(): Promise<void>;
}

/** The handle of a started signing: its result, and how to give it up. */
function reservedSigning<T>(result: Promise<T>, signing: AbortController, releaseWanted: () => Promise<void>): ReservedSigning<T> {
  result.catch(() => undefined); // a result never claimed must not be an unhandled rejection
  return {
    result,
    abandon: async () => {
      signing.abort();
      const outcome = await result.then(
        () => 'signed' as const,
        () => 'failed' as const,
      );
      // A failed result has released its reservation already (the store releases a reservation once anyway).
      if (outcome === 'signed') await releaseWanted();
    },
  };
}

/** The check operation's answer. */
export function toCheckResponse(decision: PolicyDecision): CheckResponse {
  if (!decision.allowed) return { allowed: false, ...(decision.ruleId !== undefined && { ruleId: decision.ruleId }), reason: decision.reason, closest: decision.closest };
  return {
    allowed: true,
    ruleId: decision.ruleId,
    charges: decision.charges.map((charge) => ({ limitId: charge.limit.id, amount: charge.amount.toString(), asset: charge.limit.asset })),
  };
}

/**
 * An allowed check response with what remains of its limits; when a limit would be exceeded, the answer is
 * allowed: false with that limit named, which is what sign would answer now.
 */
export function withLimitStandings(response: CheckResponse, standings: readonly LimitStanding[]): CheckResponse {
  const limits = standings.map((standing): LimitStandingResponse => ({
    limitId: standing.limitId,
    asset: standing.asset,
    windowSeconds: standing.windowSeconds,
    amount: standing.amount.toString(),
    ...(standing.remainingAmount !== undefined && { remainingAmount: standing.remainingAmount.toString() }),
    ...(standing.remainingCount !== undefined && { remainingCount: standing.remainingCount }),
    ...(standing.nextReleaseMs !== undefined && { nextReleaseAt: new Date(standing.nextReleaseMs).toISOString() }),
    fits: standing.fits,
  }));
  const over = limits.find((limit) => !limit.fits);
  if (!over) return { ...response, limits };
  const left = [over.remainingAmount !== undefined && `${over.remainingAmount} remain`, over.remainingCount !== undefined && `${over.remainingCount} signature(s) remain`].filter(Boolean).join(', ');
  return {
    ...response,
    allowed: false,
    reason: `The policy allows it (rule "${response.ruleId ?? ''}"), but spending limit "${over.limitId.slice(0, 120)}" would be exceeded now: this transaction adds ${over.amount} and 1 signature; ${left || 'nothing remains'} in the ${over.windowSeconds} s window. sign would refuse it.`,
    limits,
  };
}
