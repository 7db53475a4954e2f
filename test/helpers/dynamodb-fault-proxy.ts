// A fault-injecting HTTP proxy in front of a DynamoDB endpoint (dynalite): it forwards every call, except those a
// scripted fault matches, which it drops before DynamoDB sees them, answers with an error after DynamoDB applied
// them, or never answers. This is how a write that DynamoDB applied but never acknowledged is made on purpose.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ReceivedRequest } from './sigv4';

/**
 * What happens to a matched call:
 * - `reset-before`, `500-before`, `throttle`: DynamoDB never sees it (connection reset, InternalServerError,
 *   ProvisionedThroughputExceededException);
 * - `reset-after`, `500-after`: DynamoDB applies it, then the caller gets a reset connection or an InternalServerError;
 * - `hang-before`, `hang-after`: no answer ever, before or after DynamoDB applied it;
 * - `answer`: DynamoDB never sees it; the caller gets the rule's `answer` (any status, headers and body);
 * - `bad-checksum`: DynamoDB applies it, and its answer arrives with an x-amz-crc32 that does not match the body.
 */
export type DynamoDbFault = 'reset-before' | '500-before' | 'throttle' | 'hang-before' | 'reset-after' | '500-after' | 'hang-after' | 'answer' | 'bad-checksum';

/** A scripted answer (fault `answer`). */
export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A call as the proxy saw it: the operation (e.g. UpdateItem) and its JSON input. */
export interface ProxiedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** The fault injected into this call, if any. */
  readonly fault?: DynamoDbFault;
  /** The HTTP request as received (method, path, headers, body), e.g. to check its signature. */
  readonly request: ReceivedRequest;
}

/** One scripted fault: which calls it matches, what it does, and how many of them (default 1). */
export interface FaultRule {
  readonly fault: DynamoDbFault;
  readonly operation?: string;
  readonly when?: (call: ProxiedCall) => boolean;
  times?: number;
  /** What fault `answer` answers. */
  readonly answer?: ScriptedAnswer;
}

