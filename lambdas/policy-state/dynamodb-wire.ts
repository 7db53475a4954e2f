// The policy state's DynamoDB calls on the wire, without the SDK's per-call middleware (issue 27).
//
// A DynamoDB call through the SDK spends about as much CPU in its middleware (schema serde, endpoint rules, auth
// scheme and identity resolution, retry bookkeeping) as in HTTP and SigV4 together; the signer makes two per
// signature on its hot path. DynamoDB's JSON protocol needs none of that work per call: the request body is the
// input as JSON (the item attributes the policy state writes are S, N, M, L, BOOL and NULL, which JSON carries as
// they are), and the answer is the output as JSON. So a client made with `createWireClient` sends its first call
// per table through the SDK, records the request the SDK made (endpoint, path, user agent), and sends later calls
// itself, with the SDK's own parts: its credentials and SigV4 signer, its HTTP handler (timeouts, keep-alive, the
// abort signal), its retry strategy (attempts, backoff, throttling classification), and what its middleware does
// with an answer: the clock offset taken from every answer's Date (a "Signature expired" retried with the corrected
// time), the modelled error classes (ConditionalCheckFailedException with the item DynamoDB returns) with the
// answer's fields, $metadata with the attempts, binary (B, BS) values read as Uint8Array. It also checks the
// answer's x-amz-crc32 (the SDK v3 does not; a mismatch is retried as the SDK v2 retried it) and names an answer
// that is not DynamoDB's JSON by its HTTP status (e.g. Http502Error). What it leaves to the SDK: an input holding a
// binary value (JSON.stringify cannot write it as DynamoDB reads it), a request the SDK built with a query string,
// any client not made here (e.g. a test's). Not copied: the SDK's amz-sdk-invocation-id / amz-sdk-request headers
// (informational) and the trace context of Lambda's invoke store (only _X_AMZN_TRACE_ID, which suffices outside
// multi-concurrency runtimes). test/lambdas/policy-state/dynamodb-wire.test.ts specifies it against the SDK path.
import { crc32 } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  GetItemCommand,
  InternalServerError,
  InvalidEndpointException,
  ItemCollectionSizeLimitExceededException,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  ReplicatedWriteConflictException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionConflictException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { decorateServiceException } from '@smithy/core/client';
import { HttpRequest, type HttpResponse } from '@smithy/core/protocols';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { fromBase64 } from '@smithy/core/serde';
import type { RequestSigner, RetryErrorType, RetryStrategyV2, SdkError, StandardRetryToken } from '@smithy/types';
import { untilAborted } from '../signer/abort';

/** The DynamoDB operations the policy state uses, with their inputs and what it reads of their outputs. */
export interface WireOperations {
  GetItem: { input: ConstructorParameters<typeof GetItemCommand>[0]; output: { Item?: Record<string, AttributeValue> } };
  PutItem: { input: ConstructorParameters<typeof PutItemCommand>[0]; output: { Attributes?: Record<string, AttributeValue> } };
  UpdateItem: { input: ConstructorParameters<typeof UpdateItemCommand>[0]; output: { Attributes?: Record<string, AttributeValue> } };
}
/** One of the operations the policy state calls. */
export type WireOperation = keyof WireOperations;

const COMMANDS = { GetItem: GetItemCommand, PutItem: PutItemCommand, UpdateItem: UpdateItemCommand } as const;

/** Where the SDK sent a table's requests, and the user-agent headers it sent with them. */
interface RecordedTarget {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly userAgent: Readonly<Record<string, string>>;
}

interface WireState {
  readonly targets: Map<string, RecordedTarget>;
  /** The client's own SigV4 signer (its credentials provider refreshes the credentials as the SDK's would). */
  signer?: Promise<RequestSigner>;
}

const wireClients = new WeakMap<DynamoDBClient, WireState>();

/**
 * Lets `client` send the policy state's calls on the wire (see the module comment) once the SDK has sent one to the
 * same table. Returns the client.
 */
