// The local Lambda Invoke endpoint with small stand-in bundles: it answers as the Lambda Invoke API does (status
// codes, X-Amz-Function-Error, error payloads, service errors) and runs each function in its own process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startInvokeEndpoint, type LocalInvokeEndpoint } from '../../../scripts/local-stack/invoke-endpoint';
import { LocalFunction } from '../../../scripts/local-stack/local-function';
import { rejectionOf } from '../../helpers/rejection';

jest.setTimeout(60_000);

// A handler that echoes its event and context, counts its invocations in module state, and fails or hangs on request.
const BUNDLE = `
let count = 0;
export const handler = async (event, context) => {
  count += 1;
  if (event.fail) { const error = new Error('refused: ' + event.fail); error.name = 'PolicyDeniedError'; error.stack = error.name + ': ' + error.message; throw error; }
  if (event.hang) await new Promise(() => {});
  return { event, count, requestId: context.awsRequestId, functionName: context.functionName, remainingMs: context.getRemainingTimeInMillis(), env: process.env.WHO, pid: process.pid };
};
`;

let dir: string;
let endpoint: LocalInvokeEndpoint;
let client: LambdaClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'invoke-endpoint-'));
  writeFileSync(join(dir, 'index.mjs'), BUNDLE);
  endpoint = await startInvokeEndpoint([
    new LocalFunction({ name: 'fn-a', bundle: join(dir, 'index.mjs'), environment: { WHO: 'a' }, logs: 'ignore' }),
    new LocalFunction({ name: 'fn-b', bundle: join(dir, 'index.mjs'), environment: { WHO: 'b' }, logs: 'ignore', timeoutMs: 2000 }),
  ]);
  client = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await endpoint?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const invoke = async (FunctionName: string, event: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}) => {
  const output = await client.send(new InvokeCommand({ FunctionName, Payload: new TextEncoder().encode(JSON.stringify(event)), ...extra }));
  const text = new TextDecoder().decode(output.Payload ?? new Uint8Array());
  return { ...output, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
};
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => fetch(`${endpoint.url}${path}`, { method: 'POST', body, headers });

describe('the local Invoke endpoint', () => {
  it('answers 200 with the handler\'s JSON, the context\'s request id being the response\'s', async () => {
    const result = await invoke('fn-a', { hello: 1 });
    expect(result).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
    expect(result.FunctionError).toBeUndefined();
    expect(result.body).toMatchObject({ event: { hello: 1 }, functionName: 'fn-a', env: 'a' });
    expect(result.$metadata.requestId).toBe(result.body?.requestId);
    expect(result.body?.remainingMs).toBeGreaterThan(0);
  });

  it('runs each function in its own process with its own environment and module state', async () => {
    const a1 = await invoke('fn-a', {});
    const b1 = await invoke('fn-b', {});
    const a2 = await invoke('fn-a', {});
    expect(a1.body?.pid).not.toBe(b1.body?.pid);
    expect(b1.body).toMatchObject({ env: 'b', count: 1 });
    expect((a2.body?.count as number) - (a1.body?.count as number)).toBe(1);
  });

  it('reports a handler error as Lambda does: 200, X-Amz-Function-Error Unhandled, { errorType, errorMessage, trace }', async () => {
    const result = await invoke('fn-a', { fail: 'no rule' });
    expect(result).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
    expect(result.body).toEqual({ errorType: 'PolicyDeniedError', errorMessage: 'refused: no rule', trace: ['PolicyDeniedError: refused: no rule'] });
  });

  it.each([
    ['a function ARN', 'arn:aws:lambda:us-east-1:111122223333:function:fn-a'],
    ['a partial ARN', '111122223333:function:fn-a'],
    ['the $LATEST qualifier', 'fn-a:$LATEST'],
  ])('accepts %s as the function name', async (_label, name) => {
    expect((await invoke(name, {})).body).toMatchObject({ functionName: 'fn-a' });
  });

  it('answers ResourceNotFoundException (404) for a function or version it does not serve', async () => {
    for (const name of ['fn-c', 'fn-a:live', 'constructor']) {
      const error = await rejectionOf(invoke(name, {}));
      expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
      expect(error.message).toMatch(/^Function not found: arn:aws:lambda:us-east-1:111122223333:function:/);
    }
  });

  it('answers ResourceNotFoundException to a function name with a malformed %-escape', async () => {
    const response = await post('/2015-03-31/functions/fn-%E0%A4%A/invocations', '{}');
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
  });

  it('answers InvalidRequestContentException (400) to a body that is not JSON, and passes {} for an empty one', async () => {
    const bad = await post('/2015-03-31/functions/fn-a/invocations', '{"operation":');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    const empty = await post('/2015-03-31/functions/fn-a/invocations', '');
    expect(await empty.json()).toMatchObject({ event: {} });
  });

  it('answers RequestTooLargeException (413) to a payload over 6 MB', async () => {
    const response = await post('/2015-03-31/functions/fn-a/invocations', Buffer.alloc(6 * 1024 * 1024 + 1, 0x20));
    expect(response.status).toBe(413);
    expect(response.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
  });

  it('answers 202 to an Event invocation and 204 to a DryRun', async () => {
    expect((await invoke('fn-a', {}, { InvocationType: 'Event' })).StatusCode).toBe(202);
    expect((await invoke('fn-a', {}, { InvocationType: 'DryRun' })).StatusCode).toBe(204);
  });

  it('ends an invocation at the function\'s timeout (counted from the handler\'s start) with Sandbox.Timedout, and starts a fresh process for the next', async () => {
    const before = await invoke('fn-b', {});
    const timedOut = await invoke('fn-b', { hang: true });
    expect(timedOut).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
    expect(timedOut.body).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 2\.00 seconds/) });
    const after = await invoke('fn-b', {});
    expect(after.body?.pid).not.toBe(before.body?.pid);
    expect(after.body).toMatchObject({ count: 1 });
  });

  it('answers any other path with UnknownOperationException (404)', async () => {
    const response = await fetch(`${endpoint.url}/2015-03-31/functions/fn-a`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });
});
