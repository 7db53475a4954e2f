import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SpendCharge, SpendingLimit } from '../../../lambdas/policy/spending';
import { InvalidSpendingLimitError, PolicyStateUnavailableError, SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';
import { BUCKETS_PER_WINDOW } from '../../../lambdas/policy-state/rolling-window';
import { SpendingStore, callSignal, type ReserveOptions } from '../../../lambdas/policy-state/spending-store';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy } from '../../helpers/dynamodb-fault-proxy';
import { rejectionOf } from '../../helpers/rejection';
import { freshModule } from '../../helpers/fresh-module';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';
const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/66666666-7777-8888-9999-000000000000';
const DAY = 86_400;
const T0 = Date.UTC(2026, 0, 1); // a multiple of every bucket span used here

const ether = (n: bigint) => n * 10n ** 18n;
const limit = (fields: Partial<SpendingLimit> & { id: string }): SpendingLimit => ({ windowSeconds: DAY, asset: 'native', ...fields });
const charge = (l: SpendingLimit, amount: bigint): SpendCharge => ({ limit: l, amount });

let dynamo: LocalDynamoDb;
let store: SpendingStore;
let sequence = 0;
const at = (nowMs: number, keyArn = KEY): ReserveOptions => ({ keyArn, reservationId: `req-${++sequence}`, nowMs });

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  store = new SpendingStore({ tableName: dynamo.tableName, client: dynamo.client });
});
afterAll(async () => dynamo.close());

/** A key's spending item as stored (consistent read). */
async function itemOf(keyArn: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: { pk: { S: keyArn }, sk: { S: 'spending' } }, ConsistentRead: true }))).Item;
}

/** Rewrites a key's spending item without its reservation records, as the store wrote items before records existed. */
async function dropRecords(keyArn: string): Promise<void> {
  const { r: _records, ...withoutRecords } = (await itemOf(keyArn)) ?? {};
  await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: { ...withoutRecords, pk: { S: keyArn }, sk: { S: 'spending' } } }));
}

