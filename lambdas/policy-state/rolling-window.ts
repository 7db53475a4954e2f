// The arithmetic of one rolling-window spending limit, kept pure so that it can be tested without DynamoDB.
//
// A window of W ms is cut into BUCKETS_PER_WINDOW buckets of S = ceil(W / BUCKETS_PER_WINDOW) ms, aligned on
// the epoch: bucket i spans [i·S, (i+1)·S). A charge made at time t lands in bucket floor(t / S) and keeps
// counting until the WHOLE bucket has left the window, i.e. until (i+1)·S + W. So a charge counts for at least
// W and at most W + S: the cap is never exceeded over any window of length W (it is conservative by at most
// one bucket, 1/24 of the window: 1 h of a 24 h window), and the state of a limit is bounded (≤ 25 buckets).
//
// Amounts are exact bigints. DynamoDB numbers hold 38 significant digits, so a cap above 10^36 is counted
// in units of 10^u (u = digits - 36): charges are rounded UP and the cap DOWN, which can only refuse a
// little early, never let more through.
import type { SpendingLimit } from '../policy/spending';
import { InvalidSpendingLimitError, type LimitRemaining } from './errors';

/** How many buckets one window is cut into: the granularity (and the most the window over-counts). */
export const BUCKETS_PER_WINDOW = 24;
/** Longest accepted window: a year. */
export const MAX_WINDOW_SECONDS = 366 * 24 * 3600;
const MAX_STORED_DIGITS = 36;

/** How a limit is laid out in buckets and units; stored with its state so that a policy change is detected. */
export interface WindowLayout {
  readonly windowMs: number;
  readonly spanMs: number;
  /** Amounts are counted in units of 10^unitExponent; -1 when the limit has no amount cap (amounts are not counted). */
  readonly unitExponent: number;
}

/** What one bucket holds: the sum of amounts (in units of the layout) and the number of signatures. */
export interface Bucket {
  readonly amount: bigint;
  readonly count: number;
}

/** The counted state of one limit: its layout and its buckets by index. */
export interface WindowState {
  readonly layout: WindowLayout;
  readonly buckets: ReadonlyMap<number, Bucket>;
}

/** Checks a limit handed over by the policy layer and derives its layout. */
export function layoutOf(limit: SpendingLimit): WindowLayout {
  const { windowSeconds, maxAmount, maxCount } = limit;
  if (typeof limit.id !== 'string' || limit.id.length === 0 || limit.id.length > 256) {
    throw new InvalidSpendingLimitError('A spending limit id must be a string of 1 to 256 characters.');
  }
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
    throw new InvalidSpendingLimitError(`Spending limit "${limit.id.slice(0, 80)}": windowSeconds must be an integer from 1 to ${MAX_WINDOW_SECONDS}.`);
  }
  if (maxAmount !== undefined && (typeof maxAmount !== 'bigint' || maxAmount < 0n)) {
    throw new InvalidSpendingLimitError(`Spending limit "${limit.id.slice(0, 80)}": maxAmount must be a non-negative bigint.`);
  }
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 0)) {
    throw new InvalidSpendingLimitError(`Spending limit "${limit.id.slice(0, 80)}": maxCount must be a non-negative safe integer.`);
  }
  const windowMs = windowSeconds * 1000;
  return {
    windowMs,
    spanMs: Math.ceil(windowMs / BUCKETS_PER_WINDOW),
    unitExponent: maxAmount === undefined ? -1 : Math.max(0, maxAmount.toString().length - MAX_STORED_DIGITS),
  };
}

/** The index of the bucket that a charge made at `nowMs` lands in. */
export function bucketIndexAt(nowMs: number, layout: WindowLayout): number {
  return Math.floor(nowMs / layout.spanMs);
}

/** When bucket `index` stops counting: once its whole span has left the window. */
export function bucketExpiryMs(index: number, layout: WindowLayout): number {
  return (index + 1) * layout.spanMs + layout.windowMs;
}

/** An amount in the layout's units, rounded up (0 when the layout does not count amounts). */
export function toUnits(amount: bigint, layout: WindowLayout): bigint {
  if (layout.unitExponent < 0) return 0n;
  const unit = 10n ** BigInt(layout.unitExponent);
  return (amount + unit - 1n) / unit;
}

/** The cap in the layout's units, rounded down. */
export function capUnits(maxAmount: bigint, layout: WindowLayout): bigint {
  return maxAmount / 10n ** BigInt(Math.max(0, layout.unitExponent));
}

