// Idempotent signing against real parts: Powertools' DynamoDB persistence over the real SDK to dynalite, and
// signatures from the local KMS over HTTP (randomised, so a replayed response is recognisable).
import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Transaction, Wallet, type TransactionRequest } from 'ethers';
import type { SpendingLimit } from '../../../lambdas/policy/spending';
import { PolicyStateUnavailableError, SigningInProgressError, SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';
import {
  idempotencyIdentity,
  idempotencyKeyProblem,
  makeIdempotentSign,
  requestHash,
  type IdempotentSignRequest,
} from '../../../lambdas/policy-state/idempotency';
import { SpendingStore } from '../../../lambdas/policy-state/spending-store';
import { toSignResponse, type SignResponse } from '../../../lambdas/operations/response';
import { FromMismatchError, KmsSigner } from '../../../lambdas/signer/kms-signer';
import { localKmsClient, startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { lambdaContext } from '../../../scripts/local-stack/lambda-context';
import { createSigningKey } from '../../../scripts/local-stack/stack';
import { idempotencyRecords, startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { rejectionOf } from '../../helpers/rejection';
import { freshModule } from '../../helpers/fresh-module';
import { recordSdkCommands } from '../../helpers/sdk-commands';

let dynamo: LocalDynamoDb;
let kms: LocalKms;
let kmsClient: KMSClient;
let signer: KmsSigner;
let keyArn: string;

beforeAll(async () => {
  [dynamo, kms] = await Promise.all([startLocalDynamoDb(), startLocalKms()]);
  kmsClient = localKmsClient(kms, { region: 'us-east-1' });
  ({ keyArn } = await createSigningKey(kmsClient));
  signer = new KmsSigner({ keyId: keyArn, client: kmsClient, chainId: 1n });
});
afterAll(async () => {
  kmsClient.destroy();
  await Promise.all([dynamo.close(), kms.close()]);
});

let nonce = 0;
const transfer = (fields: Partial<TransactionRequest> = {}): TransactionRequest => ({
  type: 2,
  chainId: 1n,
  nonce: nonce++,
  to: '0x000000000000000000000000000000000000dEaD',
  value: 10n ** 15n,
  gasLimit: 21000n,
  maxFeePerGas: 30n * 10n ** 9n,
  maxPriorityFeePerGas: 10n ** 9n,
  ...fields,
});

/** A signing function that counts its KMS signatures and keeps what each made. */
function countingSigner() {
  const calls = { count: 0, made: [] as SignResponse[] };
  const sign = async (request: IdempotentSignRequest): Promise<SignResponse> => {
    calls.count++;
    const response = toSignResponse(await signer.signTransactionWithDetails(request.transaction, { replayProtection: request.replayProtection }));
    calls.made.push(response);
    return response;
  };
  return { sign, calls };
}

const options = (scope: string, extra: { windowSeconds?: number; client?: DynamoDBClient } = {}) => ({
  tableName: dynamo.tableName,
  client: extra.client ?? dynamo.client,
  keyArn,
  scope,
  ...(extra.windowSeconds !== undefined && { windowSeconds: extra.windowSeconds }),
});

/** The innermost cause of an error: what an operator reads at the bottom of the logged error. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

/** A TCP server that accepts connections and never answers (a hung DynamoDB endpoint), and a client for it. */
async function hungDynamoDb(): Promise<{ client: DynamoDBClient; close: () => void }> {
  const sockets = new Set<Socket>();
  const hung: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  return {
    client,
    close: () => {
      client.destroy();
      sockets.forEach((socket) => socket.destroy());
      hung.close();
    },
  };
}

/** Without a Lambda context nothing may warn; kept quiet anyway where a test passes none. */
function quietRemainingTimeWarning(): jest.SpyInstance {
  return jest.spyOn(console, 'warn').mockImplementation(() => undefined);
}

describe('makeIdempotentSign', () => {
  it("returns the identical signed transaction for a retry, and drops the retry's own signature", async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('retry'));
    const request = { transaction: transfer(), replayProtection: true };
    const first = await idempotent(request, lambdaContext('signer'));
    const second = await idempotent({ transaction: { ...request.transaction }, replayProtection: true }, lambdaContext('signer'));
    expect(second).toEqual(first);
    // The retry's step ran (in the handler it only claims the signature already under way); what it made is not returned.
    expect(calls.count).toBe(2);
    expect(calls.made[1]?.signedTransaction).not.toBe(first.signedTransaction);
    expect(await idempotencyRecords(dynamo, keyArn, 'retry')).toHaveLength(1);
    expect(Transaction.from(first.signedTransaction).from).toBe(first.from);
  });

  it('recognises the same transaction written in another notation (hex, decimal strings, checksum case)', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('notation'));
    const tx = transfer();
    const first = await idempotent({ transaction: tx, replayProtection: true }, lambdaContext('signer'));
    const rewritten: TransactionRequest = {
      ...tx,
      to: String(tx.to).toLowerCase(),
      value: '0x' + (10n ** 15n).toString(16),
      gasLimit: '21000',
      maxFeePerGas: (30n * 10n ** 9n).toString(),
      nonce: Number(tx.nonce),
    };
    expect(await idempotent({ transaction: rewritten, replayProtection: true }, lambdaContext('signer'))).toEqual(first);
    expect(calls.count).toBe(2); // the rewritten request's own signature was dropped
  });

  it('hashes only what identifies the request: extra fields the handler passes along (a reservation id) do not matter', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(async (request: IdempotentSignRequest & { reservationId: string }) => sign(request), options('extra'));
    const transaction = transfer();
    const first = await idempotent({ transaction, replayProtection: true, reservationId: 'invocation-1' }, lambdaContext('signer'));
    expect(await idempotent({ transaction, replayProtection: true, reservationId: 'invocation-2' }, lambdaContext('signer'))).toEqual(first);
    expect(calls.count).toBe(2); // the second invocation's own signature was dropped
  });

  it('signs again for a different transaction or a different idempotencyKey', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('distinct'));
    const tx = transfer();
    const a = await idempotent({ transaction: tx, replayProtection: true, idempotencyKey: 'a' }, lambdaContext('signer'));
    const b = await idempotent({ transaction: tx, replayProtection: true, idempotencyKey: 'b' }, lambdaContext('signer'));
    const c = await idempotent({ transaction: { ...tx, value: 1n }, replayProtection: true, idempotencyKey: 'a' }, lambdaContext('signer'));
    expect(calls.count).toBe(3);
    expect(new Set([a.signedTransaction, b.signedTransaction, c.signedTransaction]).size).toBe(3);
    expect(await idempotent({ transaction: tx, replayProtection: true, idempotencyKey: 'b' }, lambdaContext('signer'))).toEqual(b);
  });

  it('keeps no record when signing fails, so the retry signs', async () => {
    let fail = true;
    const { sign, calls } = countingSigner();
    const flaky = async (request: IdempotentSignRequest) => {
      if (fail) {
        fail = false;
        throw new SpendingLimitExceededError({ limitId: 'key:x', windowSeconds: 60, asset: 'native' }, 1n);
      }
      return sign(request);
    };
    const idempotent = makeIdempotentSign(flaky, options('failure'));
    const request = { transaction: transfer(), replayProtection: true };
    expect(await rejectionOf(idempotent(request, lambdaContext('signer')))).toBeInstanceOf(SpendingLimitExceededError);
    await idempotent(request, lambdaContext('signer'));
    expect(calls.count).toBe(1);
  });

  it('answers two duplicates in flight at once with one and the same signed transaction (the first recorded)', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('in-flight'));
    const request = { transaction: transfer(), replayProtection: true };
    const [a, b] = await Promise.all([idempotent(request, lambdaContext('signer')), idempotent(request, lambdaContext('signer'))]);
    expect(a).toEqual(b);
    expect(calls.count).toBe(2);
    expect(calls.made.map((made) => made.signedTransaction)).toContain(a.signedTransaction);
    expect(await idempotent(request, lambdaContext('signer'))).toEqual(a);
    expect(await idempotencyRecords(dynamo, keyArn, 'in-flight')).toHaveLength(1);
  });

  it('answers SigningInProgressError, keeping nothing it signed, while a record left in progress by the earlier Powertools-based version is live', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('legacy-in-progress'));
    const request = { transaction: transfer(), replayProtection: true };
    // What Powertools wrote when an invocation started signing: status INPROGRESS until its invocation would time out.
    const first = await idempotent(request, lambdaContext('signer'));
    const [record] = await idempotencyRecords(dynamo, keyArn, 'legacy-in-progress');
    const inProgress = { pk: { S: keyArn }, sk: record?.sk ?? { S: '' }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.round(Date.now() / 1000) + 3600) }, in_progress_expiration: { N: String(Date.now() + 60_000) } };
    await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: inProgress }));
    const error = await rejectionOf(idempotent(request, lambdaContext('signer')));
    expect(error).toBeInstanceOf(SigningInProgressError);
    expect(calls.count).toBe(2);
    expect(calls.made[1]?.signedTransaction).not.toBe(first.signedTransaction);
    // Once that invocation would have timed out, the record may be replaced.
    const realNow = Date.now;
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    try {
      const retried = await idempotent(request, lambdaContext('signer'));
      expect(retried.signedTransaction).toBe(calls.made[2]?.signedTransaction);
    } finally {
      spy.mockRestore();
    }
  });

  it('uses the record key the Powertools idempotency utility used, so that records written before the upgrade still replay', async () => {
    const { sign } = countingSigner();
    const request = { transaction: transfer(), replayProtection: true, idempotencyKey: 'payout-7' };
    await makeIdempotentSign(sign, options('powertools-key'))(request, lambdaContext('signer'));
    const layer = new DynamoDBPersistenceLayer({ tableName: dynamo.tableName, awsSdkV3Client: dynamo.client, keyAttr: 'pk', sortKeyAttr: 'sk', staticPkValue: keyArn });
    layer.configure({ config: new IdempotencyConfig({ hashFunction: 'sha256' }), keyPrefix: 'idempotency#powertools-key' });
    const [record] = await idempotencyRecords(dynamo, keyArn, 'powertools-key');
    expect(record?.sk?.S).toBe(layer['getHashedIdempotencyKey'](idempotencyIdentity(request) as never));
  });

  it('answers a retry with its first response even when the retry itself cannot sign (its limit is used up now)', async () => {
    const { sign } = countingSigner();
    let refuse = false;
    const limited = async (request: IdempotentSignRequest) => {
      if (refuse) throw new SpendingLimitExceededError({ limitId: 'key:x', windowSeconds: 60, asset: 'native' }, 1n);
      return sign(request);
    };
    const idempotent = makeIdempotentSign(limited, options('refused-retry'));
    const request = { transaction: transfer(), replayProtection: true };
    const first = await idempotent(request, lambdaContext('signer'));
    refuse = true;
    expect(await idempotent(request, lambdaContext('signer'))).toEqual(first);
    expect(await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, lambdaContext('signer')))).toBeInstanceOf(SpendingLimitExceededError);
  });

  it('answers a limit refusal that found no reservation of the same request as it is, without reading the record: one DynamoDB call in all', async () => {
    const client = dynamo.newClient();
    const commands = recordSdkCommands(client);
    const { sign } = countingSigner();
    let refusal: SpendingLimitExceededError | undefined;
    const limited = async (request: IdempotentSignRequest) => {
      if (refusal) throw refusal;
      return sign(request);
    };
    const idempotent = makeIdempotentSign(limited, options('unreserved-refusal', { client }));
    const request = { transaction: transfer(), replayProtection: true };
    const first = await idempotent(request, lambdaContext('signer'));
    const limit = { limitId: 'key:x', windowSeconds: 60, asset: 'native' };
    // A retry of a signed request whose reservation record has expired gets the refusal while its limit is full.
    commands.length = 0;
    refusal = new SpendingLimitExceededError(limit, 1n, { sameRequestReserved: false });
    expect(await rejectionOf(idempotent(request, lambdaContext('signer')))).toBe(refusal);
    expect(commands).toEqual([]);
    // While its reservation lives, the retry is looked up and answered with its first response.
    refusal = new SpendingLimitExceededError(limit, 1n, { sameRequestReserved: true });
    expect(await idempotent(request, lambdaContext('signer'))).toEqual(first);
    expect(commands).toEqual(['GetItemCommand']);
  });

  describe('a refused retry answered from a record that cannot be replayed', () => {
    const limit = { limitId: 'key:x', windowSeconds: 60, asset: 'native' };
    /** Signs a request once, rewrites its record with `change`, then retries it refused by its limit. */
    const retryAfter = async (scope: string, change: (record: Record<string, AttributeValue>) => Record<string, AttributeValue>) => {
      const { sign } = countingSigner();
      let refusal: SpendingLimitExceededError | undefined;
      const idempotent = makeIdempotentSign(async (request: IdempotentSignRequest) => {
        if (refusal) throw refusal;
        return sign(request);
      }, options(scope));
      const request = { transaction: transfer(), replayProtection: true };
      await idempotent(request, lambdaContext('signer'));
      const [record] = await idempotencyRecords(dynamo, keyArn, scope);
      await dynamo.client.send(new PutItemCommand({ TableName: dynamo.tableName, Item: change(record ?? {}) }));
      refusal = new SpendingLimitExceededError(limit, 1n, { sameRequestReserved: true });
      return { outcome: await rejectionOf(idempotent(request, lambdaContext('signer'))), refusal };
    };

    it('answers the refusal when the record has expired (DynamoDB deletes expired records only eventually)', async () => {
      const { outcome, refusal } = await retryAfter('expired', (record) => ({ ...record, expiration: { N: String(Math.floor(Date.now() / 1000) - 1) } }));
      expect(outcome).toBe(refusal);
    });

    it('answers the refusal when the record has no status or no expiry (not a completed record)', async () => {
      const withoutStatus = await retryAfter('no-status', ({ status: _status, ...record }) => record);
      expect(withoutStatus.outcome).toBe(withoutStatus.refusal);
      const withoutExpiry = await retryAfter('no-expiry', ({ expiration: _expiration, ...record }) => record);
      expect(withoutExpiry.outcome).toBe(withoutExpiry.refusal);
    });

    it('fails closed when a completed record holds no response (missing, or not an object): nothing is replayed', async () => {
      for (const [scope, data] of [['no-data', undefined], ['string-data', { S: 'not a response' }], ['null-data', { NULL: true }]] as const) {
        const { outcome } = await retryAfter(scope, ({ data: _data, ...record }) => ({ ...record, ...(data && { data }) }));
        expect(outcome).toBeInstanceOf(PolicyStateUnavailableError);
        expect((outcome as Error).message).toContain('the idempotency record holds no response it could replay');
      }
    });
  });

  it('keys the record on the request hash the caller computed already (the handler tags the reservation with it too)', async () => {
    const { sign } = countingSigner();
    const request = { transaction: transfer(), replayProtection: true, idempotencyKey: 'precomputed' };
    const hash = requestHash(request);
    await makeIdempotentSign(sign, options('precomputed'))({ ...request, requestHash: hash }, lambdaContext('signer'));
    const [record] = await idempotencyRecords(dynamo, keyArn, 'precomputed');
    expect(record?.sk?.S).toBe(`idempotency#precomputed#${hash}`);
    expect(requestHash({ ...request, transaction: { ...request.transaction, value: String(request.transaction.value) } })).toBe(hash);
  });

  it('takes its own write as stored when DynamoDB applied it but the answer was lost and the SDK sent it again', async () => {
    const client = dynamo.newClient({ maxAttempts: 2 });
    let lost = 0;
    // Below the retry middleware: the first PutItem reaches DynamoDB, and its answer is lost on the way back.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'PutItemCommand' && lost++ === 0) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
        return result;
      },
      { step: 'deserialize', name: 'loseFirstPutItemAnswer' },
    );
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('lost-answer', { client }));
    const request = { transaction: transfer(), replayProtection: true };
    const first = await idempotent(request, lambdaContext('signer'));
    expect(lost).toBe(2); // sent twice: applied, then refused by its own record
    expect(first).toBe(calls.made[0]);
    expect(await makeIdempotentSign(sign, options('lost-answer'))(request, lambdaContext('signer'))).toEqual(first);
    client.destroy();
  });

  it('signs again once the idempotency window has passed', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('window', { windowSeconds: 60 }));
    const request = { transaction: transfer(), replayProtection: true };
    const first = await idempotent(request, lambdaContext('signer'));
    const realNow = Date.now;
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    try {
      const later = await idempotent(request, lambdaContext('signer'));
      expect(later.signedTransaction).not.toBe(first.signedTransaction);
      expect(calls.count).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('stores its records in the key partition with a TTL expiry, next to the spending item', async () => {
    const { sign } = countingSigner();
    await makeIdempotentSign(sign, options('layout', { windowSeconds: 120 }))({ transaction: transfer(), replayProtection: true }, lambdaContext('signer'));
    const records = await idempotencyRecords(dynamo, keyArn, 'layout');
    expect(records).toHaveLength(1);
    const expiry = Number(records[0]?.expiration?.N);
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + 100);
    expect(expiry).toBeLessThanOrEqual(Date.now() / 1000 + 121);
    expect(records[0]?.sk?.S).toMatch(/^idempotency#layout#[A-Za-z0-9+/]{43}=$/);
  });

  it('fails closed with PolicyStateUnavailableError, returning nothing it signed, when DynamoDB is down', async () => {
    const { sign, calls } = countingSigner();
    const client = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const idempotent = makeIdempotentSign(sign, options('down', { client }));
    const error = await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, lambdaContext('signer')));
    expect(error).toBeInstanceOf(PolicyStateUnavailableError);
    expect(error.message).toContain('(idempotency record: DynamoDB failed: ');
    expect(error.message).not.toContain(calls.made[0]?.signedTransaction.slice(2, 40));
    expect(calls.count).toBe(1);
    client.destroy();
  });

  it('ends its record calls within the invocation when DynamoDB accepts the connection and never answers', async () => {
    const hung = await hungDynamoDb();
    try {
      const { sign, calls } = countingSigner();
      const idempotent = makeIdempotentSign(sign, options('hung', { client: hung.client }));
      const error = await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, lambdaContext('signer', 1000)));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(rootCause(error)).toMatchObject({ name: 'TimeoutError', message: expect.stringMatching(/^no answer from DynamoDB within [1-9]\d* ms$/) });
      // Given what was left of the 1 s invocation less the 300 ms kept to answer, not a timeout of its own.
      expect(Number(/within (\d+) ms/.exec((rootCause(error) as Error).message)?.[1])).toBeLessThanOrEqual(700);
      expect(calls.count).toBe(1); // signed (in the handler: already under way), never returned
    } finally {
      hung.close();
    }
  });

  it('counts a retried request once against the spending limits when the caller gives back what a dropped signature counted', async () => {
    const store = new SpendingStore({ tableName: dynamo.tableName, client: dynamo.client });
    const daily: SpendingLimit = { id: 'key:idempotent-daily', windowSeconds: 86_400, maxCount: 2, asset: 'native' };
    const { sign } = countingSigner();
    // The step only hands over the signature made before it, as the handler's claims the one under way.
    const idempotent = makeIdempotentSign(async (request: IdempotentSignRequest & { own: SignResponse }) => request.own, options('limits'));
    // As the handler does: reserve, sign, and give the reservation back when the answer is not this request's own.
    const reserveAndSign = async (request: IdempotentSignRequest) => {
      const reservation = await store.reserve([{ limit: daily, amount: BigInt(request.transaction.value ?? 0) }], { keyArn, reservationId: 'r' });
      const own = await sign(request).catch(async (error: unknown) => {
        await store.release(reservation);
        throw error;
      });
      const answer = await idempotent({ ...request, own }, lambdaContext('signer'));
      if (answer !== own) await store.release(reservation);
      return answer;
    };
    const request = { transaction: transfer(), replayProtection: true };
    const first = await reserveAndSign(request);
    for (let i = 0; i < 3; i++) expect(await reserveAndSign(request)).toEqual(first);
    await reserveAndSign({ transaction: transfer(), replayProtection: true }); // the 2nd signature
    expect(await rejectionOf(reserveAndSign({ transaction: transfer(), replayProtection: true }))).toBeInstanceOf(SpendingLimitExceededError);
    const spending = await dynamo.client.send(new GetItemCommand({ TableName: dynamo.tableName, Key: { pk: { S: keyArn }, sk: { S: 'spending' } } }));
    expect(spending.Item?.limits?.M?.['key:idempotent-daily@native']?.M?.n?.N).toBe('2');
  });

  it('passes a failure of the signing function that is not a SignerError through unchanged (a bug is not a store outage)', async () => {
    const bug = new RangeError('index out of range');
    const idempotent = makeIdempotentSign(async () => Promise.reject(bug), options('bug'));
    expect(await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, lambdaContext('signer')))).toBe(bug);
  });

  it('does not replay a signed response to a request that names another sender: that request is refused', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('sender'));
    const transaction = transfer();
    const signed = await idempotent({ transaction, replayProtection: true }, lambdaContext('signer'));
    const other = Wallet.createRandom().address;
    expect(await rejectionOf(idempotent({ transaction: { ...transaction, from: other }, replayProtection: true }, lambdaContext('signer')))).toBeInstanceOf(FromMismatchError);
    // Naming the signer's own address (in any case) is a request of its own, replayed as such.
    const own = { transaction: { ...transaction, from: signed.from.toLowerCase() }, replayProtection: true };
    const ownSigned = await idempotent(own, lambdaContext('signer'));
    expect(await idempotent({ ...own, transaction: { ...transaction, from: signed.from } }, lambdaContext('signer'))).toEqual(ownSigned);
    // The refused request reached the signer, which refused it; the replay of `own` made a signature that was dropped.
    expect(calls.count).toBe(4);
    expect(calls.made).toHaveLength(3);
  });

  it('works without a Lambda context, and with a partial one that cannot tell the remaining time', async () => {
    const { sign, calls } = countingSigner();
    const idempotent = makeIdempotentSign(sign, options('no-context'));
    const request = { transaction: transfer(), replayProtection: true };
    const warn = quietRemainingTimeWarning();
    try {
      const first = await idempotent(request);
      expect(await idempotent(request, { awsRequestId: 'partial' } as Context)).toEqual(first);
    } finally {
      warn.mockRestore();
    }
    expect(calls.count).toBe(2);
  });

  it('lets a retry sign while the invocation that was signing the request is stuck or died mid-way (nothing is held in progress)', async () => {
    const { sign, calls } = countingSigner();
    let died = true;
    const idempotent = makeIdempotentSign(async (request: IdempotentSignRequest) => {
      if (died) {
        died = false;
        return new Promise<never>(() => undefined); // the invocation is killed while it signs: no response, no cleanup
      }
      return sign(request);
    }, options('died'));
    const request = { transaction: transfer(), replayProtection: true };
    void idempotent(request, lambdaContext('signer', 1000));
    const retried = await idempotent(request, lambdaContext('signer'));
    expect(Transaction.from(retried.signedTransaction).from).toBe(retried.from);
    expect(calls.count).toBe(1);
  });

  describe("with the caller's budget", () => {
    let warn: jest.SpyInstance;
    beforeEach(() => (warn = quietRemainingTimeWarning()));
    afterEach(() => warn.mockRestore());

    it('refuses to call DynamoDB, and does not sign, when the deadline is now', async () => {
      const { sign, calls } = countingSigner();
      const idempotent = makeIdempotentSign(sign, options('deadline-now'));
      const now = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(now);
      try {
        const error = await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, lambdaContext('signer'), { deadlineMs: now }));
        expect(error).toBeInstanceOf(PolicyStateUnavailableError);
        expect(rootCause(error)).toMatchObject({ name: 'TimeoutError', message: 'the invocation ran out of time before DynamoDB was called' });
      } finally {
        spy.mockRestore();
      }
      expect(calls.count).toBe(0);
    });

    it('refuses to call DynamoDB, and does not sign, when the caller has already cancelled', async () => {
      const { sign, calls } = countingSigner();
      const idempotent = makeIdempotentSign(sign, options('cancelled'));
      const error = await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, undefined, { signal: AbortSignal.abort() }));
      expect(error).toBeInstanceOf(PolicyStateUnavailableError);
      expect(rootCause(error)).toMatchObject({ name: 'TimeoutError', message: 'the invocation ran out of time before DynamoDB was called' });
      expect(calls.count).toBe(0);
    });

    it('stops waiting for a DynamoDB that never answers as soon as the caller cancels', async () => {
      const hung = await hungDynamoDb();
      try {
        const { sign, calls } = countingSigner();
        const idempotent = makeIdempotentSign(sign, options('cancel-hung', { client: hung.client }));
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const error = await rejectionOf(idempotent({ transaction: transfer(), replayProtection: true }, undefined, { signal: controller.signal }));
        expect(error).toBeInstanceOf(PolicyStateUnavailableError);
        // Ended by the cancellation (the hung DynamoDB never answers and no deadline was set).
        expect(rootCause(error)).toMatchObject({ name: 'TimeoutError', message: 'the caller cancelled the request' });
        expect(calls.count).toBe(1); // signed, never returned
      } finally {
        hung.close();
      }
    });

    it('signs and replays under a signal that is never cancelled, leaving no listener on it', async () => {
      const { sign, calls } = countingSigner();
      const idempotent = makeIdempotentSign(sign, options('signal'));
      const { signal } = new AbortController();
      const request = { transaction: transfer(), replayProtection: true };
      const first = await idempotent(request, undefined, { signal });
      expect(await idempotent(request, undefined, { signal })).toEqual(first);
      expect(calls.count).toBe(2);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    });
  });
});

