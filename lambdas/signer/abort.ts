/**
 * Waits for `promise`, but rejects with the signal's reason as soon as the signal aborts: a caller whose time
 * is up must not wait for work it can no longer use (the SDK's backoff between retries ignores the signal).
 */
export function untilAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  // Promise.resolve: a test double of the SDK may answer send() with a plain value.
  const promise = Promise.resolve(call);
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined); // its failure no longer concerns anyone
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** An error named AbortError (as the SDK raises when its abortSignal fires), with the signal's reason as cause. */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('The call was abandoned: the time left for it ran out', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}
