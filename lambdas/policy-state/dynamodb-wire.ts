// The policy state's DynamoDB calls on the wire, without the SDK's per-call middleware (issue 27).
//
// A DynamoDB call through the SDK spends about as much CPU in its middleware (schema serde, endpoint rules, auth
// scheme and identity resolution, retry bookkeeping) as in HTTP and SigV4 together; the signer makes two per
// signature on its hot path. DynamoDB's JSON protocol needs none of that work per call: the request body is the
// input as JSON (the item attributes the policy state writes are S, N, M, L, BOOL and NULL, which JSON carries as
// they are), and the answer is the output as JSON. So a client made with `createWireClient` sends its first call
// per table through the SDK, records the request the SDK made (endpoint, path, user agent), and sends later calls
// itself, with the SDK's own parts: its credentials and SigV4 signer, its HTTP handler (timeouts, keep-alive, the
// abort signal), its retry strategy (attempts, backoff, throttling classification) and its modelled error class
// for a failed condition (with the item DynamoDB returns). Any other client, e.g. a test's, takes the SDK path.
import { crc32 } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { HttpRequest, type HttpResponse } from '@smithy/core/protocols';
import { isClockSkewError, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
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
        // An endpoint with a query string is not one this module rebuilds: such a table keeps the SDK path.
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
 * before, else through the SDK (`client.send`). Either way it rejects with an AbortError as soon as `abortSignal`
 * fires, and with the SDK's error classes (ConditionalCheckFailedException with the item, if DynamoDB returned it).
 */
export function sendDynamoDb<O extends WireOperation>(client: DynamoDBClient, operation: O, input: WireOperations[O]['input'], abortSignal?: AbortSignal): Promise<WireOperations[O]['output']> {
  const state = wireClients.get(client);
  const target = state?.targets.get(String(input.TableName));
  if (!state || !target) {
    const Command = COMMANDS[operation] as new (input: WireOperations[O]['input']) => GetItemCommand;
    return client.send(new Command(input), { abortSignal }) as Promise<WireOperations[O]['output']>;
  }
  return untilAborted(sendWithRetries(client, state, target, operation, input, abortSignal), abortSignal) as Promise<WireOperations[O]['output']>;
}

/** The SDK's retry loop (its strategy decides whether and when to try again), around one call on the wire. */
async function sendWithRetries(client: DynamoDBClient, state: WireState, target: RecordedTarget, operation: WireOperation, input: object, abortSignal: AbortSignal | undefined): Promise<unknown> {
  const strategy = (await client.config.retryStrategy()) as RetryStrategyV2;
  let token = (await strategy.acquireInitialRetryToken('')) as StandardRetryToken;
  const body = JSON.stringify(input);
  for (;;) {
    try {
      const output = await sendOnce(client, state, target, operation, body, abortSignal);
      strategy.recordSuccess(token);
      return output;
    } catch (error) {
      if (abortSignal?.aborted || !(error instanceof Error)) throw error;
      try {
        const failure = error as SdkError; // an Error, with the $metadata the SDK's classification reads when it has one
        token = (await strategy.refreshRetryTokenForRetry(token, { error: failure, errorType: retryErrorType(failure) })) as StandardRetryToken;
      } catch {
        throw error; // no attempt left, or not worth another
      }
      const delayMs = token.getRetryDelay();
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (abortSignal?.aborted) throw error; // given up on meanwhile (untilAborted has answered the caller)
    }
  }
}

/** The SDK's classification of a failed attempt (its retry middleware's). */
function retryErrorType(error: SdkError): RetryErrorType {
  if (isThrottlingError(error)) return 'THROTTLING';
  if (isTransientError(error)) return 'TRANSIENT';
  if (isServerError(error)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
}

async function sendOnce(client: DynamoDBClient, state: WireState, target: RecordedTarget, operation: WireOperation, body: string, abortSignal: AbortSignal | undefined): Promise<unknown> {
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
  const signed = (await (await state.signer).sign(request, { signingDate: new Date(Date.now() + config.systemClockOffset) })) as HttpRequest;
  const { response } = (await config.requestHandler.handle(signed, { abortSignal })) as { response: HttpResponse };
  const bytes = await config.streamCollector(response.body);
  const metadata = { httpStatusCode: response.statusCode, requestId: header(response.headers, 'x-amzn-requestid'), attempts: 1, totalRetryDelay: 0 };
  const date = header(response.headers, 'date');
  const checksum = header(response.headers, 'x-amz-crc32');
  if (checksum !== undefined && String(crc32(bytes)) !== checksum) {
    throw Object.assign(new Error('the answer from DynamoDB does not match its x-amz-crc32 checksum'), { name: 'Crc32MismatchError', $metadata: metadata });
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (response.statusCode >= 200 && response.statusCode < 300) return { ...(text ? (JSON.parse(text) as object) : {}), $metadata: metadata };
  const error = serviceError(response.statusCode, header(response.headers, 'x-amzn-errortype'), text, metadata);
  // As the SDK's signer does: a clock off by minutes is corrected from DynamoDB's, for the retry and later calls.
  const serverMs = date === undefined ? Number.NaN : Date.parse(date);
  if (isClockSkewError(error as SdkError) && Number.isFinite(serverMs)) config.systemClockOffset = serverMs - Date.now();
  throw error;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** A DynamoDB error answer as the SDK's error classes: the failed condition as its modelled class, with its item. */
function serviceError(status: number, typeHeader: string | undefined, text: string, $metadata: { httpStatusCode: number }): ConditionalCheckFailedException | DynamoDBServiceException {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown; Item?: Record<string, AttributeValue> } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // not JSON (a proxy's error page): named by its status below
  }
  const type = typeof parsed.__type === 'string' ? parsed.__type : (typeHeader ?? '');
  // "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException" or "…Exception:http://…"
  const name = type.split('#').pop()?.split(':')[0] || (status >= 500 ? 'InternalServerError' : 'UnknownError');
  const message = String(parsed.message ?? parsed.Message ?? name);
  if (name === 'ConditionalCheckFailedException') return new ConditionalCheckFailedException({ message, $metadata, ...(parsed.Item && { Item: parsed.Item }) });
  return new DynamoDBServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata });
}
