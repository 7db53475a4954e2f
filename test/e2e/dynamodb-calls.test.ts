// DynamoDB calls per signature, counted on the wire (issue 27): the handler configured from the environment alone
// (as the CDK stack configures it: POLICY_TABLE_NAME, idempotency on by default) signs with the local KMS over HTTP,
// and its DynamoDB calls go through a proxy in front of dynalite that answers a failed condition with the item, as
// DynamoDB does (dynalite does not). Anvil mines what is signed.
import type { KMSClient } from '@aws-sdk/client-kms';
import { parseEther, Wallet } from 'ethers';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import type { SignResponse } from '../../lambdas/operations/response';
import { DEV_ACCOUNTS } from '../../scripts/local-chain';
import { localKmsClient } from '../../scripts/local-kms';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';
import { writePolicyFile } from '../helpers/policy-file';
import { startDynamoDbFaultProxy, type DynamoDbFaultProxy } from '../helpers/dynamodb-fault-proxy';
import { rejectionOf } from '../helpers/rejection';

const RECIPIENT = DEV_ACCOUNTS[1].address;

describe('DynamoDB calls per signature with spending limits and idempotency, as deployed', () => {
  let stack: LocalStack;
  let dynamo: LocalDynamoDb;
  let proxy: DynamoDbFaultProxy;
  let kmsClient: KMSClient;
  let handler: SignerHandler;
  let address: string;
  let nonce = 0;
  let gasPrice: bigint;
  const saved = { ...process.env };

  beforeAll(async () => {
    [stack, dynamo] = await Promise.all([startLocalStack(), startLocalDynamoDb()]);
    proxy = await startDynamoDbFaultProxy(dynamo.endpoint, { returnItemOnConditionFailure: true });
    await createSigningKey(stack.kmsClient, 'alias/calls');
    const policyFile = writePolicyFile({
      version: 1,
      description: 'Transfers to one account, at most 3 signatures a day',
      limits: [{ name: 'daily-signatures', window: '24h', maxCount: 3 }],
      rules: [{ id: 'payouts', description: 'Plain transfers to dev account 1', effect: 'allow', chainId: 31337, type: 2, to: [RECIPIENT], maxDataBytes: 0 }],
    });
    Object.assign(process.env, {
      KMS_KEY_ID: 'alias/calls', ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile,
      POLICY_TABLE_NAME: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
    });
    kmsClient = localKmsClient(stack.kms);
    handler = createHandler('eip1559', { client: kmsClient });
    address = ((await handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559'))) as { address: string }).address;
    const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
    await (await funder.sendTransaction({ to: address, value: parseEther('1') })).wait();
    gasPrice = (await stack.anvil.provider.getFeeData()).gasPrice ?? 10n ** 9n;
  });
  afterAll(async () => {
    process.env = saved;
    kmsClient.destroy();
    await Promise.all([stack.close(), proxy.close(), dynamo.close()]);
  });

  const transfer = (idempotencyKey: string) => ({
    operation: 'sign',
    idempotencyKey,
    transaction: { to: RECIPIENT, value: '1000', nonce: nonce++, gasLimit: 21000, maxFeePerGas: String(gasPrice * 2n), maxPriorityFeePerGas: String(gasPrice / 10n + 1n) },
  });
  /** The DynamoDB operations `run` made, in order. */
  const callsOf = async <T>(run: () => Promise<T>): Promise<{ result: T; calls: string[] }> => {
    const before = proxy.calls.length;
    const result = await run();
    return { result, calls: proxy.calls.slice(before).map((call) => call.operation) };
  };
  const sign = (event: object) => handler(event, lambdaContext('eth-signer-eip1559')) as Promise<SignResponse>;
  const mined = async (signed: SignResponse) => (await (await stack.anvil.provider.broadcastTransaction(signed.signedTransaction)).wait())?.status;

  let retried: { event: object; response: SignResponse };

  it('signs with two calls once the spending item exists: the reservation, then the idempotency record', async () => {
    expect(await mined(await sign(transfer('first')))).toBe(1); // creates the spending item
    const event = transfer('second');
    const { result, calls } = await callsOf(() => sign(event));
    expect(calls).toEqual(['UpdateItem', 'PutItem']);
    expect(await mined(result)).toBe(1);
    retried = { event, response: result };
  });

  it('refuses a request over its limit in one call: the refused reservation, which shows no earlier reservation of it', async () => {
    await sign(transfer('third')); // the third and last signature of the day
    const { result, calls } = await callsOf(() => rejectionOf(sign(transfer('fourth'))));
    expect(result).toMatchObject({ name: 'SpendingLimitExceededError' });
    expect(calls).toEqual(['UpdateItem']);
  });

  it('answers a retry of a signed request with its first response although its limit is full now: the refused reservation, then the record', async () => {
    const { result, calls } = await callsOf(() => sign(retried.event));
    expect(result).toEqual(retried.response);
    expect(calls).toEqual(['UpdateItem', 'GetItem']);
  });
});