export function createWireClient(client: DynamoDBClient): DynamoDBClient {
  const state: WireState = { targets: new Map() };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: unknown };
      // Stryker disable next-line ConditionalExpression: every request the DynamoDB client builds is an HTTP request
      if (HttpRequest.isInstance(args.request) && typeof input.TableName === 'string' && !state.targets.has(input.TableName) && Object.hasOwn(COMMAND_NAMES, String(context.commandName))) {
        const { protocol, hostname, port, path, headers, query } = args.request;
        // A request with a query string is not one this module rebuilds: such a table keeps the SDK path. (The SDK
        // drops a configured endpoint's own query; a caller's middleware may add one.)
        if (Object.keys(query).length === 0) {
          const userAgent = Object.fromEntries(['user-agent', 'x-amz-user-agent'].flatMap((name) => (headers[name] === undefined ? [] : [[name, headers[name]]])));
          state.targets.set(input.TableName, { protocol, hostname, port, path, userAgent });
        }
      }
      return next(args);
    },
    // After the user agent is set and before signing: the request as the SDK would sign and send it.
    { step: 'build', priority: 'low', name: 'recordWireTarget' },
  );
  wireClients.set(client, state);
  return client;
}

const COMMAND_NAMES: Record<string, true> = { GetItemCommand: true, PutItemCommand: true, UpdateItemCommand: true };

/**
 * Sends one DynamoDB call: on the wire when `client` was made by createWireClient and has sent to this table
 * before, else through the SDK (`client.send`), as it does for an input that holds a binary attribute. Either way
 * it rejects with an AbortError as soon as `abortSignal` fires, and with the SDK's error classes
 * (ConditionalCheckFailedException with the item, if DynamoDB returned it).
 */
export function sendDynamoDb<O extends WireOperation>(client: DynamoDBClient, operation: O, input: WireOperations[O]['input'], abortSignal?: AbortSignal): Promise<WireOperations[O]['output']> {
  const state = wireClients.get(client);
  const target = state?.targets.get(String(input.TableName));
  const body = target ? jsonOf(input) : undefined;
  // JSON.stringify writes a Uint8Array as an object of its bytes, not as the base64 DynamoDB reads: an input with a
  // B or BS attribute (or, harmlessly, a name or string that looks like one) is the SDK's to encode, as is one that
  // JSON cannot write at all (the SDK then reports what is wrong with it).
  if (!state || !target || body === undefined || mayHoldBinary(body)) {
    const Command = COMMANDS[operation] as new (input: WireOperations[O]['input']) => GetItemCommand;
    return client.send(new Command(input), { abortSignal }) as Promise<WireOperations[O]['output']>;
  }
  return untilAborted(sendWithRetries(client, state, target, operation, body, abortSignal), abortSignal) as Promise<WireOperations[O]['output']>;
}

/** The input as JSON, or undefined if JSON cannot write it (e.g. a BigInt, a cycle). */
function jsonOf(input: object): string | undefined {
  try {
    return JSON.stringify(input);
  } catch {
    return undefined;
  }
}

/** Whether JSON text may hold a binary attribute value ({"B": …} or {"BS": […]}). */
function mayHoldBinary(json: string): boolean {
  return json.includes('"B":') || json.includes('"BS":');
}

/** The $metadata of a call's answer or error, as the SDK's. */
interface WireMetadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
  clockSkewCorrected?: boolean;
}

