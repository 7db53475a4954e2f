// Attack class: spending-limit reservations and releases under every DynamoDB fault. The client is configured as
// deployed (maxAttempts 2: the SDK sends a write again after a reset connection or a 500), DynamoDB is dynalite
// behind a fault-injecting proxy, and each test counts exactly what the limit holds afterwards. Every spec runs
// twice: with a plain SDK client, and with the client as sharedPolicyStateClient builds it (createWireClient: after
// the table's first call, every call, faulted or not, is sent on the wire by dynamodb-wire.ts).
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DYNALITE_CREDENTIALS } from '../../scripts/local-stack/dynamodb';
import { createWireClient, sendDynamoDb } from '../../lambdas/policy-state/dynamodb-wire';
import { createTrimmedClient } from '../../lambdas/signer/kms-client';
import { PolicyStateUnavailableError, SpendingLimitExceededError } from '../../lambdas/policy-state/errors';
import type { SpendCharge, SpendingLimit } from '../../lambdas/policy/spending';
import { SpendingStore, type Reservation } from '../../lambdas/policy-state/spending-store';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';
import { startDynamoDbFaultProxy, type DynamoDbFault, type DynamoDbFaultProxy, type ProxiedCall } from '../helpers/dynamodb-fault-proxy';
import { rejectionOf } from '../helpers/rejection';
import { recordSdkCommands } from '../helpers/sdk-commands';

const ETHER = 10n ** 18n;
const DAY = 86_400;
let keys = 0;
const newKey = () => `arn:aws:kms:us-east-1:111122223333:key/faults-${++keys}`;

let dynamo: LocalDynamoDb;
let proxy: DynamoDbFaultProxy;
let client: DynamoDBClient;
let store: SpendingStore;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  proxy = await startDynamoDbFaultProxy(dynamo.endpoint);
});
afterAll(async () => {
  await proxy.close();
  await dynamo.close();
});
afterEach(() => expect(proxy.pending()).toEqual([])); // every scripted fault was actually hit

/** A client for `endpoint` and how many calls went through the SDK's middleware (the rest went on the wire). */
interface CountedClient {
  readonly client: DynamoDBClient;
  readonly sdkSends: () => number;
}

/** Counts the calls that go through the SDK's middleware stack. */
function countingSdkSends(client: DynamoDBClient): CountedClient {
  const commands = recordSdkCommands(client);
  return { client, sdkSends: () => commands.length };
}

// As sharedPolicyStateClient configures it: two attempts, so an unacknowledged write is sent again.
const DEPLOYED = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } };
const CLIENTS: [string, (endpoint: string) => CountedClient][] = [
  ['the SDK client', (endpoint) => countingSdkSends(dynamo.newClient({ endpoint, ...DEPLOYED }))],
  ['the wire client (createWireClient, as deployed)', (endpoint) => countingSdkSends(createWireClient(createTrimmedClient(DynamoDBClient, { endpoint, region: 'us-east-1', credentials: DYNALITE_CREDENTIALS, ...DEPLOYED })))],
];
const wire = (kind: string) => kind !== CLIENTS[0]?.[0];
/** Sends the table's first call (a read of an item nobody uses). */
const warmUp = (client: DynamoDBClient) => sendDynamoDb(client, 'GetItem', { TableName: dynamo.tableName, Key: { pk: { S: 'warm-up' }, sk: { S: 'spending' } } });

const daily = (id: string, fields: Partial<SpendingLimit> = {}): SpendingLimit => ({ id, windowSeconds: DAY, asset: 'native', maxAmount: 10n * ETHER, ...fields });
const pay = (limit: SpendingLimit, amount = ETHER): SpendCharge => ({ limit, amount });
const reserve = (keyArn: string, charges: SpendCharge[]) => store.reserve(charges, { keyArn, reservationId: 'attack' });

// The single updates: a reservation's is conditioned on no bucket having expired yet, a release's subtracts.
const isFastReserve = (call: ProxiedCall) => call.operation === 'UpdateItem' && String(call.input.ConditionExpression).includes('#p > :now');
const isFastRelease = (call: ProxiedCall) => call.operation === 'UpdateItem' && String(call.input.UpdateExpression).includes('- :one');
const isRebuiltWrite = (call: ProxiedCall) => call.operation === 'UpdateItem' && call.input.ConditionExpression === '#v = :v';

/** What a limit holds in DynamoDB right now: its amount and its number of signatures. */
async function counted(keyArn: string, limit: SpendingLimit): Promise<{ amount: bigint; count: number }> {
  const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: { pk: { S: keyArn }, sk: { S: 'spending' } }, ConsistentRead: true }));
  const entry = Item?.limits?.M?.[`${limit.id}@${limit.asset}`]?.M;
  return { amount: BigInt(entry?.t?.N ?? '0'), count: Number(entry?.n?.N ?? '0') };
}

