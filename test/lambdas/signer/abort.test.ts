// untilAborted and abortError: how a caller stops waiting for a KMS call once its time is up.
import { getEventListeners } from 'node:events';
import { abortError, untilAborted } from '../../../lambdas/signer/abort';
import { rejectionOf } from '../../helpers/rejection';

/** A promise that settles only when told to. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const abortListeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

/** Collects the promise rejections nobody handled while `run` runs (and a few turns of the event loop after). */
async function unhandledRejectionsDuring(run: () => Promise<unknown>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const listener = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return unhandled;
}

describe('untilAborted', () => {
  it('without a signal, waits for the call as it is', async () => {
    await expect(untilAborted(Promise.resolve('signed'), undefined)).resolves.toBe('signed');
    const failure = new Error('KMS said no');
    await expect(untilAborted(Promise.reject(failure), undefined)).rejects.toBe(failure);
  });

  it('accepts a plain value where a promise is expected (a test double of the SDK may answer that way)', async () => {
    const value = { Signature: new Uint8Array(1) };
    await expect(untilAborted(value as unknown as Promise<typeof value>, undefined)).resolves.toBe(value);
    await expect(untilAborted(value as unknown as Promise<typeof value>, new AbortController().signal)).resolves.toBe(value);
  });

  it('passes the result or the failure of a call that ends before the signal aborts, and removes its listener', async () => {
    const controller = new AbortController();
    await expect(untilAborted(Promise.resolve(42), controller.signal)).resolves.toBe(42);
    expect(abortListeners(controller.signal)).toBe(0);
    const failure = new Error('throttled');
    await expect(untilAborted(Promise.reject(failure), controller.signal)).rejects.toBe(failure);
    // One invocation's signal is shared by its GetPublicKey and Sign calls: finished calls must not pile up listeners.
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('keeps the result of a call that ended before a later abort', async () => {
    const controller = new AbortController();
    const call = untilAborted(Promise.resolve('done'), controller.signal);
    await expect(call).resolves.toBe('done');
    controller.abort(new Error('too late'));
    await expect(call).resolves.toBe('done');
  });

  it('rejects with an AbortError as soon as the signal aborts, without waiting for the call', async () => {
    const controller = new AbortController();
    const hung = deferred<string>();
    const call = untilAborted(hung.promise, controller.signal);
    expect(abortListeners(controller.signal)).toBe(1);
    const reason = new Error('budget exhausted');
    controller.abort(reason);
    const error = await rejectionOf(call);
    expect(error).toMatchObject({ name: 'AbortError', message: 'The call was abandoned: the time left for it ran out' });
    expect(error.cause).toBe(reason);
    // The abandoned call keeps no listener on the signal, even though it never ends.
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('rejects at once when the signal has already aborted, even if the call would succeed', async () => {
    const reason = new Error('no time left');
    const error = await rejectionOf(untilAborted(Promise.resolve('signed'), AbortSignal.abort(reason)));
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(error.cause).toBe(reason);
  });

  it('leaves no unhandled rejection behind when a call abandoned before it started fails later', async () => {
    const call = deferred<string>();
    const unhandled = await unhandledRejectionsDuring(async () => {
      await rejectionOf(untilAborted(call.promise, AbortSignal.abort()));
      call.reject(new Error('the abandoned call failed'));
    });
    expect(unhandled).toEqual([]);
  });
});

describe('abortError', () => {
  it('is an Error named AbortError, as the SDK raises, with the signal reason as cause', () => {
    const reason = new Error('why');
    const controller = new AbortController();
    controller.abort(reason);
    const error = abortError(controller.signal);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AbortError');
    expect(error.message).toBe('The call was abandoned: the time left for it ran out');
    expect(error.cause).toBe(reason);
  });
});