async function settle<T>(promises: Promise<T>[]): Promise<{ fulfilled: T[]; rejected: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    fulfilled: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    rejected: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

describe('SpendingStore.reserve', () => {
  it('counts amounts up to the cap and refuses the charge that would exceed it, naming the limit, window and what remains', async () => {
    const daily = limit({ id: 'key:daily-a', maxAmount: ether(10n) });
    await store.reserve([charge(daily, ether(4n))], at(T0));
    await store.reserve([charge(daily, ether(6n))], at(T0 + 1000));
    const error = await rejectionOf(store.reserve([charge(daily, 1n)], at(T0 + 2000)));
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    const exceeded = error as SpendingLimitExceededError;
    expect(exceeded.limit).toMatchObject({ limitId: 'key:daily-a', windowSeconds: DAY, remainingAmount: 0n });
    expect(exceeded.message).toContain('"key:daily-a"');
    expect(exceeded.message).toContain('86400 s');
    expect(exceeded.message).toContain('0 remain');
  });

  it('reports the exact amount that remains when a charge does not fit', async () => {
    const daily = limit({ id: 'key:daily-b', maxAmount: 1000n });
    await store.reserve([charge(daily, 750n)], at(T0));
    const error = (await rejectionOf(store.reserve([charge(daily, 251n)], at(T0)))) as SpendingLimitExceededError;
    expect(error.limit.remainingAmount).toBe(250n);
    await store.reserve([charge(daily, 250n)], at(T0)); // exactly the remainder fits
  });

  it('caps the number of signatures in the window', async () => {
    const count = limit({ id: 'key:count-a', maxCount: 3 });
    for (let i = 0; i < 3; i++) await store.reserve([charge(count, 0n)], at(T0 + i));
    const error = (await rejectionOf(store.reserve([charge(count, 0n)], at(T0 + 10)))) as SpendingLimitExceededError;
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    expect(error.limit.remainingCount).toBe(0);
  });

  it('refuses a single charge larger than the cap without counting it', async () => {
    const daily = limit({ id: 'key:daily-c', maxAmount: 100n });
    expect(await rejectionOf(store.reserve([charge(daily, 101n)], at(T0)))).toBeInstanceOf(SpendingLimitExceededError);
    await store.reserve([charge(daily, 100n)], at(T0));
  });

  it('is atomic across limits: when one limit is over, none of the others is charged', async () => {
    const wide = limit({ id: 'key:wide', maxAmount: 1000n });
    const narrow = limit({ id: 'rule:payouts:narrow', maxAmount: 10n });
    await store.reserve([charge(wide, 5n), charge(narrow, 5n)], at(T0));
    expect(await rejectionOf(store.reserve([charge(wide, 500n), charge(narrow, 6n)], at(T0)))).toBeInstanceOf(SpendingLimitExceededError);
    // Had the refused reservation counted 500 against `wide`, 995 would no longer fit.
    await store.reserve([charge(wide, 995n)], at(T0));
    expect(await rejectionOf(store.reserve([charge(wide, 1n)], at(T0)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('keeps separate keys apart', async () => {
    const daily = limit({ id: 'key:per-key', maxCount: 1 });
    await store.reserve([charge(daily, 0n)], at(T0, KEY));
    await store.reserve([charge(daily, 0n)], at(T0, OTHER_KEY));
    expect(await rejectionOf(store.reserve([charge(daily, 0n)], at(T0, KEY)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('keeps an ERC-20 limit apart from a native limit of the same id', async () => {
    const native = limit({ id: 'key:asset', maxAmount: 10n });
    const token = limit({ id: 'key:asset', maxAmount: 10n, asset: '0x' + 'ab'.repeat(20) });
    await store.reserve([charge(native, 10n)], at(T0));
    await store.reserve([charge(token, 10n)], at(T0));
  });

  it('counts caps above DynamoDB precision (up to 2^256-1) conservatively, never over the cap', async () => {
    const max = 2n ** 256n - 1n;
    const huge = limit({ id: 'key:huge', maxAmount: max });
    await store.reserve([charge(huge, max / 2n)], at(T0));
    await store.reserve([charge(huge, max / 3n)], at(T0));
    const error = (await rejectionOf(store.reserve([charge(huge, max / 5n)], at(T0)))) as SpendingLimitExceededError;
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    expect(error.limit.remainingAmount).toBeLessThanOrEqual(max - max / 2n - max / 3n);
  });

  it('makes no DynamoDB call when no limit applies', async () => {
    const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 });
    const offline = new SpendingStore({ tableName: 'none', client });
    const reservation = await offline.reserve([], at(T0));
    expect(reservation.charges).toEqual([]);
    await offline.release(reservation);
    client.destroy();
  });
});

describe('SpendingStore.release', () => {
  it('gives back what a reservation counted, once even if called twice', async () => {
    const daily = limit({ id: 'key:release-a', maxAmount: 100n, maxCount: 2 });
    await store.reserve([charge(daily, 60n)], at(T0));
    const failed = await store.reserve([charge(daily, 40n)], at(T0));
    expect(await rejectionOf(store.reserve([charge(daily, 1n)], at(T0)))).toBeInstanceOf(SpendingLimitExceededError);
    await store.release(failed);
    await store.release(failed);
    await store.reserve([charge(daily, 40n)], at(T0));
    expect(await rejectionOf(store.reserve([charge(daily, 0n)], at(T0)))).toBeInstanceOf(SpendingLimitExceededError); // count: 2 again
  });

  it('releases every limit of a multi-limit reservation', async () => {
    const a = limit({ id: 'key:release-b1', maxAmount: 10n });
    const b = limit({ id: 'key:release-b2', maxCount: 1 });
    const reservation = await store.reserve([charge(a, 10n), charge(b, 10n)], at(T0));
    await store.release(reservation);
    await store.reserve([charge(a, 10n), charge(b, 10n)], at(T0));
  });

  it.each([
    ['the bucket', 'limits.#e.b.#k'],
    ['the total', 'limits.#e.t'],
  ])('never takes a stored amount below zero: when %s holds less than the release gives back, it is emptied', async (_, path) => {
    const daily = limit({ id: 'key:release-short', maxAmount: 100n });
    const keyArn = `${KEY}/release-short-${path}`;
    const now = Date.now(); // a release that reads the item prunes at the real time
    const reservation = await store.reserve([charge(daily, 60n)], at(now, keyArn));
    // Someone else's write (an operator's repair) left 20 where the reservation counted 60.
    const bucketIndex = reservation.charges[0]?.bucketIndex;
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: dynamo.tableName,
        Key: { pk: { S: keyArn }, sk: { S: 'spending' } },
        UpdateExpression: `SET ${path} = :twenty`,
        ExpressionAttributeNames: { '#e': 'key:release-short@native', ...(path.includes('#k') && { '#k': String(bucketIndex) }) },
        ExpressionAttributeValues: { ':twenty': { N: '20' } },
      }),
    );
    await store.release(reservation);
    // A negative amount would be refused as malformed by every later reservation of the key.
    await store.reserve([charge(daily, 100n)], at(now, keyArn));
    expect(await rejectionOf(store.reserve([charge(daily, 1n)], at(now, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
  });
});

describe('SpendingStore reservation records (what makes a reserve and a release apply exactly once)', () => {
  const recordIds = (item: Record<string, AttributeValue> | undefined) => Object.values(item?.r?.M ?? {}).flatMap((slot) => Object.keys(slot.M ?? {}));

  it('records each reservation by a random id in the slot of the minute its invocation\u2019s deadline (plus a margin) ends in', async () => {
    const keyArn = `${KEY}/records-a`;
    const deadlineMs = Date.now() + 10_000;
    const first = await store.reserve([charge(limit({ id: 'key:records-a', maxCount: 5 }), 0n)], { ...at(T0, keyArn), deadlineMs });
    const second = await store.reserve([charge(limit({ id: 'key:records-a', maxCount: 5 }), 0n)], { ...at(T0, keyArn), deadlineMs });
    expect(first.record.id).not.toBe(second.record.id);
    expect([first.record.id, second.record.id]).toEqual([expect.stringMatching(/^[\w-]{16}$/), expect.stringMatching(/^[\w-]{16}$/)]);
    expect(Number(first.record.slot) * 60_000).toBeGreaterThanOrEqual(deadlineMs + 120_000);
    expect(Number(first.record.slot) * 60_000).toBeLessThan(deadlineMs + 180_000);
    expect(recordIds(await itemOf(keyArn)).sort()).toEqual([first.record.id, second.record.id].sort());
  });

  it('keeps the record of a reservation made without a deadline for Lambda\u2019s longest invocation (15 minutes) plus the margin', async () => {
    const keyArn = `${KEY}/records-f`;
    const now = Date.now();
    const { record } = await store.reserve([charge(limit({ id: 'key:records-f', maxCount: 5 }), 0n)], at(T0, keyArn));
    expect(Number(record.slot) * 60_000).toBeGreaterThanOrEqual(now + 17 * 60_000);
    expect(Number(record.slot) * 60_000).toBeLessThan(Date.now() + 18 * 60_000);
  });

  it('removes the record with the release that gives the reservation back', async () => {
    const keyArn = `${KEY}/records-b`;
    const capped = limit({ id: 'key:records-b', maxCount: 5 });
    await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    const released = await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    await store.release(released);
    expect(recordIds(await itemOf(keyArn))).not.toContain(released.record.id);
    expect(recordIds(await itemOf(keyArn))).toHaveLength(1);
  });

  it('gives nothing back for a reservation whose record is gone (expired, or released by another copy)', async () => {
    const keyArn = `${KEY}/records-c`;
    const capped = limit({ id: 'key:records-c', maxCount: 1 });
    const reservation = await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    await store.release({ ...reservation, record: { ...reservation.record, id: 'never-recorded' } });
    expect(await rejectionOf(store.reserve([charge(capped, 0n)], at(T0, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('drops the records of invocations that have ended at the next rebuilt write, keeping the item small', async () => {
    const keyArn = `${KEY}/records-d`;
    const capped = limit({ id: 'key:records-d', maxCount: 100 });
    const now = Date.now();
    const old = await store.reserve([charge(capped, 0n)], { ...at(T0, keyArn), deadlineMs: now + 1000 });
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 10 * 60_000);
    try {
      const fresh = await store.reserve([charge(limit({ id: 'key:records-d2', maxCount: 1 }), 0n)], { ...at(T0, keyArn), deadlineMs: now + 10 * 60_000 + 1000 }); // a new limit: a rebuilt write
      const item = await itemOf(keyArn);
      expect(recordIds(item)).toEqual([fresh.record.id]);
      expect(Object.keys(item?.r?.M ?? {}).every((slot) => Number(slot) * 60_000 >= now + 10 * 60_000)).toBe(true);
      await store.release(old); // its record is gone: its charge stays counted (stricter)
      expect((await itemOf(keyArn))?.limits?.M?.['key:records-d@native']?.M?.n?.N).toBe('1');
    } finally {
      clock.mockRestore();
    }
  });

  it('takes the single update on an item written before records existed only after one rebuilt write adds them', async () => {
    const keyArn = `${KEY}/records-e`;
    const capped = limit({ id: 'key:records-e', maxCount: 3 });
    await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    await dropRecords(keyArn);
    await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    expect(await rejectionOf(store.reserve([charge(capped, 0n)], at(T0, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
    expect(recordIds(await itemOf(keyArn))).toHaveLength(2);
  });
});

describe('SpendingStore refusals of a request that may be a retry (ReserveOptions.retryKey, the idempotency hash)', () => {
  const refusal = async (promise: Promise<unknown>) => {
    const error = await rejectionOf(promise);
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    return error as SpendingLimitExceededError;
  };

  it('says whether the item holds a live reservation of the same request: true for a retry, false for another request', async () => {
    const keyArn = `${KEY}/retry-a`;
    const once = limit({ id: 'key:retry-a', maxCount: 1 });
    const deadlineMs = Date.now() + 10_000;
    const first = await store.reserve([charge(once, 0n)], { ...at(T0, keyArn), deadlineMs, retryKey: 'request-a' });
    // The record id starts with the request's tag; each attempt still has its own id (exactly once per attempt).
    expect(first.record.id).toMatch(/^[\w-]{16}$/);
    expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), deadlineMs, retryKey: 'request-a' }))).sameRequestReserved).toBe(true);
    expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), deadlineMs, retryKey: 'request-b' }))).sameRequestReserved).toBe(false);
  });

  it('leaves the question open (undefined) for a request without a retry key: its caller must look for itself', async () => {
    const keyArn = `${KEY}/retry-b`;
    const once = limit({ id: 'key:retry-b', maxCount: 1 });
    await store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' });
    const error = await refusal(store.reserve([charge(once, 0n)], at(T0, keyArn)));
    expect(error.sameRequestReserved).toBeUndefined();
  });

  it('finds the reservation of a retried request until its record expires (its invocation’s deadline plus the margin), not after', async () => {
    const keyArn = `${KEY}/retry-c`;
    const once = limit({ id: 'key:retry-c', maxCount: 1 });
    const now = Date.now();
    await store.reserve([charge(once, 0n)], { ...at(T0, keyArn), deadlineMs: now + 1000, retryKey: 'request-a' });
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(now + 1000 + 60_000);
      expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(true);
      clock.mockReturnValue(now + 1000 + 120_000 + 60_000);
      expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(false);
    } finally {
      clock.mockRestore();
    }
  });

  it('still finds it in the last minute of its slot (records live until the end of the minute they are named by)', async () => {
    const keyArn = `${KEY}/retry-f`;
    const once = limit({ id: 'key:retry-f', maxCount: 1 });
    const { record } = await store.reserve([charge(once, 0n)], { ...at(T0, keyArn), deadlineMs: Date.now() + 1000, retryKey: 'request-a' });
    const clock = jest.spyOn(Date, 'now').mockReturnValue((Number(record.slot) - 1) * 60_000 + 1);
    try {
      expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });

  it('says false for a key whose spending item does not exist yet, or holds no records (written before they existed)', async () => {
    const nothing = limit({ id: 'key:retry-g', maxCount: 0 });
    expect((await refusal(store.reserve([charge(nothing, 0n)], { ...at(T0, `${KEY}/retry-g`), retryKey: 'request-a' }))).sameRequestReserved).toBe(false);
    const keyArn = `${KEY}/retry-h`;
    const once = limit({ id: 'key:retry-h', maxCount: 1 });
    await store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' });
    await dropRecords(keyArn);
    expect((await refusal(store.reserve([charge(once, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(false);
  });

  it('no longer finds a reservation that was given back (signing failed: nothing of it was kept)', async () => {
    const keyArn = `${KEY}/retry-d`;
    const capped = limit({ id: 'key:retry-d', maxCount: 1 });
    const released = await store.reserve([charge(capped, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' });
    await store.release(released);
    await store.reserve([charge(capped, 0n)], { ...at(T0, keyArn), retryKey: 'request-b' });
    expect((await refusal(store.reserve([charge(capped, 0n)], { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(false);
  });

  it('tells a retry on the slow path too (more than 8 limits: the item is read and rebuilt)', async () => {
    const keyArn = `${KEY}/retry-e`;
    const limits = Array.from({ length: 9 }, (_, i) => limit({ id: `key:retry-e-${i}`, maxCount: 1 }));
    await store.reserve(limits.map((l) => charge(l, 0n)), { ...at(T0, keyArn), retryKey: 'request-a' });
    expect((await refusal(store.reserve(limits.map((l) => charge(l, 0n)), { ...at(T0, keyArn), retryKey: 'request-a' }))).sameRequestReserved).toBe(true);
    expect((await refusal(store.reserve(limits.map((l) => charge(l, 0n)), { ...at(T0, keyArn), retryKey: 'request-b' }))).sameRequestReserved).toBe(false);
  });
});

describe('SpendingStore rolling window', () => {
  const spanMs = (DAY * 1000) / BUCKETS_PER_WINDOW;

  it('keeps counting a charge until its whole bucket has left the window, then frees it', async () => {
    const daily = limit({ id: 'key:rolling-a', maxAmount: 10n });
    const chargedAt = T0 + spanMs / 2; // mid-bucket
    await store.reserve([charge(daily, 10n)], at(chargedAt));
    const freedAt = T0 + spanMs + DAY * 1000; // the bucket's end plus the window
    expect(await rejectionOf(store.reserve([charge(daily, 1n)], at(chargedAt + DAY * 1000)))).toBeInstanceOf(SpendingLimitExceededError);
    const error = (await rejectionOf(store.reserve([charge(daily, 1n)], at(freedAt - 1)))) as SpendingLimitExceededError;
    expect(error.limit.nextReleaseMs).toBe(freedAt);
    await store.reserve([charge(daily, 10n)], at(freedAt));
  });

  it('frees old buckets one by one as the window rolls', async () => {
    const hourly = limit({ id: 'key:rolling-b', windowSeconds: 3600, maxCount: 2 });
    const span = (3600 * 1000) / BUCKETS_PER_WINDOW;
    await store.reserve([charge(hourly, 0n)], at(T0));
    await store.reserve([charge(hourly, 0n)], at(T0 + 5 * span));
    expect(await rejectionOf(store.reserve([charge(hourly, 0n)], at(T0 + 6 * span)))).toBeInstanceOf(SpendingLimitExceededError);
    await store.reserve([charge(hourly, 0n)], at(T0 + span + 3_600_000)); // the first bucket has left
    expect(await rejectionOf(store.reserve([charge(hourly, 0n)], at(T0 + span + 3_600_000)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('keeps counting conservatively when the policy changes the window', async () => {
    const before = limit({ id: 'key:rolling-c', windowSeconds: 3600, maxCount: 1 });
    const after = limit({ id: 'key:rolling-c', windowSeconds: 7200, maxCount: 1 });
    await store.reserve([charge(before, 0n)], at(T0));
    // Under the longer window the earlier signature still counts.
    expect(await rejectionOf(store.reserve([charge(after, 0n)], at(T0 + 4_000_000)))).toBeInstanceOf(SpendingLimitExceededError);
    await store.reserve([charge(after, 0n)], at(T0 + 7_200_000 + 300_000 + 1));
  });

  it('drops limits that are no longer used once all their buckets have left the window, so the item stays bounded', async () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/bounded';
    for (let i = 0; i < 30; i++) {
      await store.reserve([charge(limit({ id: `rule:r${i}:cap`, windowSeconds: 60, maxCount: 5 }), 0n)], at(T0 + i * 61_000, keyArn));
    }
    const item = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: { pk: { S: keyArn }, sk: { S: 'spending' } } }));
    expect(Object.keys(item.Item?.limits?.M ?? {}).length).toBeLessThanOrEqual(2);
  });
});

describe('SpendingStore under concurrency (dynalite, real SDK)', () => {
  // These specs count what 50 racing requests let through, not how fast they go: on a loaded machine dynalite may
  // take longer than the store's default 3 s per call to answer 50 at once, and a call that gives up fails closed,
  // which would spoil the count. The per-call timeout itself is specified under "when DynamoDB fails".
  jest.setTimeout(300_000);
  let store: SpendingStore;
  beforeAll(() => {
    store = new SpendingStore({ tableName: dynamo.tableName, client: dynamo.client, callTimeoutMs: 240_000 });
  });

  it.each([
    ['on a fresh item', 'key:concurrent-count-fresh', false],
    ['on an item already in use', 'key:concurrent-count-warm', true],
  ])('lets exactly maxCount of 50 concurrent requests through %s', async (_, id, warm) => {
    const keyArn = `arn:aws:kms:us-east-1:111122223333:key/${id}`;
    const capped = limit({ id, maxCount: 10 });
    if (warm) await store.release(await store.reserve([charge(capped, 0n)], at(T0, keyArn)));
    const { fulfilled, rejected } = await settle(Array.from({ length: 50 }, () => store.reserve([charge(capped, 0n)], at(T0 + 1, keyArn))));
    expect(fulfilled).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    for (const error of rejected) expect(error).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('lets exactly maxCount of 50 concurrent requests through when every counted bucket has just left the window (all prune at once)', async () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/concurrent-prune';
    const capped = limit({ id: 'key:concurrent-prune', windowSeconds: 3600, maxCount: 10 });
    for (let i = 0; i < 10; i++) await store.reserve([charge(capped, 0n)], at(T0, keyArn));
    const later = T0 + 3_600_000 + 150_000; // the bucket of T0 (150 s span) has just left the window
    const { fulfilled, rejected } = await settle(Array.from({ length: 50 }, () => store.reserve([charge(capped, 0n)], at(later, keyArn))));
    expect(fulfilled).toHaveLength(10);
    for (const error of rejected) expect(error).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('lets exactly as much amount through as the cap allows when 50 concurrent requests exceed it', async () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/concurrent-amount';
    const capped = limit({ id: 'key:concurrent-amount', maxAmount: ether(100n) });
    const { fulfilled, rejected } = await settle(Array.from({ length: 50 }, () => store.reserve([charge(capped, ether(3n))], at(T0, keyArn))));
    expect(fulfilled).toHaveLength(33); // 33 × 3 = 99 ≤ 100 < 34 × 3
    for (const error of rejected) expect(error).toBeInstanceOf(SpendingLimitExceededError);
    // The one ether left is still available: nothing was lost either.
    await store.reserve([charge(capped, ether(1n))], at(T0, keyArn));
  });

  it('never exceeds either cap when 50 concurrent requests charge two limits at once', async () => {
    const keyArn = 'arn:aws:kms:us-east-1:111122223333:key/concurrent-two';
    const amount = limit({ id: 'key:two-amount', maxAmount: 70n });
    const count = limit({ id: 'rule:r:two-count', maxCount: 20 });
    const { fulfilled, rejected } = await settle(Array.from({ length: 50 }, (_, i) => store.reserve([charge(amount, BigInt(1 + (i % 5))), charge(count, 0n)], at(T0, keyArn))));
    const spent = fulfilled.reduce((sum, r) => sum + (r.charges.find((c) => c.limit.id === 'key:two-amount')?.amount ?? 0n), 0n);
    expect(spent).toBeLessThanOrEqual(70n);
    expect(fulfilled.length).toBeLessThanOrEqual(20);
    // Every refusal was a cap, never contention or a lost update, and the store agrees with what was let through.
    for (const error of rejected) expect(error).toBeInstanceOf(SpendingLimitExceededError);
    const left = (await rejectionOf(store.reserve([charge(amount, 71n), charge(count, 0n)], at(T0, keyArn)))) as SpendingLimitExceededError;
    expect(left.limit.remainingAmount).toBe(70n - spent);
  });
});

describe('SpendingStore when DynamoDB fails (fails closed)', () => {
  const capped = limit({ id: 'key:down', maxCount: 5 });

  it('throws PolicyStateUnavailableError when DynamoDB refuses connections', async () => {
    const port = await closedPort();
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const down = new SpendingStore({ tableName: 'x', client });
    const error = await rejectionOf(down.reserve([charge(capped, 0n)], at(T0)));
    client.destroy();
    expect(error).toBeInstanceOf(PolicyStateUnavailableError);
    expect((error as Error).cause).toBeDefined();
  });

  it('gives up within the caller deadline when DynamoDB accepts the connection and never answers', async () => {
    const hung = await hungServer();
    try {
      const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
      const slow = new SpendingStore({ tableName: 'x', client });
      const error = await rejectionOf(slow.reserve([charge(capped, 0n)], { ...at(T0), deadlineMs: Date.now() + 300 }));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      // The call was given what was left before the deadline, not the 3 s call timeout.
      expect(Number(/within (\d+) ms/.exec(error.message)?.[1])).toBeLessThanOrEqual(300);
      client.destroy();
    } finally {
      hung.close();
    }
  });

  it('throws PolicyStateUnavailableError for a missing table and counts nothing', async () => {
    const wrong = new SpendingStore({ tableName: 'no-such-table', client: dynamo.client });
    expect(await rejectionOf(wrong.reserve([charge(capped, 0n)], at(T0, 'arn:aws:kms:us-east-1:111122223333:key/down')))).toBeInstanceOf(PolicyStateUnavailableError);
    for (let i = 0; i < 5; i++) await store.reserve([charge(capped, 0n)], at(T0, 'arn:aws:kms:us-east-1:111122223333:key/down'));
  });

  it('refuses to start a call when the deadline has passed or the caller aborted', async () => {
    const aborted = AbortSignal.abort();
    const late = await rejectionOf(store.reserve([charge(capped, 0n)], { ...at(T0), deadlineMs: Date.now() - 1 }));
    expect(late).toBeInstanceOf(PolicyStateUnavailableError);
    expect(late.message).toContain('(the invocation ran out of time before DynamoDB answered)');
    const cancelled = await rejectionOf(store.reserve([charge(capped, 0n)], { ...at(T0), signal: aborted }));
    expect(cancelled).toBeInstanceOf(PolicyStateUnavailableError);
    expect(cancelled.message).toContain('(the caller cancelled the request)');
  });

  it('refuses to start a call when the deadline is now: no time is left for it', async () => {
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const error = await rejectionOf(store.reserve([charge(capped, 0n)], { ...at(T0), deadlineMs: now }));
      expect(error.message).toContain('(the invocation ran out of time before DynamoDB answered)');
    } finally {
      clock.mockRestore();
    }
  });

  it('stops a whole dynalite mid-run: later reservations fail closed', async () => {
    const local = await startLocalDynamoDb();
    const client = local.newClient();
    const own = new SpendingStore({ tableName: local.tableName, client });
    await own.reserve([charge(capped, 0n)], at(T0));
    await local.close();
    const freshClient = new DynamoDBClient({ endpoint: local.endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const fresh = new SpendingStore({ tableName: local.tableName, client: freshClient });
    expect(await rejectionOf(fresh.reserve([charge(capped, 0n)], at(T0)))).toBeInstanceOf(PolicyStateUnavailableError);
    freshClient.destroy();
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function hungServer(): Promise<Server> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => sockets.add(socket));
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  const close = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void) => {
    sockets.forEach((s) => s.destroy());
    return close(callback);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** What a scripted DynamoDB answers to one call: an item (GetItem), success, an error type, or nothing ever. */
type ScriptedAnswer = { item?: Record<string, AttributeValue> } | { error: string } | 'hang';
type ScriptedCall = { operation: string; input: Record<string, unknown> };

/** A fake DynamoDB endpoint that answers each call as `script` says, recording the calls (operation and input). */
async function scriptedDynamoDb(script: (call: ScriptedCall) => ScriptedAnswer) {
  const calls: ScriptedCall[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const call = { operation: String(request.headers['x-amz-target']).split('.')[1] ?? '', input: JSON.parse(body) as Record<string, unknown> };
      calls.push(call);
      const answer = script(call);
      if (answer === 'hang') return;
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      if ('error' in answer) {
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${answer.error}`, message: 'scripted failure' }));
      } else {
        response.end(JSON.stringify(answer.item ? { Item: answer.item } : {}));
      }
    });
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  return {
    client,
    calls,
    operations: () => calls.map((call) => call.operation),
    close: () => {
      client.destroy();
      sockets.forEach((socket) => socket.destroy());
      server.close();
    },
  };
}

const CONDITION_FAILED = { error: 'ConditionalCheckFailedException' };
/** The spending item as the store writes it, with no limit in it yet. */
const EMPTY_ITEM: Record<string, AttributeValue> = { pk: { S: KEY }, sk: { S: 'spending' }, v: { N: '1' }, limits: { M: {} } };
const isRebuiltWrite = (call: ScriptedCall) => call.operation === 'UpdateItem' && call.input.ConditionExpression === '#v = :v';

describe('SpendingStore.reserve refuses a malformed call (a bug in the policy layer), counting nothing', () => {
  const once = limit({ id: 'key:input', maxCount: 1 });

  it('without the key ARN', async () => {
    const error = await rejectionOf(store.reserve([charge(once, 0n)], { ...at(T0), keyArn: '' }));
    expect(error).toBeInstanceOf(InvalidSpendingLimitError);
    expect(error.message).toBe('reserve needs the key ARN.');
  });

  it.each([[-1], [1.5], [Number.NaN], [2 ** 53]])('at a time of %p ms', async (nowMs) => {
    const error = await rejectionOf(store.reserve([charge(once, 0n)], { ...at(T0), nowMs }));
    expect(error).toBeInstanceOf(InvalidSpendingLimitError);
    expect(error.message).toBe('nowMs must be a non-negative integer of milliseconds.');
  });

  it('accepts the epoch itself as the time', async () => {
    await store.reserve([charge(once, 0n)], at(0, `${KEY}/epoch`));
    expect(await rejectionOf(store.reserve([charge(once, 0n)], at(0, `${KEY}/epoch`)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it.each([[-1n], [1]])('with a charge of %p, naming the limit (its first 80 characters)', async (amount) => {
    const long = limit({ id: `key:${'x'.repeat(100)}`, maxCount: 1 });
    const error = await rejectionOf(store.reserve([{ limit: long, amount: amount as bigint }], at(T0)));
    expect(error).toBeInstanceOf(InvalidSpendingLimitError);
    expect(error.message).toBe(`Spending limit "${long.id.slice(0, 80)}": a charge must be a non-negative bigint.`);
  });
});

describe('SpendingStore limits per key', () => {
  const limits = (prefix: string, n: number, fields: Partial<SpendingLimit> = {}) => Array.from({ length: n }, (_, i) => limit({ id: `rule:${prefix}${i}:cap`, maxCount: 2, ...fields }));

  it('holds up to 100 limits in use and refuses the reservation that would add a 101st, while the 100 can still be charged', async () => {
    const keyArn = `${KEY}/hundred`;
    const hundred = limits('h', 100);
    await store.reserve(hundred.map((l) => charge(l, 0n)), at(T0, keyArn));
    const error = await rejectionOf(store.reserve([charge(limit({ id: 'rule:h100:cap', maxCount: 2 }), 0n)], at(T0, keyArn)));
    expect(error).toBeInstanceOf(InvalidSpendingLimitError);
    expect(error.message).toBe('A key may have at most 100 spending limits in use at once.');
    await store.reserve(hundred.slice(0, 10).map((l) => charge(l, 0n)), at(T0, keyArn));
  });

  it('keeps every expression within DynamoDB’s 4 KB when a reservation charges 100 limits, and when it is released', async () => {
    // dynalite does not enforce the limit: the expressions are measured on their way out.
    const client = dynamo.newClient();
    const expressions: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const { UpdateExpression, ConditionExpression } = args.input as { UpdateExpression?: string; ConditionExpression?: string };
        for (const expression of [UpdateExpression, ConditionExpression]) if (expression !== undefined) expressions.push(expression);
        return next(args);
      },
      { step: 'initialize' },
    );
    const measured = new SpendingStore({ tableName: dynamo.tableName, client });
    const keyArn = `${KEY}/expressions`;
    const hundred = limits('e', 100, { maxAmount: 10n ** 30n });
    await measured.reserve(hundred.map((l) => charge(l, 1n)), at(T0, keyArn)); // creates the item
    await measured.release(await measured.reserve(hundred.map((l) => charge(l, 1n)), { keyArn, reservationId: 'every-limit' }));
    expect(expressions.length).toBeGreaterThan(0);
    for (const expression of expressions) expect(Buffer.byteLength(expression)).toBeLessThanOrEqual(4096);
  });

  it('lets new limits take the place of limits whose spending has all left the window', async () => {
    const keyArn = `${KEY}/replaced`;
    await store.reserve(limits('old', 100, { windowSeconds: 60 }).map((l) => charge(l, 0n)), at(T0, keyArn));
    await store.reserve(limits('new', 100).map((l) => charge(l, 0n)), at(T0 + 600_000, keyArn));
  });

  it('keeps counting the limits a reservation does not charge when it first uses another one', async () => {
    const keyArn = `${KEY}/others`;
    const a = limit({ id: 'key:others-a', maxCount: 1 });
    await store.reserve([charge(a, 0n)], at(T0, keyArn));
    await store.reserve([charge(limit({ id: 'key:others-b', maxCount: 1 }), 0n)], at(T0, keyArn));
    expect(await rejectionOf(store.reserve([charge(a, 0n)], at(T0, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('raises the item version with every write, reservation or release (the optimistic lock of the rebuilt writes)', async () => {
    const keyArn = `${KEY}/versions`;
    const versionOf = async () => Number((await itemOf(keyArn))?.v?.N);
    const versions: number[] = [];
    await store.reserve([charge(limit({ id: 'key:v-a', maxCount: 5 }), 0n)], at(T0, keyArn)); // creates the item
    versions.push(await versionOf());
    await store.reserve([charge(limit({ id: 'key:v-b', maxCount: 5 }), 0n)], at(T0, keyArn)); // rebuilt: a new limit
    versions.push(await versionOf());
    const fast = await store.reserve([charge(limit({ id: 'key:v-b', maxCount: 5 }), 0n)], at(T0, keyArn)); // the single update
    versions.push(await versionOf());
    await store.release(fast);
    versions.push(await versionOf());
    expect(versions).toEqual([1, 2, 3, 4]);
  });
});

describe('SpendingStore.release of more than 8 limits (read and rebuilt write)', () => {
  const nine = (prefix: string, fields: Partial<SpendingLimit> = {}) =>
    Array.from({ length: 9 }, (_, i) => limit({ id: `rule:${prefix}${i}:cap`, ...(i % 2 === 0 ? { maxAmount: 10n } : { maxCount: 1 }), ...fields }));

  it('gives back every limit of the reservation', async () => {
    const keyArn = `${KEY}/release-nine`;
    const limits = nine('n');
    const reservation = await store.reserve(limits.map((l) => charge(l, 10n)), { keyArn, reservationId: 'nine' });
    await store.release(reservation);
    await store.reserve(limits.map((l) => charge(l, 10n)), { keyArn, reservationId: 'nine-again' });
    for (const l of limits) expect(await rejectionOf(store.reserve([charge(l, 10n)], { keyArn, reservationId: 'tenth' }))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('gives nothing back once the policy has changed the limits\u2019 window (stricter, never looser)', async () => {
    const keyArn = `${KEY}/release-changed`;
    const before = nine('c', { windowSeconds: 3600, maxCount: 2, maxAmount: undefined });
    const after = nine('c', { windowSeconds: 7200, maxCount: 2, maxAmount: undefined });
    const reservation = await store.reserve(before.map((l) => charge(l, 0n)), { keyArn, reservationId: 'before' });
    await store.reserve(after.map((l) => charge(l, 0n)), { keyArn, reservationId: 'after' });
    await store.release(reservation);
    expect(await rejectionOf(store.reserve([charge(after[0] as SpendingLimit, 0n)], { keyArn, reservationId: 'third' }))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it.each([
    ['the same window cut into other buckets (another version of the signer)', { windowMs: 3_600_000, spanMs: 75_000 }],
    ['another window cut into buckets of the same span', { windowMs: 7_200_000, spanMs: 150_000 }],
  ])('gives nothing back from limits stored with %s: stricter, never looser', async (_, stored) => {
    const keyArn = `${KEY}/release-layout-${stored.spanMs}`;
    const limits = nine(`l${stored.spanMs}-`, { windowSeconds: 3600, maxCount: 2, maxAmount: undefined });
    const reservation = await store.reserve(limits.map((l) => charge(l, 0n)), { keyArn, reservationId: 'before' });
    const bucket = Math.floor(Date.now() / stored.spanMs);
    const entries = Object.fromEntries(
      limits.map((l): [string, AttributeValue] => [
        `${l.id}@native`,
        { M: { w: { N: String(stored.windowMs) }, s: { N: String(stored.spanMs) }, u: { N: '-1' }, t: { N: '0' }, n: { N: '1' }, p: { N: String((bucket + 1) * stored.spanMs + stored.windowMs) }, b: { M: {} }, c: { M: { [String(bucket)]: { N: '1' } } } } },
      ]),
    );
    const key = { pk: { S: keyArn }, sk: { S: 'spending' } };
    await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: { ...key, v: { N: '7' }, limits: { M: entries } } }));
    await store.release(reservation);
    const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: key, ConsistentRead: true }));
    expect(Item?.v?.N).toBe('7');
    expect(Item?.limits?.M?.[`${limits[0]?.id}@native`]?.M?.n?.N).toBe('1');
  });

  it('leaves nothing to do when the key’s spending item has been deleted since (an operator reset its limits)', async () => {
    const keyArn = `${KEY}/release-reset`;
    const reservation = await store.reserve(nine('g').map((l) => charge(l, 1n)), { keyArn, reservationId: 'before-reset' });
    const key = { pk: { S: keyArn }, sk: { S: 'spending' } };
    await dynamo.client.send(new DeleteItemCommand({ TableName: dynamo.tableName, Key: key }));
    await store.release(reservation);
    const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: key }));
    expect(Item).toBeUndefined();
  });
});

describe('SpendingStore rolling window at a changed cap', () => {
  it('gives nothing back once the cap has crossed 10^36 and amounts are counted in other units', async () => {
    const keyArn = `${KEY}/release-units`;
    const nine = (maxAmount: bigint) => Array.from({ length: 9 }, (_, i) => limit({ id: `rule:u${i}:cap`, maxAmount }));
    const small = nine(10n ** 30n);
    const large = nine(10n ** 37n);
    const reservation = await store.reserve(small.map((l) => charge(l, 10n ** 30n)), { keyArn, reservationId: 'small' });
    await store.reserve(large.map((l) => charge(l, 0n)), { keyArn, reservationId: 'large' });
    await store.release(reservation);
    // Still counted: 10^30 of the 10^37 cap is spent, so exactly the rest fits and nothing more.
    const error = (await rejectionOf(store.reserve([charge(large[0] as SpendingLimit, 10n ** 37n)], { keyArn, reservationId: 'rest' }))) as SpendingLimitExceededError;
    expect(error.limit.remainingAmount).toBe(10n ** 37n - 10n ** 30n);
  });
});

describe('SpendingStore reading a stored state it did not write (fails closed, never guesses)', () => {
  let n = 0;
  async function storedItem(limits: Record<string, AttributeValue> | undefined): Promise<string> {
    const keyArn = `${KEY}/stored-${++n}`;
    await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: { pk: { S: keyArn }, sk: { S: 'spending' }, v: { N: '1' }, ...(limits && { limits: { M: limits } }) } }));
    return keyArn;
  }
  const layout = { w: { N: String(DAY * 1000) }, s: { N: String((DAY * 1000) / BUCKETS_PER_WINDOW) }, u: { N: '-1' } };
  const entry = (fields: Record<string, AttributeValue>): AttributeValue => ({ M: { ...layout, t: { N: '0' }, n: { N: '1' }, p: { N: String(T0 + 2 * DAY * 1000) }, b: { M: {} }, c: { M: { [String(T0 / ((DAY * 1000) / BUCKETS_PER_WINDOW))]: { N: '1' } } }, ...fields } });
  const other = limit({ id: 'key:reader', maxCount: 5 });
  function withoutWindow(value: AttributeValue): AttributeValue {
    const { w: _, ...rest } = value.M ?? {};
    return { M: rest };
  }

  it.each<[string, AttributeValue]>([
    ['an entry that is not a map', { S: 'spent' }],
    ['an entry without its window', withoutWindow(entry({}))],
    ['a window that is not a number', entry({ w: { S: '86400000' } })],
    ['a fractional window', entry({ w: { N: '1.5' } })],
    ['a window of 0', entry({ w: { N: '0' } })],
    ['a bucket span of 0', entry({ s: { N: '0' } })],
    ['a negative bucket amount', entry({ u: { N: '0' }, b: { M: { '1': { N: '-5' } } }, c: { M: { '1': { N: '1' } } } })],
    ['a fractional bucket amount', entry({ u: { N: '0' }, b: { M: { '1': { N: '1.5' } } }, c: { M: { '1': { N: '1' } } } })],
    ['a bucket amount that is not a number', entry({ u: { N: '0' }, b: { M: { '1': { S: '5' } } }, c: { M: { '1': { N: '1' } } } })],
    ['a fractional bucket count', entry({ c: { M: { '1': { N: '1.5' } } } })],
    ['a bucket index that is not a number', entry({ c: { M: { first: { N: '1' } } } })],
  ])('refuses %s with PolicyStateUnavailableError naming the limit', async (_, malformed) => {
    const keyArn = await storedItem({ 'key:stored@native': malformed });
    const error = await rejectionOf(store.reserve([charge(other, 0n)], at(T0, keyArn)));
    expect(error).toBeInstanceOf(PolicyStateUnavailableError);
    expect(error.message).toContain('(the stored state of spending limit "key:stored@native" is malformed)');
  });

  it('names at most 80 characters of a malformed limit', async () => {
    const entryKey = `key:${'k'.repeat(100)}@native`;
    const keyArn = await storedItem({ [entryKey]: { S: 'spent' } });
    expect((await rejectionOf(store.reserve([charge(other, 0n)], at(T0, keyArn)))).message).toContain(`limit "${entryKey.slice(0, 80)}" is malformed`);
  });

  it('refuses an item without its limits map', async () => {
    const keyArn = await storedItem(undefined);
    expect(await rejectionOf(store.reserve([charge(other, 0n)], at(T0, keyArn)))).toBeInstanceOf(PolicyStateUnavailableError);
  });

  it('refuses an item without its version (its rebuilt write can never match it)', async () => {
    const keyArn = `${KEY}/stored-unversioned`;
    await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: { pk: { S: keyArn }, sk: { S: 'spending' }, limits: { M: {} } } }));
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect(await rejectionOf(store.reserve([charge(other, 0n)], at(T0, keyArn)))).toBeInstanceOf(PolicyStateUnavailableError);
    } finally {
      random.mockRestore();
    }
  });

  it('reads an entry without buckets as a window with nothing counted', async () => {
    const once = limit({ id: 'key:bare', maxCount: 1 });
    const keyArn = await storedItem({ 'key:bare@native': { M: { ...layout, t: { N: '0' }, n: { N: '0' }, p: { N: '0' } } } });
    await store.reserve([charge(once, 0n)], at(T0, keyArn));
    expect(await rejectionOf(store.reserve([charge(once, 0n)], at(T0, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
  });
});

describe('SpendingStore calls to DynamoDB', () => {
  const once = limit({ id: 'key:scripted', maxCount: 1 });

  it('reads the item with a strongly consistent read (an eventually consistent one could miss the latest count)', async () => {
    const dynamoDb = await scriptedDynamoDb(({ operation }) => (operation === 'UpdateItem' ? CONDITION_FAILED : {}));
    try {
      await new SpendingStore({ tableName: 't', client: dynamoDb.client }).reserve([charge(once, 0n)], at(T0));
      expect(dynamoDb.operations()).toEqual(['UpdateItem', 'GetItem', 'PutItem']);
      expect(dynamoDb.calls[1]?.input).toMatchObject({ ConsistentRead: true });
    } finally {
      dynamoDb.close();
    }
  });

  it.each<[string, (call: ScriptedCall) => ScriptedAnswer]>([
    ['the read', ({ operation }) => (operation === 'GetItem' ? 'hang' : CONDITION_FAILED)],
    ['the first write of the item', ({ operation }) => (operation === 'PutItem' ? 'hang' : operation === 'GetItem' ? {} : CONDITION_FAILED)],
    ['the rebuilt write', (call) => (isRebuiltWrite(call) ? 'hang' : call.operation === 'GetItem' ? { item: EMPTY_ITEM } : CONDITION_FAILED)],
  ])('gives up on %s when DynamoDB never answers it, within the call timeout', async (_, script) => {
    const dynamoDb = await scriptedDynamoDb(script);
    try {
      const error = await rejectionOf(new SpendingStore({ tableName: 't', client: dynamoDb.client, callTimeoutMs: 200 }).reserve([charge(once, 0n)], at(T0)));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(error.message).toContain('(no answer from DynamoDB within 200 ms)');
    } finally {
      dynamoDb.close();
    }
  });

  it.each([['TimeoutError'], ['AbortError']])('reports %s from the SDK client as no answer within the call timeout', async (name) => {
    const client = dynamo.newClient();
    client.middlewareStack.add(() => async () => Promise.reject(Object.assign(new Error('timed out'), { name })), { step: 'initialize' });
    const error = await rejectionOf(new SpendingStore({ tableName: dynamo.tableName, client, callTimeoutMs: 1500 }).reserve([charge(once, 0n)], at(T0)));
    expect(error.message).toContain('(no answer from DynamoDB within 1500 ms)');
  });

  it('stops at once when the caller cancels during a call, saying so', async () => {
    const dynamoDb = await scriptedDynamoDb(() => 'hang');
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await rejectionOf(new SpendingStore({ tableName: 't', client: dynamoDb.client }).reserve([charge(once, 0n)], { ...at(T0), signal: controller.signal }));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      // Ended by the cancellation, not by the 3 s call timeout (which would say "no answer from DynamoDB within").
      expect(error.message).toContain('(the caller cancelled the request)');
      expect(error.cause).toBeDefined();
    } finally {
      dynamoDb.close();
    }
  });

  it.each<[string, (call: ScriptedCall) => ScriptedAnswer, string[]]>([
    ['the single update', () => ({ error: 'ProvisionedThroughputExceededException' }), ['UpdateItem']],
    ['the first write of the item', ({ operation }) => (operation === 'PutItem' ? { error: 'ProvisionedThroughputExceededException' } : operation === 'GetItem' ? {} : CONDITION_FAILED), ['UpdateItem', 'GetItem', 'PutItem']],
    ['the rebuilt write', (call) => (isRebuiltWrite(call) ? { error: 'ProvisionedThroughputExceededException' } : call.operation === 'GetItem' ? { item: EMPTY_ITEM } : CONDITION_FAILED), ['UpdateItem', 'GetItem', 'UpdateItem']],
  ])('fails closed at once, naming the error, when DynamoDB throttles %s', async (_, script, operations) => {
    const dynamoDb = await scriptedDynamoDb(script);
    try {
      const error = await rejectionOf(new SpendingStore({ tableName: 't', client: dynamoDb.client }).reserve([charge(once, 0n)], at(T0)));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(error.message).toContain('(DynamoDB failed: ProvisionedThroughputExceededException)');
      expect(dynamoDb.operations()).toEqual(operations);
    } finally {
      dynamoDb.close();
    }
  });

  it('quotes at most 80 characters of an error name', async () => {
    const name = `Throttling${'X'.repeat(100)}`;
    const dynamoDb = await scriptedDynamoDb(() => ({ error: name }));
    try {
      const error = await rejectionOf(new SpendingStore({ tableName: 't', client: dynamoDb.client }).reserve([charge(once, 0n)], at(T0)));
      expect(error.message).toContain(`(DynamoDB failed: ${name.slice(0, 80)})`);
    } finally {
      dynamoDb.close();
    }
  });

  it('names a failure that is not an Error "unknown error"', async () => {
    const client = dynamo.newClient();
    client.middlewareStack.add(() => async () => Promise.reject('not an Error'), { step: 'initialize' });
    const error = await rejectionOf(new SpendingStore({ tableName: dynamo.tableName, client }).reserve([charge(once, 0n)], at(T0)));
    expect(error.message).toContain('(DynamoDB failed: unknown error)');
  });

  it('gives up on an item that stays contended after 10 attempts, waiting between them with jitter of at most 200 ms', async () => {
    const dynamoDb = await scriptedDynamoDb(({ operation }) => (operation === 'GetItem' ? { item: EMPTY_ITEM } : CONDITION_FAILED));
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const waits: number[] = [];
    const realSetTimeout = global.setTimeout;
    const timer = jest.spyOn(global, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      if (ms !== undefined && ms > 0 && ms <= 200) waits.push(ms); // the back-off's waits (the SDK's own timers are longer)
      return realSetTimeout(callback, ms);
    }) as typeof setTimeout);
    try {
      const error = await rejectionOf(new SpendingStore({ tableName: 't', client: dynamoDb.client }).reserve([charge(once, 0n)], at(T0)));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(error.message).toContain('(the spending item stayed contended after 10 attempts)');
      expect(dynamoDb.operations().filter((operation) => operation === 'GetItem')).toHaveLength(10);
      // Nine waits of up to 10, 20, 40, 80, 160, 200, 200, 200 and 200 ms (full jitter at Math.random() = 0.999).
      expect(waits.map((ms) => Math.round(ms / 0.999))).toEqual([10, 20, 40, 80, 160, 200, 200, 200, 200]);
    } finally {
      timer.mockRestore();
      random.mockRestore();
      dynamoDb.close();
    }
  });

  it('gives up releasing more than 8 limits on an item that stays contended after 10 attempts', async () => {
    let item: Record<string, AttributeValue> | undefined;
    const dynamoDb = await scriptedDynamoDb(({ operation, input }) => {
      if (operation === 'PutItem') item = input.Item as Record<string, AttributeValue>;
      return operation === 'GetItem' ? (item ? { item } : {}) : operation === 'PutItem' ? {} : CONDITION_FAILED;
    });
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      const contended = new SpendingStore({ tableName: 't', client: dynamoDb.client });
      const nine = Array.from({ length: 9 }, (_, i) => charge(limit({ id: `rule:c${i}:cap`, maxCount: 1 }), 0n));
      const reservation = await contended.reserve(nine, { keyArn: KEY, reservationId: 'contended' });
      const error = await rejectionOf(contended.release(reservation));
      expect(error.message).toContain('(the spending item stayed contended after 10 attempts)');
      expect(dynamoDb.operations().filter((operation) => operation === 'GetItem')).toHaveLength(11);
    } finally {
      random.mockRestore();
      dynamoDb.close();
    }
  });
});

describe('SpendingStore calls per reservation when DynamoDB returns the item with a failed condition (as DynamoDB does, unlike dynalite)', () => {
  let proxy: DynamoDbFaultProxy;
  let counted: SpendingStore;
  beforeAll(async () => {
    proxy = await startDynamoDbFaultProxy(dynamo.endpoint, { returnItemOnConditionFailure: true });
    counted = new SpendingStore({ tableName: dynamo.tableName, client: dynamo.newClient({ endpoint: proxy.endpoint }) });
  });
  afterAll(async () => proxy.close());
  const callsOf = async (run: () => Promise<unknown>) => {
    const before = proxy.calls.length;
    await run().catch(() => undefined);
    return proxy.calls.slice(before).map((call) => call.operation);
  };

  it('counts a charge in one UpdateItem', async () => {
    const keyArn = `${KEY}/calls-a`;
    const daily = limit({ id: 'key:calls-a', maxAmount: 10n });
    await counted.reserve([charge(daily, 1n)], at(T0, keyArn));
    expect(await callsOf(() => counted.reserve([charge(daily, 1n)], at(T0, keyArn)))).toEqual(['UpdateItem']);
  });

  it('refuses a charge over the cap in one call: the refused update returns the item that says what remains', async () => {
    const keyArn = `${KEY}/calls-b`;
    const daily = limit({ id: 'key:calls-b', maxAmount: 10n });
    await counted.reserve([charge(daily, 10n)], at(T0, keyArn));
    let error: unknown;
    expect(await callsOf(() => counted.reserve([charge(daily, 1n)], at(T0, keyArn)).catch((e: unknown) => (error = e)))).toEqual(['UpdateItem']);
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    expect((error as SpendingLimitExceededError).limit.remainingAmount).toBe(0n);
  });

  it('counts a charge after a bucket has expired (sparse traffic) in two calls: the refused update and the rebuilt write', async () => {
    const keyArn = `${KEY}/calls-c`;
    const hourly = limit({ id: 'key:calls-c', windowSeconds: 3600, maxCount: 5 });
    await counted.reserve([charge(hourly, 0n)], at(T0, keyArn));
    expect(await callsOf(() => counted.reserve([charge(hourly, 0n)], at(T0 + 2 * 3_600_000, keyArn)))).toEqual(['UpdateItem', 'UpdateItem']);
  });

  it('gives a reservation back in one UpdateItem', async () => {
    const keyArn = `${KEY}/calls-d`;
    const daily = limit({ id: 'key:calls-d', maxAmount: 10n });
    await counted.reserve([charge(daily, 1n)], at(T0, keyArn));
    const reservation = await counted.reserve([charge(daily, 1n)], at(T0, keyArn));
    expect(await callsOf(() => counted.release(reservation))).toEqual(['UpdateItem']);
  });
});

describe('SpendingStore in another Lambda instance (a fresh load of the module)', () => {
  it('counts against the same item as this one', async () => {
    const Fresh = freshModule(() => require('../../../lambdas/policy-state/spending-store') as typeof import('../../../lambdas/policy-state/spending-store')).SpendingStore;
    const other = new Fresh({ tableName: dynamo.tableName, client: dynamo.client });
    const keyArn = `${KEY}/instances`;
    const first = limit({ id: 'key:instances-a', maxAmount: 10n, maxCount: 5 });
    const second = limit({ id: 'key:instances-b', maxAmount: 10n, maxCount: 5 });
    await other.reserve([charge(first, 10n)], at(T0, keyArn)); // creates the item
    await other.reserve([charge(second, 5n)], at(T0, keyArn)); // a rebuilt write
    const released = await other.reserve([charge(second, 5n)], at(T0, keyArn)); // the single update
    await other.release(released);
    expect(await rejectionOf(store.reserve([charge(first, 1n)], at(T0, keyArn)))).toBeInstanceOf(SpendingLimitExceededError);
    await store.reserve([charge(second, 5n)], at(T0, keyArn));
    expect(await rejectionOf(other.reserve([charge(second, 1n)], at(T0, keyArn)))).toHaveProperty('name', 'SpendingLimitExceededError');
  });
});

describe('callSignal', () => {
  afterEach(() => jest.useRealTimers());

  it('aborts a call that outlasts its timeout, and leaves no timer behind a call that ended (nothing fires later)', () => {
    jest.useFakeTimers();
    const slow = callSignal(100);
    jest.advanceTimersByTime(100);
    expect(slow.signal.aborted).toBe(true);
    const ended = callSignal(100);
    ended.done();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(ended.signal.aborted).toBe(false);
  });

  it("aborts with the caller's signal as well", () => {
    const caller = new AbortController();
    const { signal, done } = callSignal(60_000, caller.signal);
    caller.abort();
    expect(signal.aborted).toBe(true);
    done();
  });
});
