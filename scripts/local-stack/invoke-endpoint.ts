// The Lambda Invoke API on loopback (POST /2015-03-31/functions/{FunctionName}/invocations), answering as Lambda
// does, so that `aws lambda invoke --endpoint-url`, the AWS SDK and kms-eth-signer/client call local functions
// unchanged. Like the local KMS it accepts any SigV4 signature: a development tool, not a security boundary.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortInUseError, portIsFree } from '../local-chain';
import type { InvocationResult, LocalFunction } from './local-function';

/** A running local Invoke endpoint. */
export interface LocalInvokeEndpoint {
  /** The endpoint for AWS_ENDPOINT_URL_LAMBDA (or --endpoint-url). */
  readonly url: string;
  readonly port: number;
  /** The function names it serves. */
  readonly functionNames: readonly string[];
  /** Stops the server and every function's process. */
  close(): Promise<void>;
}

// Lambda's quota for a synchronous invocation's request payload.
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
// A name, name:qualifier, partial ARN (account:function:name[:qualifier]) or full ARN, as Invoke accepts.
const FUNCTION_REFERENCE = /^(?:(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]{1,128}))?$/;

/** Serves `functions` behind the Invoke API on 127.0.0.1 (port 0: a free one). */
export async function startInvokeEndpoint(functions: readonly LocalFunction[], { port = 0 }: { port?: number } = {}): Promise<LocalInvokeEndpoint> {
  if (port && !(await portIsFree(port))) throw new PortInUseError('the local Lambda Invoke endpoint', port);
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  const server = createServer((request, response) => {
    void handle(byName, request, response).catch((error: unknown) => {
      if (!response.headersSent) serviceError(response, 500, 'ServiceException', 'Message', `The local Invoke endpoint failed: ${error instanceof Error ? error.message : String(error)}`, randomUUID());
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    functionNames: [...byName.keys()],
    close: async () => {
      server.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ...functions.map((fn) => fn.close())]);
    },
  };
}

async function handle(functions: ReadonlyMap<string, LocalFunction>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const url = new URL(request.url ?? '/', 'http://localhost');
  const match = INVOKE_PATH.exec(url.pathname);
  if (!match || request.method !== 'POST') {
    request.resume();
    return serviceError(response, 404, 'UnknownOperationException', 'Message', `${request.method} ${url.pathname.slice(0, 200)} is not an operation of this local endpoint: it serves Invoke only (POST /2015-03-31/functions/{FunctionName}/invocations)`, requestId);
  }
  let reference: string;
  try {
    reference = decodeURIComponent(match[1] ?? '');
  } catch {
    reference = match[1] ?? ''; // a malformed %-escape names no function: answered as not found below
  }
  const parsed = FUNCTION_REFERENCE.exec(reference);
  const qualifier = parsed?.[2] ?? url.searchParams.get('Qualifier') ?? undefined;
  const fn = parsed?.[1] === undefined ? undefined : functions.get(parsed[1]);
  if (!fn || (qualifier !== undefined && qualifier !== '$LATEST')) {
    request.resume();
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${(parsed?.[1] ?? reference).slice(0, 140)}${qualifier ? `:${qualifier.slice(0, 128)}` : ''}`;
    return serviceError(response, 404, 'ResourceNotFoundException', 'Message', `Function not found: ${arn} (this local endpoint serves ${[...functions.keys()].join(', ')}, version $LATEST only)`, requestId);
  }

  const body = await readBody(request);
  if (body === undefined) {
    return serviceError(response, 413, 'RequestTooLargeException', 'message', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`, requestId);
  }
  let event: unknown = {};
  if (body.length > 0) {
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return serviceError(response, 400, 'InvalidRequestContentException', 'message', `Could not parse request body into json: ${(error as Error).message.slice(0, 200)}`, requestId);
    }
  }

  const invocationType = header(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (invocationType === 'DryRun') return end(response, 204, { 'x-amzn-RequestId': requestId });
  if (invocationType === 'Event') {
    void fn.invoke(event, requestId); // the result of an asynchronous invocation goes nowhere (no destination locally)
    return end(response, 202, { 'x-amzn-RequestId': requestId });
  }
  if (invocationType !== 'RequestResponse') {
    return serviceError(response, 400, 'InvalidParameterValueException', 'message', `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, got ${invocationType.slice(0, 40)}`, requestId);
  }
  respond(response, await fn.invoke(event, requestId), requestId);
}

/** A synchronous invocation's answer: always 200; a function error is flagged by X-Amz-Function-Error, the error object is the payload. */
function respond(response: ServerResponse, result: InvocationResult, requestId: string): void {
  const payload = result.ok ? result.payload : JSON.stringify(result.error);
  end(
    response,
    200,
    {
      'Content-Type': 'application/json',
      'X-Amz-Executed-Version': '$LATEST',
      'x-amzn-RequestId': requestId,
      ...(!result.ok && { 'X-Amz-Function-Error': 'Unhandled' }),
    },
    payload,
  );
}

/** A Lambda service error (rest-json): the type in x-amzn-ErrorType and the body, as the SDKs parse it. */
function serviceError(response: ServerResponse, status: number, type: string, messageField: 'Message' | 'message', message: string, requestId: string): void {
  end(response, status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type, 'x-amzn-RequestId': requestId }, JSON.stringify({ Type: 'User', [messageField]: message }));
}

function end(response: ServerResponse, status: number, headers: Record<string, string>, body?: string): void {
  response.writeHead(status, { ...headers, ...(body !== undefined && { 'Content-Length': String(Buffer.byteLength(body)) }) });
  response.end(body);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The request body, or undefined when it is larger than Lambda accepts (the rest is drained, not kept). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_PAYLOAD_BYTES ? undefined : Buffer.concat(chunks);
}