/** Tries `n` payouts of 1 ETH; how many were reserved. */
async function payouts(keyArn: string, limit: SpendingLimit, n: number): Promise<number> {
  let reserved = 0;
  for (let i = 0; i < n; i++) {
    try {
      await reserve(keyArn, [pay(limit)]);
      reserved++;
    } catch (error) {
      expect(error).toBeInstanceOf(SpendingLimitExceededError);
    }
  }
  return reserved;
}

describe.each(CLIENTS)('with %s', (kind, makeClient) => {
  let made: CountedClient;
  beforeAll(async () => {
    made = makeClient(proxy.endpoint);
    client = made.client;
    store = new SpendingStore({ tableName: dynamo.tableName, client, callTimeoutMs: 3000 });
    await warmUp(client); // the table's first call: through the SDK for either client
  });
  afterAll(() => {
    // The wire client sent every call after the first on the wire: the faults above were the wire path's.
    if (wire(kind)) expect(made.sdkSends()).toBe(1);
    client.destroy();
  });

  describe('a release applied by DynamoDB but not acknowledged (issue 22 item 2)', () => {
    it.each<DynamoDbFault>(['reset-after', '500-after'])('gives back one charge, not two, when the release is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      expect(await payouts(keyArn, cap, 9)).toBe(9);
      const refused = await reserve(keyArn, [pay(cap)]); // the request with a wrong `from`: reserved, then given back
      proxy.inject({ fault, when: isFastRelease });
      await store.release(refused);
      expect(await counted(keyArn, cap)).toEqual({ amount: 9n * ETHER, count: 9 });
      expect(await payouts(keyArn, cap, 3)).toBe(1); // 10 ETH against a cap of 10, never 11
    });

    it.each<DynamoDbFault>(['reset-after', '500-after'])('gives back one charge when the slow path\u2019s rebuilt release is answered with %s, re-read and retried', async (fault) => {
      const keyArn = newKey();
      const nine = Array.from({ length: 9 }, (_, i) => daily(`rule:r${i}:eth`)); // more than 8 limits: the slow path
      for (let i = 0; i < 9; i++) await reserve(keyArn, nine.map((l) => pay(l)));
      const refused = await reserve(keyArn, nine.map((l) => pay(l)));
      proxy.inject({ fault, when: isRebuiltWrite });
      await store.release(refused);
      for (const limit of nine) expect(await counted(keyArn, limit)).toEqual({ amount: 9n * ETHER, count: 9 });
      await reserve(keyArn, nine.map((l) => pay(l)));
      expect(await rejectionOf(reserve(keyArn, nine.map((l) => pay(l))))).toBeInstanceOf(SpendingLimitExceededError);
    });

    it('gives back nothing when a reservation already given back is released again (a copy of it, as another instance would hold)', async () => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      expect(await payouts(keyArn, cap, 1)).toBe(1);
      const reservation = await reserve(keyArn, [pay(cap)]);
      await store.release(reservation);
      await store.release({ ...reservation } as Reservation);
      expect(await counted(keyArn, cap)).toEqual({ amount: ETHER, count: 1 });
      expect(await payouts(keyArn, cap, 10)).toBe(9);
    });
  });

  describe('a reservation applied by DynamoDB but not acknowledged (issue 22 item 2, the mirror image)', () => {
    it.each<DynamoDbFault>(['reset-after', '500-after'])('counts the single update once when it is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      expect(await payouts(keyArn, cap, 1)).toBe(1); // the item exists: the next reservation takes the single update
      proxy.inject({ fault, when: isFastReserve });
      await reserve(keyArn, [pay(cap)]);
      expect(await counted(keyArn, cap)).toEqual({ amount: 2n * ETHER, count: 2 });
      expect(await payouts(keyArn, cap, 9)).toBe(8); // all 10 payouts of the cap, not 9
    });

    it.each<DynamoDbFault>(['reset-after', '500-after'])('counts the first write of the item once when it is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      proxy.inject({ fault, operation: 'PutItem' });
      await reserve(keyArn, [pay(cap)]);
      expect(await counted(keyArn, cap)).toEqual({ amount: ETHER, count: 1 });
      expect(await payouts(keyArn, cap, 10)).toBe(9);
    });

    it.each<DynamoDbFault>(['reset-after', '500-after'])('counts the rebuilt write once when it is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      await reserve(keyArn, [pay(daily('key:other', { maxAmount: undefined, maxCount: 100 }), 0n)]); // the item exists, without this limit
      proxy.inject({ fault, when: isRebuiltWrite });
      await reserve(keyArn, [pay(cap)]);
      expect(await counted(keyArn, cap)).toEqual({ amount: ETHER, count: 1 });
      expect(await payouts(keyArn, cap, 10)).toBe(9);
    });

    it('counts a reservation of more than 8 limits once when its rebuilt write is applied, reset and sent again', async () => {
      const keyArn = newKey();
      const nine = Array.from({ length: 9 }, (_, i) => daily(`rule:m${i}:eth`));
      await reserve(keyArn, nine.map((l) => pay(l)));
      proxy.inject({ fault: 'reset-after', when: isRebuiltWrite });
      await reserve(keyArn, nine.map((l) => pay(l)));
      for (const limit of nine) expect(await counted(keyArn, limit)).toEqual({ amount: 2n * ETHER, count: 2 });
    });
  });

  describe('reserve and release under every DynamoDB fault: exactly the cap, never more', () => {
    const faults: DynamoDbFault[] = ['reset-before', '500-before', 'throttle', 'reset-after', '500-after'];
    const sites: [string, (call: ProxiedCall) => boolean][] = [
      ['the single update', isFastReserve],
      ['the read', (call) => call.operation === 'GetItem'],
    ];

    describe.each(sites)('on %s of a reservation', (_, site) => {
      it.each(faults)('with %s once (the SDK sends it again): counted once', async (fault) => {
        const keyArn = newKey();
        const cap = daily('key:daily-eth');
        await reserve(keyArn, [pay(cap)]);
        // A reservation that takes the read: the single update is refused (a new limit), then the read is faulted.
        const charges = site === isFastReserve ? [pay(cap)] : [pay(cap), pay(daily('key:new'))];
        proxy.inject({ fault, when: site });
        await reserve(keyArn, charges);
        expect(await counted(keyArn, cap)).toEqual({ amount: 2n * ETHER, count: 2 });
        expect(await payouts(keyArn, cap, 9)).toBe(8);
      });

      it.each(faults)('with %s on both attempts: fails closed, counted at most once', async (fault) => {
        const keyArn = newKey();
        const cap = daily('key:daily-eth');
        await reserve(keyArn, [pay(cap)]);
        const charges = site === isFastReserve ? [pay(cap)] : [pay(cap), pay(daily('key:new'))];
        proxy.inject({ fault, when: site, times: 2 });
        expect(await rejectionOf(reserve(keyArn, charges))).toBeInstanceOf(PolicyStateUnavailableError);
        const { count } = await counted(keyArn, cap);
        // Applied writes stay counted (stricter), until their bucket leaves the window; never twice.
        expect(count).toBe(fault.endsWith('-after') && site === isFastReserve ? 2 : 1);
        expect(await payouts(keyArn, cap, 10)).toBe(10 - count);
      });
    });

    describe('on a release', () => {
      it.each(faults)('with %s once: given back exactly once', async (fault) => {
        const keyArn = newKey();
        const cap = daily('key:daily-eth');
        await payouts(keyArn, cap, 5);
        const refused = await reserve(keyArn, [pay(cap)]);
        proxy.inject({ fault, when: isFastRelease });
        await store.release(refused);
        expect(await counted(keyArn, cap)).toEqual({ amount: 5n * ETHER, count: 5 });
        expect(await payouts(keyArn, cap, 6)).toBe(5);
      });

      it.each(faults)('with %s on both attempts: fails closed, given back at most once', async (fault) => {
        const keyArn = newKey();
        const cap = daily('key:daily-eth');
        await payouts(keyArn, cap, 5);
        const refused = await reserve(keyArn, [pay(cap)]);
        proxy.inject({ fault, when: isFastRelease, times: 2 });
        expect(await rejectionOf(store.release(refused))).toBeInstanceOf(PolicyStateUnavailableError);
        const { count } = await counted(keyArn, cap);
        expect(count).toBe(fault.endsWith('-after') ? 5 : 6);
        await store.release(refused); // a second call in this process does nothing
        expect(await counted(keyArn, cap)).toEqual({ amount: BigInt(count) * ETHER, count });
      });
    });

    it.each<DynamoDbFault>(['hang-before', 'hang-after'])('gives up on a reservation whose single update gets no answer (%s) within the call timeout, counted at most once', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      await reserve(keyArn, [pay(cap)]);
      const quick = new SpendingStore({ tableName: dynamo.tableName, client, callTimeoutMs: 300 });
      proxy.inject({ fault, when: isFastReserve });
      expect(await rejectionOf(quick.reserve([pay(cap)], { keyArn, reservationId: 'hung' }))).toBeInstanceOf(PolicyStateUnavailableError);
      expect((await counted(keyArn, cap)).count).toBe(fault === 'hang-after' ? 2 : 1);
    });
  });

  describe('many requests at once, throttling among them, and DynamoDB gone', () => {
    // These count what 50 racing requests let through, not how fast they go: a loaded machine may take longer than
    // the deployed 3 s per call to answer 50 at once, and a call that gave up would fail closed and spoil the count.
    const race = (keyArn: string, limit: SpendingLimit, n: number) => {
      const patient = new SpendingStore({ tableName: dynamo.tableName, client, callTimeoutMs: 240_000 });
      return Promise.allSettled(Array.from({ length: n }, (_, i) => patient.reserve([pay(limit)], { keyArn, reservationId: `racer-${i}` })));
    };

    it('lets exactly the cap through when 50 requests reserve at once', async () => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      await reserve(keyArn, [pay(cap, 0n)]); // the item exists: the racers take the single update
      const results = await race(keyArn, cap, 50);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
      for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(SpendingLimitExceededError);
      expect(await counted(keyArn, cap)).toEqual({ amount: 10n * ETHER, count: 11 });
    }, 300_000);

    it('counts exactly what it lets through when 50 requests reserve at once and some of their calls are throttled', async () => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      proxy.inject({ fault: 'throttle', when: isFastReserve, times: 8 });
      const results = await race(keyArn, cap, 50);
      const through = results.filter((result) => result.status === 'fulfilled').length;
      for (const result of results) if (result.status === 'rejected') expect([SpendingLimitExceededError, PolicyStateUnavailableError]).toContain(result.reason.constructor);
      expect(through).toBeLessThanOrEqual(10);
      expect(await counted(keyArn, cap)).toEqual({ amount: BigInt(through) * ETHER, count: through }); // a throttled write is never applied
    }, 300_000);

    it('fails closed, counting nothing more, when DynamoDB refuses connections after the table\u2019s first calls', async () => {
      const gone = await startDynamoDbFaultProxy(dynamo.endpoint);
      const own = makeClient(gone.endpoint).client;
      try {
        const ownStore = new SpendingStore({ tableName: dynamo.tableName, client: own, callTimeoutMs: 3000 });
        const keyArn = newKey();
        const cap = daily('key:daily-eth');
        await ownStore.reserve([pay(cap)], { keyArn, reservationId: 'before' });
        await gone.close();
        expect(await rejectionOf(ownStore.reserve([pay(cap)], { keyArn, reservationId: 'after' }))).toBeInstanceOf(PolicyStateUnavailableError);
        expect(await counted(keyArn, cap)).toEqual({ amount: ETHER, count: 1 });
      } finally {
        own.destroy();
      }
    });
  });

  describe('the same faults when DynamoDB returns the item with a failed condition (as DynamoDB does: no read follows)', () => {
    let asDynamoDb: DynamoDbFaultProxy;
    let direct: SpendingStore;
    let directClient: CountedClient;
    beforeAll(async () => {
      asDynamoDb = await startDynamoDbFaultProxy(dynamo.endpoint, { returnItemOnConditionFailure: true });
      directClient = makeClient(asDynamoDb.endpoint);
      direct = new SpendingStore({ tableName: dynamo.tableName, client: directClient.client, callTimeoutMs: 3000 });
      await warmUp(directClient.client);
    });
    afterAll(async () => {
      if (wire(kind)) expect(directClient.sdkSends()).toBe(1);
      directClient.client.destroy();
      await asDynamoDb.close();
    });
    afterEach(() => expect(asDynamoDb.pending()).toEqual([]));

    it.each<DynamoDbFault>(['reset-after', '500-after'])('gives back one charge when the release is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      for (let i = 0; i < 9; i++) await direct.reserve([pay(cap)], { keyArn, reservationId: `p${i}` });
      const refused = await direct.reserve([pay(cap)], { keyArn, reservationId: 'refused' });
      asDynamoDb.inject({ fault, when: isFastRelease });
      const before = asDynamoDb.calls.length;
      await direct.release(refused);
      expect(await counted(keyArn, cap)).toEqual({ amount: 9n * ETHER, count: 9 });
      expect(asDynamoDb.calls.slice(before).map((call) => call.operation)).toEqual(['UpdateItem', 'UpdateItem']); // sent, sent again: refused with the item
    });

    it.each<DynamoDbFault>(['reset-after', '500-after'])('counts a reservation once when its single update is answered with %s and sent again', async (fault) => {
      const keyArn = newKey();
      const cap = daily('key:daily-eth');
      await direct.reserve([pay(cap)], { keyArn, reservationId: 'first' });
      asDynamoDb.inject({ fault, when: isFastReserve });
      await direct.reserve([pay(cap)], { keyArn, reservationId: 'second' });
      expect(await counted(keyArn, cap)).toEqual({ amount: 2n * ETHER, count: 2 });
    });
  });
});
