// One DynamoDB call of the policy state under its time limits: the per-call timeout, the invocation's deadline and
// the caller's cancellation, with every failure but a failed condition made a PolicyStateUnavailableError (fail
// closed). The spending store and the idempotency records word their errors differently (callers and their tests
// pin both), so each passes how it words them.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PolicyStateUnavailableError } from './errors';

/** When a store call must give up, in addition to the per-call timeout. */
export interface CallBudget {
  /** Epoch ms (Date.now() clock) by which the call must be over, e.g. now + context.getRemainingTimeInMillis() - margin. */
  readonly deadlineMs?: number;
  /** Aborts the call (and any retry) when signalled. */
  readonly signal?: AbortSignal;
}

/** Why a call did not give an answer, for its caller to word. */
export type CallFailure =
  | { readonly kind: 'cancelled-before' }
  | { readonly kind: 'no-time-before' }
  | { readonly kind: 'cancelled'; readonly error: unknown }
  | { readonly kind: 'timed-out'; readonly timeoutMs: number; readonly error: unknown }
  | { readonly kind: 'failed'; readonly error: unknown };

/** How a caller words a failed call. */
export type CallFailureWording = (failure: CallFailure) => PolicyStateUnavailableError;

/**
 * The time a call may take: at most `callTimeoutMs`, and no later than the budget's deadline. Throws the worded
 * error when the caller has cancelled or no time is left.
 */
export function callTimeLeft(budget: CallBudget, callTimeoutMs: number, word: CallFailureWording): number {
  if (budget.signal?.aborted) throw word({ kind: 'cancelled-before' });
  const left = budget.deadlineMs === undefined ? callTimeoutMs : Math.min(callTimeoutMs, budget.deadlineMs - Date.now());
  if (left <= 0) throw word({ kind: 'no-time-before' });
  return left;
}

/**
 * Runs one DynamoDB call (`call` gets its abort signal) within the budget and the per-call timeout. A failed
 * condition is rethrown as it is (the callers read the item it carries); any other failure is worded by `word`.
 */
export async function policyStateCall<T>(call: (signal: AbortSignal) => Promise<T>, budget: CallBudget, callTimeoutMs: number, word: CallFailureWording): Promise<T> {
  const timeoutMs = callTimeLeft(budget, callTimeoutMs, word);
  const { signal, done } = callSignal(timeoutMs, budget.signal);
  try {
    return await call(signal);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw error;
    if (budget.signal?.aborted) throw word({ kind: 'cancelled', error });
    const name = error instanceof Error ? error.name : '';
    throw word(name === 'AbortError' || name === 'TimeoutError' ? { kind: 'timed-out', timeoutMs: Math.round(timeoutMs), error } : { kind: 'failed', error });
  } finally {
    done();
  }
}

/** The error's name as a failure reason quotes it: at most 80 characters, "unknown error" for a non-Error. */
export function failureName(error: unknown): string {
  return error instanceof Error ? error.name.slice(0, 80) : 'unknown error';
}

/**
 * The abort signal of one DynamoDB call: aborted after `timeoutMs`, or with `caller`'s. One timer, cleared by
 * `done` when the call ends: AbortSignal.timeout's timer would fire seconds after every call, each time making
 * a DOMException and an abort event that nobody listens to any more (measurable CPU per signature).
 */
export function callSignal(timeoutMs: number, caller?: AbortSignal): { signal: AbortSignal; done: () => void } {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  return { signal: caller ? AbortSignal.any([timeout.signal, caller]) : timeout.signal, done: () => clearTimeout(timer) };
}
