// The policy state's DynamoDB calls on the wire (dynamodb-wire.ts), specified against the SDK path they replace: a
// real DynamoDBClient built as sharedPolicyStateClient builds it, real dynalite, and a fault-injecting proxy in front
// of it that logs every HTTP request and scripts the answers dynalite does not give (throttling, a skewed clock, a
// proxy's error page, a corrupted checksum, no answer at all). Where a behaviour is the SDK's, the spec runs the same
// call through a plain SDK client of the same configuration and expects the same outcome.
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  DeleteItemCommand,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { RetryStrategyV2, RetryToken } from '@smithy/types';
import { createPolicyTable, DYNALITE_CREDENTIALS } from '../../../scripts/local-stack/dynamodb';
import { policyStateCall, type CallFailure } from '../../../lambdas/policy-state/dynamodb-call';
import { createWireClient, sendDynamoDb, type WireOperation, type WireOperations } from '../../../lambdas/policy-state/dynamodb-wire';
import { PolicyStateUnavailableError } from '../../../lambdas/policy-state/errors';
import { createTrimmedClient } from '../../../lambdas/signer/kms-client';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy, type ProxiedCall, type ScriptedAnswer } from '../../helpers/dynamodb-fault-proxy';
import { rejectionOf } from '../../helpers/rejection';
import { referenceAuthorization } from '../../helpers/sigv4';
import { recordSdkCommands } from '../../helpers/sdk-commands';

const OTHER_TABLE = 'policy-state-other';

let dynamo: LocalDynamoDb;
let proxy: DynamoDbFaultProxy;
let asDynamoDb: DynamoDbFaultProxy; // answers a failed condition with the item, as DynamoDB does and dynalite does not
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  await createPolicyTable(dynamo.client, OTHER_TABLE);
  proxy = await startDynamoDbFaultProxy(dynamo.endpoint);
  asDynamoDb = await startDynamoDbFaultProxy(dynamo.endpoint, { returnItemOnConditionFailure: true });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await proxy.close();
  await asDynamoDb.close();
  await dynamo.close();
});
afterEach(() => {
  expect(proxy.pending()).toEqual([]); // every scripted fault was actually hit
  expect(asDynamoDb.pending()).toEqual([]);
});

/** A client configured as sharedPolicyStateClient configures it, pointed at `endpoint`; with `wire`, made by createWireClient. */
function policyStateClient(endpoint: string, { wire, retryStrategy }: { wire: boolean; retryStrategy?: RetryStrategyV2 }): { client: DynamoDBClient; sdkSends: () => number } {
  const trimmed = createTrimmedClient(DynamoDBClient, {
    endpoint,
    region: 'us-east-1',
    credentials: DYNALITE_CREDENTIALS,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    ...(retryStrategy && { retryStrategy }),
  });
  const client = wire ? createWireClient(trimmed) : trimmed;
  const commands = recordSdkCommands(client);
  clients.push(client);
  return { client, sdkSends: () => commands.length };
}

let keys = 0;
const newKey = (): Record<string, AttributeValue> => ({ pk: { S: `arn:aws:kms:us-east-1:111122223333:key/wire-${++keys}` }, sk: { S: 'spending' } });
const getItem = (Key: Record<string, AttributeValue>, TableName = dynamo.tableName) => ({ TableName, Key, ConsistentRead: true });

/** A wire client that has sent its first call (through the SDK) to the policy table. */
async function warmWireClient(endpoint = proxy.endpoint, retryStrategy?: RetryStrategyV2) {
  const made = policyStateClient(endpoint, { wire: true, ...(retryStrategy && { retryStrategy }) });
  await sendDynamoDb(made.client, 'GetItem', getItem(newKey()));
  expect(made.sdkSends()).toBe(1);
  return made;
}

/** The calls the proxy logs while `action` runs. */
async function callsDuring(target: DynamoDbFaultProxy, action: () => Promise<unknown>): Promise<ProxiedCall[]> {
  const before = target.calls.length;
  await action();
  return target.calls.slice(before);
}