describe('makeIdempotentSign in another Lambda instance (a fresh load of the module)', () => {
  it('records a response, with its TTL expiry, that this instance replays', async () => {
    const fresh = freshModule(() => require('../../../lambdas/policy-state/idempotency') as typeof import('../../../lambdas/policy-state/idempotency')).makeIdempotentSign;
    const { sign, calls } = countingSigner();
    const request = { transaction: transfer(), replayProtection: true };
    const first = await fresh(sign, options('instances', { windowSeconds: 120, client: dynamo.newClient() }))(request, lambdaContext('signer'));
    expect(await makeIdempotentSign(sign, options('instances'))(request, lambdaContext('signer'))).toEqual(first);
    expect(calls.count).toBe(2);
    const records = await idempotencyRecords(dynamo, keyArn, 'instances');
    expect(Number(records[0]?.expiration?.N)).toBeGreaterThan(Date.now() / 1000 + 100);
  });
});

describe('idempotencyIdentity', () => {
  it('differs when any signed field differs', () => {
    const tx = transfer();
    const base = idempotencyIdentity({ transaction: tx, replayProtection: true });
    for (const change of [{ nonce: Number(tx.nonce) + 1 }, { value: 1n }, { gasLimit: 21001n }, { maxFeePerGas: 31n * 10n ** 9n }, { chainId: 5n }, { data: '0x00' }]) {
      expect(idempotencyIdentity({ transaction: { ...tx, ...change }, replayProtection: true }).unsignedHash).not.toBe(base.unsignedHash);
    }
  });

  it('names the sender by its checksum address whatever the case it was written in, and null when there is none', () => {
    const { address } = Wallet.createRandom();
    const tx = transfer();
    expect(idempotencyIdentity({ transaction: { ...tx, from: address.toLowerCase() }, replayProtection: true })).toEqual({
      ...idempotencyIdentity({ transaction: tx, replayProtection: true }),
      from: address,
    });
    expect(idempotencyIdentity({ transaction: tx, replayProtection: true }).from).toBeNull();
  });
});

describe('idempotencyKeyProblem', () => {
  it.each([[''], [' '], ['a b'], ['x'.repeat(129)], [42], [null], ['é']])('rejects %p', (value) => {
    expect(idempotencyKeyProblem(value)).toMatch(/1 to 128 printable ASCII/);
  });
  it.each([[undefined], ['3f2b9c1e-0d7a-4c1b-9f5e-2a6b8c9d0e1f'], ['order:42']])('accepts %p', (value) => {
    expect(idempotencyKeyProblem(value)).toBeUndefined();
  });
});
