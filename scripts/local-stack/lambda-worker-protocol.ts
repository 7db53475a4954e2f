// The messages between the local Invoke endpoint and a function's worker process (lambda-worker.ts).

/** An invocation sent to a worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly event: unknown;
  readonly requestId: string;
  /** What the function's timeout leaves of the invocation, in ms: the context's getRemainingTimeInMillis counts down from it. */
  readonly remainingMs: number;
}

/** The error object the Node.js runtime returns in the payload when a handler throws. */
export interface RuntimeError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** A worker's answer: the JSON payload, or the error the handler threw. */
export type WorkerReply = { readonly id: number; readonly ok: true; readonly payload: string } | { readonly id: number; readonly ok: false; readonly error: RuntimeError };
