import { AsyncLocalStorage } from 'node:async_hooks';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { getUserAgentMiddlewareOptions, userAgentMiddleware } from '@aws-sdk/core/client';
import { HttpRequest as SmithyHttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { BuildHandler, BuildHandlerArguments, BuildMiddleware, HttpHandlerOptions, MetadataBearer } from '@smithy/types';
import { untilAborted } from './abort';

// The `send` in progress, for the request handler: its abort signal (see createKmsClient), what to call when
// its HTTP request is handed over (see requestsDispatched), and whether it is a rehearsal (see rehearseCall).
const currentCall = new AsyncLocalStorage<{ readonly signal?: AbortSignal; readonly dispatched: () => void; readonly rehearsal?: true }>();

// Calls sent through a trimmed client whose HTTP request has not reached the request handler yet.
let undispatched = 0;
let dispatchWaiters: (() => void)[] = [];

/**
 * Resolves once every call sent so far through a trimmed client (KMS, DynamoDB) has handed its HTTP request to
 * the request handler, or has ended. A cold start awaits it before its local work: the SDK's first call spends
 * tens of milliseconds of CPU (credentials, endpoint, signing) before anything is on the wire, and local work run
 * first would delay the request by all of its own time instead of overlapping the network wait.
 */
export function requestsDispatched(): Promise<void> {
  return undispatched === 0 ? Promise.resolve() : new Promise((resolve) => dispatchWaiters.push(resolve));
}

function trackDispatch(): () => void {
  undispatched++;
  let pending = true;
  return () => {
    if (!pending) return;
    pending = false;
    if (--undispatched > 0) return;
    const waiters = dispatchWaiters;
    dispatchWaiters = [];
    for (const resolve of waiters) resolve();
  };
}

type HttpRequest = Parameters<NodeHttpHandler['handle']>[0];

/**
 * The SDK's Node.js HTTP handler, unchanged, except that a request made without an abort signal takes the
 * one of the `send` it belongs to. With the middleware stack cached, the SDK no longer hands a per-call
 * signal to the handler, so this is how a call's signal still reaches its HTTP requests.
 */
class CallSignalHttpHandler extends NodeHttpHandler {
  override handle(request: HttpRequest, options: HttpHandlerOptions = {}) {
    const call = currentCall.getStore();
    call?.dispatched();
    if (call?.rehearsal) return Promise.reject(new RehearsalEndedError());
    const abortSignal = options.abortSignal ?? call?.signal;
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
 * - The SDK's user-agent middleware builds the same two headers on every call (escaping each section with
 *   regular expressions, about 40 µs of CPU per call); here it runs until its answer stops changing and the
 *   headers are then reused (see cachedUserAgent).
 * - The logger middleware is removed: the client has no logger (the SDK's default discards everything), yet
 *   that middleware still ran the input and output of every call through the sensitive-data log filter.
 * - `requestHandler` accepts the same options as the SDK's (connection/request/socket timeouts, agents), or
 *   a handler instance, which is then used as given (without the abort signal carried to it).
 *
 * `config` is applied last, so a caller may override any of it.
 */
export function createKmsClient(config: KMSClientConfig = {}): KMSClient {
  return createTrimmedClient(KMSClient, config);
}

/** The configuration every AWS SDK v3 client accepts that the trimming below touches. */
interface TrimmableConfig {
  requestHandler?: unknown;
  logger?: unknown;
  cacheMiddleware?: boolean;
}

/** An AWS SDK v3 client class, e.g. KMSClient or DynamoDBClient. */
interface SdkClientClass<C, Config extends TrimmableConfig> {
  new (config: Config): C;
  prototype: { send(...args: never[]): Promise<unknown> };
}

/**
 * Any AWS SDK v3 client (KMS, DynamoDB) trimmed for a hot path as createKmsClient describes: cached middleware
 * stack, calls with only an abort signal routed to the cached path (the signal carried to the HTTP handler),
 * the user-agent headers computed until stable, no logger middleware.
 */
export function createTrimmedClient<C extends { middlewareStack: { remove(toRemove: string): boolean }; config: object; send: unknown }, Config extends TrimmableConfig>(
  Client: SdkClientClass<C, Config>,
  config: Config,
): C {
  const { requestHandler, ...rest } = config;
  const handler =
    requestHandler !== undefined && typeof (requestHandler as { handle?: unknown }).handle === 'function'
      ? requestHandler
      : new CallSignalHttpHandler(requestHandler as NodeHttpHandlerOptions | undefined);
  const client = new Client({ cacheMiddleware: true, ...rest, requestHandler: handler } as Config);
  if (!rest.logger) client.middlewareStack.remove('loggerMiddleware');
  client.middlewareStack.remove('getUserAgentMiddleware'); // the SDK's name for it (getUserAgentMiddlewareOptions.name)
  // The user-agent middleware reads only the configuration every SDK client has (versions, app id, retry mode).
  // Aliased by the SDK's name: middleware a caller places relative to it still finds it.
  (client.middlewareStack as unknown as KMSClient['middlewareStack']).add(cachedUserAgent(client.config as KMSClient['config']), {
    ...getUserAgentMiddlewareOptions,
    name: 'cachedUserAgentMiddleware',
    aliases: ['getUserAgentMiddleware'],
  });
  // Looked up on every call, so that a test double installed on the class later (aws-sdk-client-mock) applies.
  const send = (command: unknown, options?: unknown, callback?: unknown): Promise<unknown> =>
    (Client.prototype.send as unknown as (this: C, ...args: unknown[]) => Promise<unknown>).call(client, command, options, callback);
  client.send = ((command: unknown, options?: unknown, callback?: unknown) => {
    const dispatched = trackDispatch();
    const sent = (): Promise<unknown> => {
      if (callback === undefined && isSignalOnly(options)) {
        const { abortSignal } = options;
        return currentCall.run({ ...(abortSignal && { signal: abortSignal }), dispatched }, () => (abortSignal ? untilAborted(send(command), abortSignal) : send(command)));
      }
      return currentCall.run({ dispatched }, () => send(command, options, callback));
    };
    // Promise.resolve: a class-level test double (aws-sdk-client-mock) may answer with a plain value.
    return Promise.resolve(sent()).finally(dispatched);
  }) as C['send'];
  if (handler instanceof CallSignalHttpHandler) {
    rehearsals.set(client, async (command) => {
      // Only through the SDK's own send: a class-level test double (aws-sdk-client-mock) would count it as a call.
      if (Object.hasOwn(Client.prototype, 'send')) return false;
      await currentCall.run({ dispatched: () => undefined, rehearsal: true }, () => send(command)).catch((error: unknown) => {
        if (!(error instanceof RehearsalEndedError)) throw error;
      });
      return true;
    });
  }
  return client;
}

// How each trimmed client built with its own HTTP handler rehearses a call (see rehearseCall).
const rehearsals = new WeakMap<object, (command: unknown) => Promise<boolean>>();

/**
 * Runs `command` through `client`'s whole middleware stack (serialisation, endpoint, credentials, SigV4 signing)
 * up to its HTTP handler, which refuses it: nothing is sent. A cold start rehearses the calls its first signature
 * makes while GetPublicKey is on the wire, so that the SDK's first-call work on a cold V8 (compiling its code,
 * resolving credentials and the endpoint) is not done again on the critical path. Resolves false, having done
 * nothing, for a client that was not built here with its own HTTP handler (a caller's handler could send it);
 * rejects if the SDK fails before the HTTP handler (e.g. no region).
 */
export function rehearseCall(client: object, command: unknown): Promise<boolean> {
  return rehearsals.get(client)?.(command) ?? Promise.resolve(false);
}

/** How a rehearsal (rehearseCall) ends: at the HTTP handler, before anything is sent. */
class RehearsalEndedError extends Error {
  override readonly name = 'RehearsalEndedError';
}

type UserAgentHeaders = Readonly<Record<'user-agent' | 'x-amz-user-agent', string | undefined>>;

/**
 * The SDK's own user-agent middleware, run until two calls in a row produce the same headers (the first call
 * may still be adding feature flags to the shared context), after which those headers are set directly.
 * They depend on the client's configuration (SDK and Node versions, app id, retry mode, features), not on the
 * request, so every later call sends what the SDK would have computed. A caller's middleware that adds its
 * own section to the per-call context on every call keeps them changing, so they are computed on every call;
 * one that repeats a section for two calls and then changes it would be missed (no such middleware is added
 * by this project or by the SDK for KMS). A request that already carries an x-amz-user-agent header (set by a
 * caller's middleware) changes what the SDK writes, so it always goes through the SDK's middleware and is never
 * remembered.
 */
function cachedUserAgent(config: KMSClient['config']): BuildMiddleware<object, MetadataBearer> {
  const sdkMiddleware = userAgentMiddleware(config);
  return (next: BuildHandler<object, MetadataBearer>, context) => {
    let computed: UserAgentHeaders | undefined;
    let stable: UserAgentHeaders | undefined;
    const preset = new WeakSet<object>(); // requests that arrived with their own x-amz-user-agent
    const remember = (args: BuildHandlerArguments<object>) => {
      // Stryker disable next-line ConditionalExpression: every KMS request is an HTTP request
      if (SmithyHttpRequest.isInstance(args.request) && !preset.has(args.request)) {
        const { headers } = args.request;
        const latest = { 'user-agent': headers['user-agent'], 'x-amz-user-agent': headers['x-amz-user-agent'] };
        if (computed && sameHeaders(computed, latest)) stable = latest;
        computed = latest;
      }
      return next(args);
    };
    const compute = sdkMiddleware(remember, context);
    return async (args) => {
      // Stryker disable next-line ConditionalExpression: every KMS request is an HTTP request
      if (!SmithyHttpRequest.isInstance(args.request)) return compute(args);
      if (args.request.headers['x-amz-user-agent'] !== undefined) {
        preset.add(args.request);
        return compute(args);
      }
      if (!stable) return compute(args);
      // Stryker disable next-line ConditionalExpression: the SDK always sets both headers
      for (const [name, value] of Object.entries(stable)) if (value !== undefined) args.request.headers[name] = value;
      return next(args);
    };
  };
}

function sameHeaders(a: UserAgentHeaders, b: UserAgentHeaders): boolean {
  // x-amz-user-agent is made of sections user-agent also carries (aws-sdk-*, the custom user agent), so
  // it never changes while user-agent stays the same.
  return a['user-agent'] === b['user-agent'];
}

function isSignalOnly(options: unknown): options is { abortSignal?: AbortSignal } {
  if (typeof options !== 'object' || options === null) return false;
  const keys = Object.keys(options);
  return keys.length === 0 || (keys.length === 1 && keys[0] === 'abortSignal');
}

/**
 * How long one KMS call may take. The SDK sets no timeout by default: a KMS endpoint that accepts the
 * connection and never answers would hold the call until Lambda kills the invocation, and the SDK's retries
 * would never start. Every timeout of the signer's KMS client is set here, in one place.
 */
export interface KmsTimeouts {
  /** Connection setup (TCP and TLS) of one attempt (KMS_CONNECT_TIMEOUT_MS). */
  readonly connectTimeoutMs: number;
  /** One attempt, from sending the request to the end of the answer, and the longest silence on the socket (KMS_REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included (AWS_MAX_ATTEMPTS); absent: the SDK's default, 3. */
  readonly maxAttempts?: number;
}

/**
 * A healthy in-region Sign answers in tens of milliseconds, but 200 concurrent calls on a busy 2-core machine
 * took over 2 s each: a 1-2 s timeout failed half of them, 4 s none.
 */
export const DEFAULT_KMS_TIMEOUTS: KmsTimeouts = { connectTimeoutMs: 3000, requestTimeoutMs: 4000 };

/** The part of a KMSClient's configuration that bounds how long a call waits. */
export function kmsTimeoutConfig(timeouts: KmsTimeouts): Pick<KMSClientConfig, 'requestHandler' | 'maxAttempts'> {
  return {
    requestHandler: {
      connectionTimeout: timeouts.connectTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      socketTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true, // otherwise the SDK only logs a warning when requestTimeout passes
    },
    ...(timeouts.maxAttempts !== undefined && { maxAttempts: timeouts.maxAttempts }),
  };
}

const shared = new Map<string, KMSClient>();

/**
 * The process-wide KMS client for these timeouts (see createKmsClient), built from the SDK's default
 * configuration chain: AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL (how the local stack
 * points it at a local KMS) and AWS_RETRY_MODE for the SDK's own retry strategy.
 */
export function sharedKmsClient(timeouts: KmsTimeouts = DEFAULT_KMS_TIMEOUTS): KMSClient {
  const id = JSON.stringify([timeouts.connectTimeoutMs, timeouts.requestTimeoutMs, timeouts.maxAttempts]);
  let client = shared.get(id);
  if (!client) shared.set(id, (client = createKmsClient(kmsTimeoutConfig(timeouts))));
  return client;
}