/** A running proxy. */
export interface DynamoDbFaultProxy {
  readonly endpoint: string;
  /** Every call, in order of arrival. */
  readonly calls: ProxiedCall[];
  /** Adds faults, matched in order; each applies to its next `times` matching calls. */
  inject(...rules: FaultRule[]): void;
  /** Faults not used up yet. */
  pending(): FaultRule[];
  /** Delays every later answer by `ms` milliseconds. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/** How the proxy behaves besides its faults. */
export interface FaultProxyOptions {
  /**
   * Answer a failed condition of a call that asked for ReturnValuesOnConditionCheckFailure=ALL_OLD with the item,
   * as DynamoDB does and dynalite does not (read with a consistent GetItem right after the failure).
   */
  readonly returnItemOnConditionFailure?: boolean;
  /** Delay every answer by this many milliseconds (a network model for the bench); changed with setDelay. */
  readonly delayMs?: number;
}

/** Starts a proxy on a free loopback port in front of `upstream` (e.g. a dynalite endpoint). */
export async function startDynamoDbFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<DynamoDbFaultProxy> {
  const target = new URL(upstream);
  const calls: ProxiedCall[] = [];
  let rules: FaultRule[] = [];
  const sockets = new Set<Socket>();
  let delayMs = options.delayMs ?? 0;
  const farSide = { calls: 0, totalMs: 0 };
  const delayed = (answer: () => void) => (delayMs > 0 ? void setTimeout(answer, delayMs) : answer());

  const take = (call: Omit<ProxiedCall, 'fault'>): FaultRule | undefined => {
    const rule = rules.find((r) => (r.operation === undefined || r.operation === call.operation) && (r.when?.(call) ?? true));
    if (!rule) return undefined;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) rules = rules.filter((r) => r !== rule);
    return rule;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // The proxy's own answer, for a process that cannot read `calls` (the bench's measured process): counts by operation.
      if (req.url === '/__calls') return answer(res, 200, countByOperation(calls));
      // How long the far side (dynalite, the local KMS) took to answer the forwarded calls, injected delay excluded.
      if (req.url === '/__upstream') return answer(res, 200, farSide);
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const request = { method: req.method ?? 'POST', path: req.url ?? '/', headers: req.headers, body: body.toString() };
      const seen = { operation, input: JSON.parse(body.toString() || '{}') as Record<string, unknown>, request };
      const rule = take(seen);
      const fault = rule?.fault;
      calls.push({ ...seen, ...(fault && { fault }) });
      const fail500 = () => answer(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected failure' });
      switch (fault) {
        case 'reset-before':
          return req.socket.destroy();
        case '500-before':
          return fail500();
        case 'throttle':
          return answer(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected throttling' });
        case 'hang-before':
          return;
        case 'answer': {
          const scripted = rule?.answer ?? { status: 500, body: '' };
          res.writeHead(scripted.status, { 'content-length': String(Buffer.byteLength(scripted.body)), ...scripted.headers });
          return res.end(scripted.body);
        }
      }
      const forwardedAt = performance.now();
      forward(target, req.method ?? 'POST', req.url ?? '/', req.headers, body)
        .then((upstreamAnswer) => (options.returnItemOnConditionFailure ? withItemOnConditionFailure(target, req.headers, seen.input, upstreamAnswer) : upstreamAnswer))
        .then(
        (upstreamAnswer) => {
          farSide.calls++;
          farSide.totalMs += performance.now() - forwardedAt;
          if (fault === 'reset-after') return req.socket.destroy();
          if (fault === '500-after') return fail500();
          if (fault === 'hang-after') return;
          // A checksum off by one: the body as DynamoDB sent it, its check value not.
          const headers = fault === 'bad-checksum' ? { ...upstreamAnswer.headers, 'x-amz-crc32': String((Number(upstreamAnswer.headers['x-amz-crc32']) + 1) % 2 ** 32) } : upstreamAnswer.headers;
          delayed(() => {
            res.writeHead(upstreamAnswer.status, headers);
            res.end(upstreamAnswer.body);
          });
        },
        () => req.socket.destroy(),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    inject: (...added) => {
      rules.push(...added.map((rule) => ({ ...rule })));
    },
    pending: () => [...rules],
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(res: import('node:http').ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify(body));
}

function forward(target: URL, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest({ host: target.hostname, port: target.port, method, path, headers: { ...headers, host: target.host } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 500, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

type Answer = Awaited<ReturnType<typeof forward>>;

async function withItemOnConditionFailure(target: URL, headers: IncomingHttpHeaders, input: Record<string, unknown>, answer: Answer): Promise<Answer> {
  if (input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD' || answer.status !== 400) return answer;
  const error = JSON.parse(answer.body.toString()) as { __type?: string };
  if (!String(error.__type).endsWith('#ConditionalCheckFailedException')) return answer;
  // A PutItem names its item's key in the item (the policy table's key is pk and sk).
  const item = input.Item as Record<string, unknown> | undefined;
  const key = input.Key ?? { pk: item?.pk, sk: item?.sk };
  const request = Buffer.from(JSON.stringify({ TableName: input.TableName, Key: key, ConsistentRead: true }));
  const read = await forward(target, 'POST', '/', { ...headers, 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-length': String(request.length) }, request);
  const { Item } = JSON.parse(read.body.toString()) as { Item?: unknown };
  if (!Item) return answer;
  const body = Buffer.from(JSON.stringify({ ...error, Item }));
  // The SDK checks DynamoDB's x-amz-crc32 of the body: drop it rather than recompute it.
  const { 'x-amz-crc32': _crc, ...rest } = answer.headers;
  return { ...answer, headers: { ...rest, 'content-length': String(body.length) }, body };
}

function countByOperation(calls: readonly ProxiedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { operation } of calls) counts[operation] = (Object.hasOwn(counts, operation) ? (counts[operation] ?? 0) : 0) + 1;
  return counts;
}
