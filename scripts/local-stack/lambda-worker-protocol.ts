// The messages between the local Invoke endpoint and a function's worker process (lambda-worker.ts).

/** An invocation sent to a worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly event: unknown;
  readonly requestId: string;
  /** The function's timeout in ms: the context's getRemainingTimeInMillis counts down from it once the handler starts. */
  readonly remainingMs: number;
}

/** The error object the Node.js runtime returns in the payload when a handler throws. */
export interface RuntimeError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** A worker's answer: the handler started (the bundle is loaded: the timeout starts now), its JSON payload, or the error it threw. */
export type WorkerReply =
  | { readonly id: number; readonly started: true }
  | { readonly id: number; readonly ok: true; readonly payload: string }
  | { readonly id: number; readonly ok: false; readonly error: RuntimeError };