/**
 * Brings a stored state to the current layout at `nowMs`: drops buckets whose span has left the window,
 * moves buckets of an older layout (changed window) into the new bucket holding their last millisecond
 * (so they count at least as long as before), and rescales amounts (rounding up) if the cap's unit changed.
 */
export function liveState(stored: WindowState | undefined, layout: WindowLayout, nowMs: number, maxAmount?: bigint): WindowState {
  const buckets = new Map<number, Bucket>();
  if (!stored) return { layout, buckets };
  const old = stored.layout;
  // Callers pass maxAmount and layout from the same limit (layoutOf), so a cap means amounts are counted.
  const ceiling = maxAmount === undefined ? undefined : capUnits(maxAmount, layout) + 1n;
  for (const [index, bucket] of stored.buckets) {
    // In an unchanged layout this is the bucket itself (exact: (index + 1) * span stays below 2^53).
    const target = Math.floor(((index + 1) * old.spanMs - 1) / layout.spanMs);
    if (bucketExpiryMs(target, layout) <= nowMs) continue;
    let amount = rescale(bucket.amount, old.unitExponent, layout.unitExponent);
    // A bucket over the (possibly lowered) cap refuses everything while it lives; more than cap + 1 adds nothing
    // and could overflow DynamoDB's 38 digits.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: > undefined is false; = keeps it
    if (ceiling !== undefined && amount > ceiling) amount = ceiling;
    const previous = buckets.get(target);
    buckets.set(target, { amount: (previous?.amount ?? 0n) + amount, count: (previous?.count ?? 0) + bucket.count });
  }
  return { layout, buckets };
}

function rescale(amount: bigint, fromExponent: number, toExponent: number): bigint {
  if (toExponent < 0) return 0n;
  if (fromExponent < 0) return 0n; // amounts were not counted before the cap existed
  // Stryker disable next-line EqualityOperator: for equal exponents both branches scale by 10^0
  if (toExponent >= fromExponent) {
    const unit = 10n ** BigInt(toExponent - fromExponent);
    return (amount + unit - 1n) / unit;
  }
  return amount * 10n ** BigInt(fromExponent - toExponent);
}

/** Sums of a state's buckets, and when its oldest bucket stops counting (0 when it has none). */
export function totalsOf(state: WindowState): { amount: bigint; count: number; pruneAtMs: number } {
  let amount = 0n;
  let count = 0;
  let pruneAtMs = 0;
  for (const [index, bucket] of state.buckets) {
    amount += bucket.amount;
    count += bucket.count;
    const expiry = bucketExpiryMs(index, state.layout);
    pruneAtMs = pruneAtMs === 0 ? expiry : Math.min(pruneAtMs, expiry);
  }
  return { amount, count, pruneAtMs };
}

/** What is left of `limit` in a live state (amounts back in base units). */
export function remainingOf(state: WindowState, limit: SpendingLimit): LimitRemaining {
  const { amount, count, pruneAtMs } = totalsOf(state);
  const unit = 10n ** BigInt(Math.max(0, state.layout.unitExponent));
  const remainingAmount = limit.maxAmount === undefined ? undefined : maxOf(0n, capUnits(limit.maxAmount, state.layout) - amount) * unit;
  return {
    limitId: limit.id,
    windowSeconds: limit.windowSeconds,
    asset: limit.asset,
    ...(remainingAmount !== undefined && { remainingAmount }),
    ...(limit.maxCount !== undefined && { remainingCount: Math.max(0, limit.maxCount - count) }),
    ...(pruneAtMs > 0 && { nextReleaseMs: pruneAtMs }),
  };
}

/** Whether adding `units` and one signature to a live state would take it over the limit's caps. */
export function wouldExceed(state: WindowState, limit: SpendingLimit, units: bigint): boolean {
  const { amount, count } = totalsOf(state);
  if (limit.maxAmount !== undefined && amount + units > capUnits(limit.maxAmount, state.layout)) return true;
  return count + 1 > (limit.maxCount ?? Number.POSITIVE_INFINITY);
}

/** The state with `units` and `signatures` added to (or, negative, taken from) bucket `index`, never below zero. */
export function withCharge(state: WindowState, index: number, units: bigint, signatures: number): WindowState {
  const buckets = new Map(state.buckets);
  const previous = buckets.get(index) ?? { amount: 0n, count: 0 };
  buckets.set(index, { amount: maxOf(0n, previous.amount + units), count: Math.max(0, previous.count + signatures) });
  return { layout: state.layout, buckets };
}

function maxOf(a: bigint, b: bigint): bigint {
  // Stryker disable next-line EqualityOperator: for equal values either is the maximum
  return a > b ? a : b;
}