/** An output or error without the fields that differ between two calls of the same operation (request ids, timings). */
function comparable(value: object): object {
  const { $metadata, $response: _response, ...rest } = value as { $metadata?: { httpStatusCode?: number; attempts?: number }; $response?: unknown };
  return { ...rest, ...($metadata && { $metadata: { httpStatusCode: $metadata.httpStatusCode, attempts: $metadata.attempts } }) };
}

const NESTED: Record<string, AttributeValue> = {
  amount: { N: '123456789012345678901234567890' },
  negative: { N: '-0.5' },
  name: { S: 'caf\u00e9 \u2603 "quoted" \\ \n' },
  yes: { BOOL: true },
  no: { BOOL: false },
  nothing: { NULL: true },
  list: { L: [{ N: '1' }, { S: 'two' }, { M: { three: { L: [{ NULL: true }, { BOOL: false }] } } }] },
  map: { M: { a: { M: { b: { M: { c: { N: '3' } } } } }, empty: { M: {} }, emptyList: { L: [] } } },
  strings: { SS: ['a', 'b'] },
  numbers: { NS: ['1', '2.5'] },
};

describe('createWireClient and sendDynamoDb', () => {
  describe('which path a call takes', () => {
    it('sends the first call per table through the SDK and later calls on the wire, to the same target', async () => {
      const { client, sdkSends } = policyStateClient(proxy.endpoint, { wire: true });
      const key = newKey();
      const calls = await callsDuring(proxy, async () => {
        await sendDynamoDb(client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, n: { N: '1' } } });
        await sendDynamoDb(client, 'GetItem', getItem(key));
        await sendDynamoDb(client, 'UpdateItem', { TableName: dynamo.tableName, Key: key, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': { N: '1' } } });
      });
      expect(sdkSends()).toBe(1);
      expect(calls.map((call) => call.operation)).toEqual(['PutItem', 'GetItem', 'UpdateItem']);
      const [sdk, ...wire] = calls.map((call) => call.request);
      for (const request of wire) {
        expect(request?.method).toBe('POST');
        expect(request?.path).toBe(sdk?.path);
        expect(request?.headers.host).toBe(sdk?.headers.host);
        expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
        expect(request?.headers['user-agent']).toBe(sdk?.headers['user-agent']);
        expect(request?.headers['x-amz-user-agent']).toBe(sdk?.headers['x-amz-user-agent']);
      }
      expect(calls.map((call) => call.request.headers['x-amz-target'])).toEqual(['DynamoDB_20120810.PutItem', 'DynamoDB_20120810.GetItem', 'DynamoDB_20120810.UpdateItem']);
      expect((await sendDynamoDb(client, 'GetItem', getItem(key))).Item?.n).toEqual({ N: '2' });
    });

    it('signs every call on the wire with SigV4 as an independent signer computes it over what DynamoDB received', async () => {
      const { client } = await warmWireClient();
      const calls = await callsDuring(proxy, () => sendDynamoDb(client, 'PutItem', { TableName: dynamo.tableName, Item: { ...newKey(), name: NESTED.name as AttributeValue } }));
      const request = calls[0]?.request;
      expect(request?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=DYNALITE\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-target/);
      expect(request && (await referenceAuthorization(request, { service: 'dynamodb', region: 'us-east-1', credentials: DYNALITE_CREDENTIALS }))).toBe(request?.headers.authorization);
    });

    it('sends the first call to another table through the SDK again, then that table\u2019s calls on the wire too', async () => {
      const { client, sdkSends } = await warmWireClient();
      await sendDynamoDb(client, 'GetItem', getItem(newKey(), OTHER_TABLE));
      expect(sdkSends()).toBe(2);
      const calls = await callsDuring(proxy, () => sendDynamoDb(client, 'GetItem', getItem(newKey(), OTHER_TABLE)));
      expect(sdkSends()).toBe(2);
      expect(calls.map((call) => call.input.TableName)).toEqual([OTHER_TABLE]);
    });

    it('keeps every call on the SDK path for a client not made by createWireClient', async () => {
      const { client, sdkSends } = policyStateClient(proxy.endpoint, { wire: false });
      for (let i = 0; i < 3; i++) await sendDynamoDb(client, 'GetItem', getItem(newKey()));
      expect(sdkSends()).toBe(3);
    });

    it('sends where the SDK sends when the endpoint has a base path and a query string (the SDK drops the query)', async () => {
      const { client, sdkSends } = policyStateClient(`${proxy.endpoint}/base?route=dynamodb`, { wire: true });
      const calls = await callsDuring(proxy, async () => {
        for (let i = 0; i < 3; i++) await sendDynamoDb(client, 'GetItem', getItem(newKey()));
      });
      expect(sdkSends()).toBe(1);
      expect(calls.map((call) => call.request.path)).toEqual(['/base/', '/base/', '/base/']);
    });

    it('keeps every call on the SDK path when the SDK\u2019s request has a query string (added by a caller\u2019s middleware)', async () => {
      const { client, sdkSends } = policyStateClient(proxy.endpoint, { wire: true });
      client.middlewareStack.add(
        (next) => (args) => {
          (args.request as { query: Record<string, string> }).query.route = 'dynamodb';
          return next(args);
        },
        { step: 'serialize', priority: 'low', name: 'addQuery' },
      );
      const calls = await callsDuring(proxy, async () => {
        for (let i = 0; i < 3; i++) await sendDynamoDb(client, 'GetItem', getItem(newKey()));
      });
      expect(sdkSends()).toBe(3);
      expect(calls.map((call) => call.request.path)).toEqual(['/?route=dynamodb', '/?route=dynamodb', '/?route=dynamodb']);
    });

    it('sends an input that holds a binary (B or BS) attribute through the SDK, which encodes it as base64', async () => {
      const { client, sdkSends } = await warmWireClient();
      const key = newKey();
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      const calls = await callsDuring(proxy, () =>
        sendDynamoDb(client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, blob: { B: bytes }, blobs: { BS: [bytes, new Uint8Array([7])] }, deep: { M: { b: { B: Buffer.from('hi') } } } } }),
      );
      expect(sdkSends()).toBe(2);
      expect(calls[0]?.input.Item).toMatchObject({ blob: { B: 'AAEC+v8=' }, blobs: { BS: ['AAEC+v8=', 'Bw=='] }, deep: { M: { b: { B: 'aGk=' } } } });
    });
    it('hands an input JSON cannot write (a BigInt) to the SDK, whose answer it gives, never throwing synchronously', async () => {
      const { client, sdkSends } = await warmWireClient();
      const key = newKey();
      let sent: Promise<unknown> | undefined;
      expect(() => (sent = sendDynamoDb(client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, n: { N: 5n as unknown as string } } }))).not.toThrow();
      const throughSdk = await (sent as Promise<unknown>).then(
        (output) => ({ output }),
        (error: unknown) => ({ error }),
      );
      expect(sdkSends()).toBe(2);
      const sdk = policyStateClient(proxy.endpoint, { wire: false });
      const direct = await sendDynamoDb(sdk.client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, n: { N: 5n as unknown as string } } }).then(
        (output) => ({ output }),
        (error: unknown) => ({ error }),
      );
      expect(Object.keys(throughSdk)).toEqual(Object.keys(direct));
    });
  });

  describe('what a call answers', () => {
    /** The same operation through a plain SDK client and a warm wire client, on two copies of the same item. */
    async function bothPaths<O extends WireOperation>(operation: O, input: (key: Record<string, AttributeValue>) => WireOperations[O]['input'], seed?: Record<string, AttributeValue>) {
      const sdk = policyStateClient(proxy.endpoint, { wire: false });
      const wire = await warmWireClient();
      const answers: object[] = [];
      const key = newKey(); // the same item for both, as it was seeded
      for (const { client } of [sdk, wire]) {
        await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: key }));
        if (seed) await sendDynamoDb(dynamo.client, 'PutItem', { TableName: dynamo.tableName, Item: { ...seed, ...key } });
        const sdkSendsBefore = wire.sdkSends();
        answers.push(comparable(await sendDynamoDb(client, operation, input(key))));
        if (client === wire.client) expect(wire.sdkSends()).toBe(sdkSendsBefore); // it did go on the wire
      }
      const [throughSdk, onTheWire] = answers;
      return { throughSdk, onTheWire };
    }

    it('answers GetItem with the item the SDK answers: nested M and L, BOOL, NULL, sets, N as strings', async () => {
      const { throughSdk, onTheWire } = await bothPaths('GetItem', (key) => getItem(key), NESTED);
      expect(onTheWire).toEqual(throughSdk);
      expect(onTheWire).toMatchObject({ Item: NESTED, $metadata: { httpStatusCode: 200, attempts: 1 } });
    });

    it('answers GetItem of a missing item without an Item, as the SDK does', async () => {
      const { throughSdk, onTheWire } = await bothPaths('GetItem', (key) => getItem(key));
      expect(onTheWire).toEqual(throughSdk);
      expect(onTheWire).not.toHaveProperty('Item');
    });

    it('answers GetItem of an item with binary attributes with Uint8Arrays, as the SDK does', async () => {
      const binary = { blob: { B: new Uint8Array([0, 1, 2, 250, 255]) }, blobs: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] }, deep: { L: [{ M: { B: { B: new Uint8Array([9]) } } }] } };
      const { throughSdk, onTheWire } = await bothPaths('GetItem', (key) => getItem(key), binary);
      expect(onTheWire).toEqual(throughSdk);
      expect((onTheWire as { Item: Record<string, AttributeValue> }).Item.blob?.B).toBeInstanceOf(Uint8Array);
    });

    it('answers PutItem with ReturnValues ALL_OLD with the old item the SDK answers', async () => {
      const { throughSdk, onTheWire } = await bothPaths('PutItem', (key) => ({ TableName: dynamo.tableName, Item: { ...key, n: { N: '1' } }, ReturnValues: 'ALL_OLD' }), NESTED);
      expect(onTheWire).toEqual(throughSdk);
      expect(onTheWire).toMatchObject({ Attributes: NESTED });
    });

    it('answers PutItem without ReturnValues with no attributes, as the SDK does', async () => {
      const { throughSdk, onTheWire } = await bothPaths('PutItem', (key) => ({ TableName: dynamo.tableName, Item: { ...key, ...NESTED } }));
      expect(onTheWire).toEqual(throughSdk);
      expect(onTheWire).toEqual({ $metadata: { httpStatusCode: 200, attempts: 1 } });
    });

    it.each(['ALL_NEW', 'UPDATED_OLD', 'UPDATED_NEW'] as const)('answers UpdateItem with ReturnValues %s with the attributes the SDK answers', async (ReturnValues) => {
      const { throughSdk, onTheWire } = await bothPaths(
        'UpdateItem',
        (key) => ({
          TableName: dynamo.tableName,
          Key: key,
          UpdateExpression: 'SET amount = amount + :one, #list[2].three = :l, added = :m',
          ExpressionAttributeNames: { '#list': 'list' },
          ExpressionAttributeValues: { ':one': { N: '1' }, ':l': { L: [{ NULL: true }, { S: 'x' }] }, ':m': { M: { deep: { BOOL: true } } } },
          ReturnValues,
        }),
        NESTED,
      );
      expect(onTheWire).toEqual(throughSdk);
      expect(onTheWire).toHaveProperty('Attributes');
    });
  });

  describe('a failed condition', () => {
    const conditionalPut = (key: Record<string, AttributeValue>) => ({
      TableName: dynamo.tableName,
      Item: { ...key, n: { N: '2' } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    });

    it('is a ConditionalCheckFailedException with the item DynamoDB returns, status 400, not retried', async () => {
      const { client } = await warmWireClient(asDynamoDb.endpoint);
      const key = newKey();
      await sendDynamoDb(dynamo.client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, ...NESTED } });
      let error: Error | undefined;
      const calls = await callsDuring(asDynamoDb, async () => (error = await rejectionOf(sendDynamoDb(client, 'PutItem', conditionalPut(key)))));
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect(error).toMatchObject({ name: 'ConditionalCheckFailedException', $fault: 'client', Item: { ...key, ...NESTED }, $metadata: { httpStatusCode: 400 } });
      expect(calls).toHaveLength(1);
    });

    it('is the same error the SDK path gives, with and without the item', async () => {
      for (const target of [asDynamoDb, proxy]) {
        const errors: object[] = [];
        for (const { client } of [policyStateClient(target.endpoint, { wire: false }), await warmWireClient(target.endpoint)]) {
          const key = newKey();
          await sendDynamoDb(dynamo.client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, ...NESTED } });
          const error = await rejectionOf(sendDynamoDb(client, 'PutItem', conditionalPut(key)));
          expect(error).toBeInstanceOf(ConditionalCheckFailedException);
          const { Item, ...rest } = comparable(error) as { Item?: Record<string, AttributeValue> };
          errors.push({ ...rest, message: error.message, Item: Item && { ...Item, pk: undefined } });
        }
        expect(errors[1]).toEqual(errors[0]);
      }
    });
  });

  describe('an error answer', () => {
    const json = (type: string, message: string) => JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
    const cases: [string, ScriptedAnswer, abstract new (...args: never[]) => Error, number][] = [
      ['400 ThrottlingException', { status: 400, body: json('ThrottlingException', 'Throughput exceeds the current capacity for one or more global secondary indexes.') }, ThrottlingException, 2],
      ['400 ProvisionedThroughputExceededException', { status: 400, body: json('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.') }, ProvisionedThroughputExceededException, 2],
      ['400 RequestLimitExceeded', { status: 400, body: json('RequestLimitExceeded', 'Throughput exceeds the current throughput limit for your account.') }, RequestLimitExceeded, 2],
      ['500 InternalServerError', { status: 500, body: json('InternalServerError', 'Internal server error') }, InternalServerError, 2],
      ['503 with the type in x-amzn-errortype only', { status: 503, headers: { 'x-amzn-errortype': 'ServiceUnavailable:http://internal.amazon.com/coral/' }, body: '{}' }, DynamoDBServiceException, 2],
      ['400 ValidationException', { status: 400, body: json('ValidationException', 'One or more parameter values were invalid') }, DynamoDBServiceException, 1],
      ['400 ResourceNotFoundException', { status: 400, body: json('ResourceNotFoundException', 'Requested resource not found') }, ResourceNotFoundException, 1],
    ];

    it.each(cases)('%s: the SDK\u2019s error class, name and message, after as many attempts as the SDK makes', async (_, answer, errorClass, attempts) => {
      const outcomes: object[] = [];
      for (const { client } of [policyStateClient(proxy.endpoint, { wire: false }), await warmWireClient()]) {
        proxy.inject({ fault: 'answer', answer, times: attempts });
        let error: Error | undefined;
        const calls = await callsDuring(proxy, async () => (error = await rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey())))));
        expect(calls).toHaveLength(attempts);
        expect(error).toBeInstanceOf(errorClass);
        outcomes.push({ class: error?.constructor, ...comparable(error as Error), message: error?.message });
      }
      expect(outcomes[1]).toEqual(outcomes[0]);
      expect(outcomes[1]).toMatchObject({ $metadata: { httpStatusCode: answer.status, attempts } });
    });

    it('is retried once and then answered by the retry when the fault was transient', async () => {
      const { client } = await warmWireClient();
      proxy.inject({ fault: 'throttle' });
      const calls = await callsDuring(proxy, async () => expect(await sendDynamoDb(client, 'GetItem', getItem(newKey()))).toEqual({ $metadata: expect.objectContaining({ httpStatusCode: 200, attempts: 2 }) }));
      expect(calls.map((call) => call.fault)).toEqual(['throttle', undefined]);
    });

    it('is retried after a reset connection, as the SDK retries it', async () => {
      const { client } = await warmWireClient();
      const key = newKey();
      proxy.inject({ fault: 'reset-after', operation: 'PutItem' });
      const calls = await callsDuring(proxy, () => sendDynamoDb(client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, n: { N: '1' } } }));
      expect(calls.map((call) => call.fault)).toEqual(['reset-after', undefined]);
    });

    it.each([
      ['502 with a proxy\u2019s HTML page', { status: 502, headers: { 'content-type': 'text/html' }, body: '<html><body>502 Bad Gateway</body></html>' }, 2],
      ['403 with a plain-text body', { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' }, 1],
    ] as const)('%s: an error named by its status, retried as the SDK retries that status', async (_, answer, attempts) => {
      const { client } = await warmWireClient();
      proxy.inject({ fault: 'answer', answer, times: attempts });
      let error: Error | undefined;
      const calls = await callsDuring(proxy, async () => (error = await rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey())))));
      expect(calls).toHaveLength(attempts);
      expect(error).toBeInstanceOf(DynamoDBServiceException);
      expect(error).toMatchObject({ name: `Http${answer.status}Error`, $metadata: { httpStatusCode: answer.status, attempts } });
      expect(error?.message).toContain(`HTTP ${answer.status}`);
      expect(error?.message).not.toContain(answer.body); // no payload echoed
    });
  });

  describe('the x-amz-crc32 checksum of an answer', () => {
    it('is checked: a mismatch is retried once, as a transient fault, and the retry\u2019s answer is used', async () => {
      const { client } = await warmWireClient();
      const key = newKey();
      await sendDynamoDb(dynamo.client, 'PutItem', { TableName: dynamo.tableName, Item: { ...key, ...NESTED } });
      proxy.inject({ fault: 'bad-checksum', operation: 'GetItem' });
      let answer: object | undefined;
      const calls = await callsDuring(proxy, async () => (answer = await sendDynamoDb(client, 'GetItem', getItem(key))));
      expect(calls.map((call) => call.fault)).toEqual(['bad-checksum', undefined]);
      expect(answer).toMatchObject({ Item: { ...key, ...NESTED }, $metadata: { attempts: 2 } });
    });

    it('fails the call with a Crc32MismatchError when every attempt mismatches', async () => {
      const { client } = await warmWireClient();
      proxy.inject({ fault: 'bad-checksum', operation: 'GetItem', times: 2 });
      const error = await rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey())));
      expect(error).toMatchObject({ name: 'Crc32MismatchError', $metadata: { httpStatusCode: 200, attempts: 2 } });
    });
  });

  describe('a clock off by more than DynamoDB accepts', () => {
    afterEach(() => {
      for (const client of clients) client.config.systemClockOffset = 0;
    });

    const PATHS = [
      ['on the wire', true],
      ['through the SDK (the behaviour the wire path copies)', false],
    ] as const;
    const SKEWS = [
      // Retried as any "Signature expired" is; the retry is signed an hour later.
      ['"Signature expired" (DynamoDB an hour ahead)', 'Signature expired: 20261207T100000Z is now earlier than 20261207T104500Z (20261207T110000Z - 15 min.)', 3_600_000],
      // Retried only because the offset was corrected by more than 4 minutes (the SDK's clockSkewCorrected).
      ['"Signature not yet current" (DynamoDB an hour behind)', 'Signature not yet current: 20261207T120000Z is still later than 20261207T111500Z (20261207T110000Z + 15 min.)', -3_600_000],
    ] as const;
    const signedAt = (request: ProxiedCall['request']) => Date.parse(String(request.headers['x-amz-date']).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    const serverTimeAt = (offsetMs: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + offsetMs); // Date has whole seconds

    describe.each(PATHS)('%s', (_, wire) => {
      it.each(SKEWS)('sets the clock offset from the Date of an InvalidSignatureException %s and signs the retry with the corrected time', async (_label, message, offsetMs) => {
        const { client } = wire ? await warmWireClient() : policyStateClient(proxy.endpoint, { wire: false });
        const serverTime = serverTimeAt(offsetMs);
        proxy.inject({
          fault: 'answer',
          times: 2, // the retry too: the offset stays as the last answer set it
          answer: {
            status: 400,
            headers: { date: serverTime.toUTCString(), 'content-type': 'application/x-amz-json-1.0' },
            body: JSON.stringify({ __type: 'com.amazon.coral.service#InvalidSignatureException', message }),
          },
        });
        let error: Error | undefined;
        const calls = await callsDuring(proxy, async () => (error = await rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey())))));
        expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 400, attempts: 2 } });
        expect(calls).toHaveLength(2);
        // The answer's Date less the time it took to read it (at most a minute on any machine).
        expect(Math.abs(client.config.systemClockOffset - offsetMs)).toBeLessThan(60_000);
        expect(Math.abs(signedAt((calls[1] as ProxiedCall).request) - serverTime.getTime())).toBeLessThan(60_000);
        expect(Math.abs(signedAt((calls[0] as ProxiedCall).request) - serverTime.getTime())).toBeGreaterThan(3_000_000);
      });

      it('takes the clock offset from the Date of a successful answer too, for the next call', async () => {
        const { client } = wire ? await warmWireClient() : policyStateClient(proxy.endpoint, { wire: false });
        const serverTime = serverTimeAt(3_600_000);
        proxy.inject({ fault: 'answer', answer: { status: 200, headers: { date: serverTime.toUTCString(), 'content-type': 'application/x-amz-json-1.0' }, body: '{}' } });
        expect(await sendDynamoDb(client, 'GetItem', getItem(newKey()))).not.toHaveProperty('Item');
        expect(Math.abs(client.config.systemClockOffset - 3_600_000)).toBeLessThan(60_000);
        proxy.inject({ fault: 'answer', answer: { status: 200, headers: { date: serverTime.toUTCString(), age: '3600' }, body: '{}' } });
        const calls = await callsDuring(proxy, () => sendDynamoDb(client, 'GetItem', getItem(newKey())));
        expect(Math.abs(signedAt((calls[0] as ProxiedCall).request) - serverTime.getTime())).toBeLessThan(60_000);
        expect(Math.abs(client.config.systemClockOffset - 3_600_000)).toBeLessThan(60_000); // a cached answer's Date (Age) is not taken
      });
    });
  });

  describe('an abort', () => {
    it('rejects a hung call with an AbortError as soon as the signal fires, and sends no retry', async () => {
      const { client } = await warmWireClient();
      proxy.inject({ fault: 'hang-before', operation: 'GetItem' });
      const before = proxy.calls.length;
      const controller = new AbortController();
      const pending = rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey()), controller.signal));
      while (proxy.calls.length === before) await new Promise((resolve) => setImmediate(resolve));
      controller.abort();
      const error = await pending;
      expect(error.name).toBe('AbortError');
      // Another call's round trip: anything the aborted one still sent would have arrived before it.
      await sendDynamoDb(client, 'GetItem', getItem(newKey()));
      expect(proxy.calls.slice(before).map((call) => call.fault)).toEqual(['hang-before', undefined]);
    });

    it('rejects at once, sending nothing, when the signal has fired already', async () => {
      const { client } = await warmWireClient();
      const calls = await callsDuring(proxy, async () => expect((await rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey()), AbortSignal.abort()))).name).toBe('AbortError'));
      expect(calls).toEqual([]);
    });

    it('is how policyStateCall\u2019s per-call timeout ends a hung call: a PolicyStateUnavailableError', async () => {
      const { client } = await warmWireClient();
      proxy.inject({ fault: 'hang-after', operation: 'GetItem' });
      const failures: CallFailure[] = [];
      const word = (failure: CallFailure) => {
        failures.push(failure);
        return new PolicyStateUnavailableError(failure.kind, { cause: 'error' in failure ? failure.error : undefined });
      };
      const error = await rejectionOf(policyStateCall((signal) => sendDynamoDb(client, 'GetItem', getItem(newKey()), signal), {}, 200, word));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(failures).toMatchObject([{ kind: 'timed-out', timeoutMs: 200, error: { name: 'AbortError' } }]);
    });
  });

  describe('a retry strategy of the client\u2019s own (the token asks for the delay, as the SDK allows)', () => {
    /** One retry, after `delayMs` asked for through the token and 7 ms the strategy says it waited; `refreshed` when asked for it. */
    function ownStrategy(delayMs: number) {
      let refreshed: () => void = () => undefined;
      const asked = new Promise<void>((resolve) => (refreshed = resolve));
      const token = (count: number, delay: number) => Object.assign({ getRetryCount: () => count, getRetryDelay: () => delay }, count > 0 && { $retryLog: { acquisitionDelay: 7 } });
      const strategy: RetryStrategyV2 = {
        acquireInitialRetryToken: async () => token(0, 0),
        refreshRetryTokenForRetry: async (previous: RetryToken) => {
          if (previous.getRetryCount() >= 1) throw new Error('no retry left');
          refreshed();
          return token(1, delayMs);
        },
        recordSuccess: () => undefined,
      };
      return { strategy, asked };
    }

    it('waits the token\u2019s delay and counts it with the strategy\u2019s own wait in $metadata.totalRetryDelay, as the SDK does', async () => {
      const outputs: object[] = [];
      for (const { client } of [policyStateClient(proxy.endpoint, { wire: false, retryStrategy: ownStrategy(5).strategy }), await warmWireClient(proxy.endpoint, ownStrategy(5).strategy)]) {
        proxy.inject({ fault: 'throttle', operation: 'GetItem' });
        const { $metadata } = (await sendDynamoDb(client, 'GetItem', getItem(newKey()))) as { $metadata: { attempts?: number; totalRetryDelay?: number } };
        outputs.push({ attempts: $metadata.attempts, totalRetryDelay: $metadata.totalRetryDelay });
      }
      expect(outputs).toEqual([
        { attempts: 2, totalRetryDelay: 12 },
        { attempts: 2, totalRetryDelay: 12 },
      ]);
    });

    it('answers an abort during the delay at once, sends no retry and leaves no timer running', async () => {
      const { strategy, asked } = ownStrategy(600_000);
      const { client } = await warmWireClient(proxy.endpoint, strategy);
      proxy.inject({ fault: 'throttle', operation: 'GetItem' });
      const before = proxy.calls.length;
      const set = jest.spyOn(globalThis, 'setTimeout');
      const cleared = jest.spyOn(globalThis, 'clearTimeout');
      const controller = new AbortController();
      const pending = rejectionOf(sendDynamoDb(client, 'GetItem', getItem(newKey()), controller.signal));
      await asked; // the first attempt was throttled and the strategy granted a retry in ten minutes
      controller.abort();
      expect((await pending).name).toBe('AbortError');
      await sendDynamoDb(client, 'GetItem', getItem(newKey())); // a round trip after which a retry would have shown
      expect(proxy.calls.slice(before).map((call) => call.fault)).toEqual(['throttle', undefined]);
      // The ten-minute wait, if it was started before the abort, was cleared with it: not left running.
      const waits = set.mock.results.filter((_, i) => set.mock.calls[i]?.[1] === 600_000).map((result) => result.value as unknown);
      const clearedTimers = cleared.mock.calls.map(([timer]) => timer as unknown);
      for (const wait of waits) expect(clearedTimers).toContain(wait);
      set.mockRestore();
      cleared.mockRestore();
    });
  });

  describe('the X-Ray trace header', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of ['AWS_LAMBDA_FUNCTION_NAME', '_X_AMZN_TRACE_ID'] as const) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });
    const traceId = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

    it.each([
      ['in Lambda with _X_AMZN_TRACE_ID set', { AWS_LAMBDA_FUNCTION_NAME: 'signer', _X_AMZN_TRACE_ID: traceId }, traceId],
      ['in Lambda without _X_AMZN_TRACE_ID', { AWS_LAMBDA_FUNCTION_NAME: 'signer' }, undefined],
      ['outside Lambda, even with _X_AMZN_TRACE_ID set', { _X_AMZN_TRACE_ID: traceId }, undefined],
    ])('is sent as the SDK sends it: %s', async (_, env, expected) => {
      const wire = await warmWireClient();
      const sdk = policyStateClient(proxy.endpoint, { wire: false });
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      delete process.env._X_AMZN_TRACE_ID;
      Object.assign(process.env, env);
      const calls = await callsDuring(proxy, async () => {
        await sendDynamoDb(wire.client, 'GetItem', getItem(newKey()));
        await sendDynamoDb(sdk.client, 'GetItem', getItem(newKey()));
      });
      expect(wire.sdkSends()).toBe(1);
      expect(calls.map((call) => call.request.headers['x-amzn-trace-id'])).toEqual([expected, expected]);
    });
  });
});
