// The check operation answers what sign would answer now: with spending limits, it reads (one GetItem, nothing
// counted) what remains of each limit the transaction would be charged to. DynamoDB is dynalite over HTTP.
import { KMSClient } from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler } from '../../lambdas/handler';
import type { CheckResponse } from '../../lambdas/operations/policy-gate';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockKms } from '../helpers/kms-mock';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';
import { withRemainingTime } from '../../lambdas/runtime/local-context';

jest.setTimeout(30_000);

const ETHER = 10n ** 18n;
const TO = KNOWN_KEYS[1].address;
const tx = (value: bigint, nonce: number) => ({ to: TO, value: value.toString(), nonce, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' });

let db: LocalDynamoDb;
let dir: string;
const saved = { ...process.env };
beforeAll(async () => {
  db = await startLocalDynamoDb();
  dir = mkdtempSync(join(tmpdir(), 'check-limits-'));
  const policy = join(dir, 'one-eth-a-day.json');
  writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ id: 'payouts', effect: 'allow', to: [TO], limits: [{ name: 'daily-eth', window: '24h', maxValue: '1 ether' }] }] }));
  Object.assign(process.env, {
    KMS_KEY_ID: 'alias/eth-signer',
    ETH_NETWORK: 'sepolia',
    LOG_LEVEL: 'SILENT',
    SIGNING_POLICY_FILE: policy,
    POLICY_TABLE_NAME: db.tableName,
    IDEMPOTENCY: 'off',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ACCESS_KEY_ID: 'DYNALITE',
    AWS_SECRET_ACCESS_KEY: 'DYNALITE',
    AWS_REGION: 'us-east-1',
  });
});
afterAll(async () => {
  process.env = saved;
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('check with spending limits (dynalite)', () => {
  it('after 0.6 of a 1 ETH/day limit is spent, answers allowed: false for 0.6 ETH (as sign would) and allowed: true for 0.4, with what remains', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) });
    const check = async (value: bigint) => (await handler({ operation: 'check', transaction: tx(value, 1) }, withRemainingTime(undefined))) as CheckResponse;

    const fresh = await check((6n * ETHER) / 10n);
    expect(fresh).toMatchObject({ allowed: true, limits: [{ limitId: 'rule:payouts:daily-eth', asset: 'native', windowSeconds: 86400, amount: '600000000000000000', remainingAmount: String(ETHER), fits: true }] });

    await handler({ operation: 'sign', transaction: tx((6n * ETHER) / 10n, 0) }, withRemainingTime(undefined));

    const over = await check((6n * ETHER) / 10n);
    expect(over).toMatchObject({ allowed: false, ruleId: 'payouts', limits: [{ limitId: 'rule:payouts:daily-eth', remainingAmount: '400000000000000000', fits: false }] });
    expect(over.reason).toMatch(/spending limit "rule:payouts:daily-eth" would be exceeded now: this transaction adds 600000000000000000 .*400000000000000000 remain.*sign would refuse it/);
    expect(over.limits?.[0]?.nextReleaseAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    // ...and sign does refuse it.
    await expect(handler({ operation: 'sign', transaction: tx((6n * ETHER) / 10n, 1) }, withRemainingTime(undefined))).rejects.toMatchObject({ name: 'SpendingLimitExceededError' });

    expect(await check((4n * ETHER) / 10n)).toMatchObject({ allowed: true, limits: [{ remainingAmount: '400000000000000000', fits: true }] });
  });

  it('counts nothing: checking the same transaction twice leaves the remaining amount as it was', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) });
    const first = (await handler({ operation: 'check', transaction: tx(1n, 5) })) as CheckResponse;
    const second = (await handler({ operation: 'check', transaction: tx(1n, 5) })) as CheckResponse;
    expect(second.limits).toEqual(first.limits);
  });
});
