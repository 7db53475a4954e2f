import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { SpendCharge, SpendingLimit } from '../../../lambdas/policy/spending';
import { PolicyStateUnavailableError, SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';
import { BUCKETS_PER_WINDOW } from '../../../lambdas/policy-state/rolling-window';
import { SpendingStore, type ReserveOptions } from '../../../lambdas/policy-state/spending-store';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { rejectionOf } from '../../helpers/rejection';

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
      const started = Date.now();
      const error = await rejectionOf(slow.reserve([charge(capped, 0n)], { ...at(T0), deadlineMs: Date.now() + 300 }));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
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
    expect(await rejectionOf(store.reserve([charge(capped, 0n)], { ...at(T0), deadlineMs: Date.now() - 1 }))).toBeInstanceOf(PolicyStateUnavailableError);
    expect(await rejectionOf(store.reserve([charge(capped, 0n)], { ...at(T0), signal: aborted }))).toBeInstanceOf(PolicyStateUnavailableError);
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
