import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SpendingLimit } from '../../../lambdas/policy/spending';
import { PolicyStateUnavailableError, SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';
import { signWithinLimits } from '../../../lambdas/policy-state/sign-within-limits';
import { SpendingStore } from '../../../lambdas/policy-state/spending-store';
import { KmsUnavailableError } from '../../../lambdas/signer/kms-errors';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { rejectionOf } from '../../helpers/rejection';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/sign-within-limits';
let dynamo: LocalDynamoDb;
let store: SpendingStore;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  store = new SpendingStore({ tableName: dynamo.tableName, client: dynamo.client });
});
afterAll(async () => dynamo.close());

const twice: SpendingLimit = { id: 'key:twice', windowSeconds: 3600, maxCount: 2, asset: 'native' };
const options = { keyArn: KEY, reservationId: 'test' };

describe('signWithinLimits', () => {
  it('signs without touching DynamoDB when no limit applies', async () => {
    const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 });
    const offline = new SpendingStore({ tableName: 'none', client });
    expect(await signWithinLimits(offline, [], options, async () => 'signed')).toBe('signed');
    expect(await signWithinLimits(undefined, [], options, async () => 'signed')).toBe('signed');
    client.destroy();
  });

  it('counts a signature, gives a failed one back, and refuses over the cap without signing', async () => {
    const charges = [{ limit: twice, amount: 0n }];
    await signWithinLimits(store, charges, options, async () => 'first');
    const failure = new KmsUnavailableError('Sign', 'timed out', new Error('timeout'));
    expect(await rejectionOf(signWithinLimits(store, charges, options, async () => Promise.reject(failure)))).toBe(failure);
    await signWithinLimits(store, charges, options, async () => 'second'); // the failed one was released
    let signed = false;
    const refused = await rejectionOf(signWithinLimits(store, charges, options, async () => { signed = true; return 'third'; }));
    expect(refused).toBeInstanceOf(SpendingLimitExceededError);
    expect(signed).toBe(false);
  });

  it('never signs when the store is unavailable', async () => {
    const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    let signed = false;
    const error = await rejectionOf(signWithinLimits(new SpendingStore({ tableName: 'x', client }), [{ limit: twice, amount: 0n }], options, async () => { signed = true; return 'x'; }));
    expect(error).toBeInstanceOf(PolicyStateUnavailableError);
    expect(signed).toBe(false);
    client.destroy();
  });
});
