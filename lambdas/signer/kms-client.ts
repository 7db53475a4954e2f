import { AsyncLocalStorage } from 'node:async_hooks';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

let shared: KMSClient | undefined;

// The abort signal of the `send` in progress, for the request handler: see createKmsClient.
const callSignal = new AsyncLocalStorage<AbortSignal>();

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

/**
 * The SDK's Node.js HTTP handler, unchanged, except that a request made without an abort signal takes the
 * one of the `send` it belongs to. With the middleware stack cached, the SDK no longer hands a per-call
 * signal to the handler, so this is how a call's signal still reaches its HTTP requests.
 */
class CallSignalHttpHandler extends NodeHttpHandler {
  override handle(request: HttpRequest, options: HttpHandlerOptions = {}) {
    const abortSignal = options.abortSignal ?? callSignal.getStore();
    return super.handle(request, abortSignal ? { ...options, abortSignal } : options);
  }
}

/**
 * A KMS client tuned for the signer's hot path (one `Sign` per signature) through the SDK's own options and
 * extension points only: the default configuration chain still supplies region, credentials, endpoint,
 * retries and SigV4.
 *
 * - `cacheMiddleware`: the SDK resolves the middleware stack once per command class instead of on every
 *   `send` (sorting and cloning a dozen middleware each time was a third of the SDK's CPU per call).
 * - The SDK skips that cache for a `send` with options, so `send(command, { abortSignal })` is routed to
 *   the cached path, with the signal carried to the HTTP handler (which aborts the request in flight and
 *   refuses every later attempt) and the call rejected with an AbortError as soon as the signal fires.
 *   Other options take the SDK's own path.
 * - `requestHandler` accepts the same options as the SDK's (connection/request/socket timeouts, agents), or
 *   a handler instance, which is then used as given (without the abort signal carried to it).
 *
 * `config` is applied last, so a caller may override any of it.
 */
export function createKmsClient(config: KMSClientConfig = {}): KMSClient {
  const { requestHandler, ...rest } = config;
  const handler =
    requestHandler !== undefined && typeof (requestHandler as { handle?: unknown }).handle === 'function'
      ? requestHandler
      : new CallSignalHttpHandler(requestHandler as NodeHttpHandlerOptions | undefined);
  const client = new KMSClient({ cacheMiddleware: true, ...rest, requestHandler: handler });
  // Looked up on every call, so that a test double installed on the class later (aws-sdk-client-mock) applies.
  const send = (command: unknown, options?: unknown, callback?: unknown): Promise<unknown> =>
    (KMSClient.prototype.send as (this: KMSClient, ...args: unknown[]) => Promise<unknown>).call(client, command, options, callback);
  client.send = ((command: unknown, options?: unknown, callback?: unknown) => {
    if (callback === undefined && isSignalOnly(options)) {
      const { abortSignal } = options;
      return abortSignal ? callSignal.run(abortSignal, () => untilAborted(send(command), abortSignal)) : send(command);
    }
    return send(command, options, callback);
  }) as KMSClient['send'];
  return client;
}

/** The call's promise, or an AbortError as soon as the signal fires (also during a retry back-off). */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      call.catch(() => {}); // it ends with an AbortError of its own, which nobody waits for any more
      reject(Object.assign(new Error('Request aborted'), { name: 'AbortError', cause: signal.reason }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(
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

function isSignalOnly(options: unknown): options is { abortSignal?: AbortSignal } {
  if (typeof options !== 'object' || options === null) return false;
  const keys = Object.keys(options);
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'abortSignal');
}

/**
 * The process-wide KMS client (see createKmsClient), built from the SDK's default configuration chain:
 * AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL (how the local stack points it at a
 * local KMS) and AWS_MAX_ATTEMPTS / AWS_RETRY_MODE for the SDK's own retry strategy.
 */
export function sharedKmsClient(): KMSClient {
  shared ??= createKmsClient();
  return shared;
}
