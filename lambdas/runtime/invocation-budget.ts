import type { Context } from 'aws-lambda';

/** Time kept back from the invocation's remaining time to log and answer after KMS is given up on. */
export const DEFAULT_TIMEOUT_MARGIN_MS = 1000;

/**
 * The signal that ends the invocation's waiting for KMS: it aborts `marginMs` before Lambda would stop the
 * invocation, so the caller gets KmsUnavailableError instead of "Task timed out". Without a Lambda context
 * (a local call) there is no budget: the KMS client's own timeouts still bound every call.
 */
export function invocationBudget(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, marginMs: number, timers?: InvocationTimers): AbortSignal | undefined {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  const budgetMs = Math.floor(context.getRemainingTimeInMillis() - marginMs);
  const reason = () => new InvocationBudgetExhausted(budgetMs, marginMs);
  return budgetMs > 0 ? timeoutSignal(budgetMs, reason, timers) : AbortSignal.abort(reason());
}

/** A signal that aborts at `deadlineMs` (epoch milliseconds), for a step that carries its own deadline. */
export function signalAt(deadlineMs: number, timers?: InvocationTimers): AbortSignal {
  const ms = Math.floor(deadlineMs - Date.now());
  const reason = () => new InvocationBudgetExhausted(ms, 0);
  return ms > 0 ? timeoutSignal(ms, reason, timers) : AbortSignal.abort(reason());
}

/**
 * The timers behind one invocation's signals, stopped together when it ends: otherwise each would fire at its
 * invocation's deadline, long after the answer, during a later invocation (an Error with its stack, and an abort
 * event to whatever still listens), and a warm instance would hold one pending timer per recent invocation.
 */
export class InvocationTimers {
  readonly #pending = new Set<NodeJS.Timeout>();

  /** Registers a timer, forgotten once it has fired. */
  add(run: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      run();
    }, ms);
    // Unreferenced: a finished invocation's budget must not keep the process (or a test run) alive.
    timer.unref();
    this.#pending.add(timer);
  }

  /** Stops every timer not yet fired: their signals never abort. */
  clear(): void {
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }
}

// The reason is made only when the time runs out: an Error captures a stack trace, and nearly every
// invocation's signal never fires (this runs on every signature).
function timeoutSignal(ms: number, reason: () => Error, timers?: InvocationTimers): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort(reason());
  if (timers) timers.add(abort, ms);
  else setTimeout(abort, ms).unref(); // unreferenced, as InvocationTimers' are
  return controller.signal;
}

/** Why a KMS call was abandoned: the invocation's time ran out (kept as the cause of KmsUnavailableError). */
export class InvocationBudgetExhausted extends Error {
  override readonly name = 'InvocationBudgetExhausted';
  constructor(readonly budgetMs: number, readonly marginMs: number) {
    super(`the invocation's time for KMS (${Math.max(0, budgetMs)} ms: the Lambda's remaining time minus TIMEOUT_MARGIN_MS=${marginMs}) ran out`);
  }
}