/** The SDK's retry loop (its strategy decides whether and when to try again), around one call on the wire. */
async function sendWithRetries(client: DynamoDBClient, state: WireState, target: RecordedTarget, operation: WireOperation, body: string, abortSignal: AbortSignal | undefined): Promise<unknown> {
  const strategy = (await client.config.retryStrategy()) as RetryStrategyV2;
  let token = (await strategy.acquireInitialRetryToken('')) as StandardRetryToken;
  let attempts = 0;
  let totalRetryDelay = 0;
  for (;;) {
    try {
      const output = await sendOnce(client, state, target, operation, body, abortSignal);
      strategy.recordSuccess(token);
      Object.assign(output.$metadata, { attempts: attempts + 1, totalRetryDelay });
      return output;
    } catch (caught) {
      // As the SDK's retry middleware: anything thrown is retried or rethrown as an Error (a test realm's or a
      // library's error may not be an instance of this realm's Error).
      const error = (typeof caught === 'object' && caught !== null ? caught : new Error(String(caught))) as SdkError & { $metadata?: WireMetadata };
      if (abortSignal?.aborted) throw error;
      try {
        token = (await strategy.refreshRetryTokenForRetry(token, { error, errorType: retryErrorType(error) })) as StandardRetryToken;
      } catch {
        // no attempt left, or not worth another
        error.$metadata = Object.assign(error.$metadata ?? {}, { attempts: attempts + 1, totalRetryDelay });
        throw error;
      }
      // The SDK's standard strategy waits inside refreshRetryTokenForRetry (the acquisition delay); a strategy of
      // the caller's may ask for its delay through the token instead. Both count, as the SDK counts them.
      attempts = token.getRetryCount();
      const delayMs = token.getRetryDelay();
      totalRetryDelay += ((token as { $retryLog?: { acquisitionDelay?: number } }).$retryLog?.acquisitionDelay ?? 0) + delayMs;
      if (delayMs > 0) await delay(delayMs, abortSignal);
      if (abortSignal?.aborted) throw error; // given up on meanwhile (untilAborted has answered the caller)
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts, at once if it has (no timer is left behind). */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The SDK's classification of a failed attempt (its retry middleware's). */
function retryErrorType(error: SdkError): RetryErrorType {
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

// The SDK takes the server's clock from the Date of any answer, unless a cache answered (Age) or the request took
// longer than this (the Date may then be far from when the request was signed).
const CLOCK_SAMPLE_MAX_MS = 900_000;
// A corrected offset at least this large makes the failed attempt worth another (the SDK's threshold).
const CLOCK_SKEW_RETRY_MS = 240_000;

async function sendOnce(client: DynamoDBClient, state: WireState, target: RecordedTarget, operation: WireOperation, body: string, abortSignal: AbortSignal | undefined): Promise<{ $metadata: WireMetadata }> {
  const headers: Record<string, string> = {
    ...target.userAgent,
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${operation}`,
    'content-length': String(Buffer.byteLength(body)),
    host: target.port === undefined ? target.hostname : `${target.hostname}:${target.port}`,
  };
  // As the SDK's recursion-detection middleware: the Lambda's X-Ray trace goes with the call.
  const traceId = process.env._X_AMZN_TRACE_ID;
  if (process.env.AWS_LAMBDA_FUNCTION_NAME && traceId) headers['x-amzn-trace-id'] = traceId;
  const request = new HttpRequest({ method: 'POST', protocol: target.protocol, hostname: target.hostname, ...(target.port !== undefined && { port: target.port }), path: target.path, headers, body });
  const { config } = client;
  if (!state.signer) {
    const signer = config.signer({ name: 'sigv4', signingName: 'dynamodb', properties: {} } as never);
    signer.catch(() => (state.signer = undefined)); // made again by the next call
    state.signer = signer;
  }
  const offsetBefore = config.systemClockOffset;
  const signed = (await (await state.signer).sign(request, { signingDate: new Date(Date.now() + offsetBefore) })) as HttpRequest;
  const sentAt = Date.now();
  const { response } = (await config.requestHandler.handle(signed, { abortSignal })) as { response: HttpResponse };
  const bytes = await config.streamCollector(response.body);
  const $metadata: WireMetadata = {
    httpStatusCode: response.statusCode,
    requestId: header(response.headers, 'x-amzn-requestid') ?? header(response.headers, 'x-amzn-request-id') ?? header(response.headers, 'x-amz-request-id'),
    extendedRequestId: header(response.headers, 'x-amz-id-2'),
    cfId: header(response.headers, 'x-amz-cf-id'),
  };
  // As the SDK's SigV4 signer does with every answer: this machine's clock is corrected from DynamoDB's, for the
  // retry and later calls.
  const date = header(response.headers, 'date');
  const serverMs = date === undefined || header(response.headers, 'age') !== undefined ? Number.NaN : Date.parse(date);
  const receivedAt = Date.now();
  if (Number.isFinite(serverMs) && receivedAt - sentAt <= CLOCK_SAMPLE_MAX_MS) config.systemClockOffset = serverMs - receivedAt;
  const checksum = header(response.headers, 'x-amz-crc32');
  if (checksum !== undefined && String(crc32(bytes)) !== checksum) {
    // Corrupted on the way: worth another attempt, as the SDK v2 (which checked it) retried it.
    throw Object.assign(new Error('The answer from DynamoDB does not match its x-amz-crc32 checksum (corrupted on the way); the call may have taken effect.'), {
      name: 'Crc32MismatchError',
      $metadata,
      $retryable: {},
    });
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const parsed = parseAnswer(text);
  const ok = response.statusCode >= 200 && response.statusCode < 300;
  if (ok && parsed !== undefined) return Object.assign(parsed, { $metadata });
  const error = ok || parsed === undefined ? httpError(response.statusCode, $metadata, 'a body that is not JSON') : serviceError(response.statusCode, response.headers, parsed, $metadata);
  const offsetAfter = config.systemClockOffset;
  if (Math.abs(offsetAfter) >= CLOCK_SKEW_RETRY_MS && offsetAfter !== offsetBefore) $metadata.clockSkewCorrected = true;
  throw error;
}

/** A JSON object answer with its binary values (base64 in JSON) as Uint8Array, as the SDK reads them; undefined if the text is not a JSON object. */
function parseAnswer(text: string): Record<string, unknown> | undefined {
  if (!text) return {};
  try {
    const parsed: unknown = mayHoldBinary(text) ? JSON.parse(text, readBinary) : JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not JSON (e.g. a proxy's error page)
  }
}

/**
 * JSON.parse's reviver for DynamoDB answers: the value of a B is a base64 string and of a BS an array of them
 * only inside an attribute value (an attribute named B or BS has an object, an attribute value, as its value).
 */
function readBinary(key: string, value: unknown): unknown {
  if (key === 'B' && typeof value === 'string') return fromBase64(value);
  if (key === 'BS' && Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.map((item: string) => fromBase64(item));
  return value;
}

/** A header of an answer by its lower-case name (Node's HTTP handler lower-cases them; another may not). */
function header(headers: Record<string, string>, name: string): string | undefined {
  if (Object.hasOwn(headers, name)) return headers[name];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

type ModelledError = new (options: { message: string; $metadata: WireMetadata }) => DynamoDBServiceException;

/** The modelled errors of GetItem, PutItem and UpdateItem, as the SDK's classes, by name (the keys survive minifying). */
const MODELLED_ERRORS = new Map(
  Object.entries({
    ConditionalCheckFailedException,
    InternalServerError,
    InvalidEndpointException,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    ReplicatedWriteConflictException,
    RequestLimitExceeded,
    ResourceNotFoundException,
    ThrottlingException,
    TransactionConflictException,
  }) as [string, ModelledError][],
);

/**
 * A DynamoDB error answer as the SDK's error classes: a modelled error as its class (a failed condition with its
 * item), any other as a DynamoDBServiceException named by its type; the answer's other fields copied onto it, as the
 * SDK does. An answer without a type is named by its HTTP status.
 */
function serviceError(status: number, headers: Record<string, string>, parsed: Record<string, unknown>, $metadata: WireMetadata): DynamoDBServiceException {
  // Where the SDK looks for the type, in its order: "com.amazonaws.dynamodb.v20120810#ThrottlingException" or "…:http://…"
  const codeKey = Object.keys(parsed).find((key) => key.toLowerCase() === 'code');
  const raw = parsed.__type ?? (codeKey === undefined ? undefined : parsed[codeKey]) ?? header(headers, 'x-amzn-errortype');
  if (typeof raw !== 'string' && typeof raw !== 'number') return httpError(status, $metadata, 'no error type');
  const name = errorName(String(raw));
  const message = String(parsed.message ?? parsed.Message ?? 'UnknownError');
  const Modelled = MODELLED_ERRORS.get(name);
  const error = Modelled ? new Modelled({ message, $metadata }) : new DynamoDBServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata });
  return decorateServiceException(error, parsed);
}

/** The SDK's reading of an error type: before any ',' and ':', after a '#'. */
function errorName(raw: string): string {
  const bare = raw.split(',')[0]?.split(':')[0] ?? '';
  return bare.includes('#') ? (bare.split('#')[1] ?? '') : bare;
}

/** An answer that is no DynamoDB answer (a proxy's error page, a body that is not JSON), named by its HTTP status. */
function httpError(status: number, $metadata: WireMetadata, what: string): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name: `Http${status}Error`,
    message: `DynamoDB's endpoint answered HTTP ${status} with ${what} (e.g. a proxy's error page, or an answer cut short)`,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata,
  });
}
