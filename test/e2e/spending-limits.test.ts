// End to end with spending limits: the signer handler -> the policy engine -> the spending store over the real
// SDK to dynalite -> the local KMS over HTTP -> anvil, which must mine what is signed. Nothing is mocked.
import type { KMSClient } from '@aws-sdk/client-kms';
import { parseEther, Wallet } from 'ethers';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import { createPolicyState } from '../../lambdas/policy-state/runtime';
import type { SignResponse } from '../../lambdas/operations/response';
import { DEV_ACCOUNTS } from '../../scripts/local-chain';
import { localKmsClient } from '../../scripts/local-kms';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';
import { writePolicyFile } from '../helpers/policy-file';

const RECIPIENT = DEV_ACCOUNTS[1].address;

describe('signer handler with spending limits on the local stack (dynalite, local KMS, anvil)', () => {
  let stack: LocalStack;
  let dynamo: LocalDynamoDb;
  let client: KMSClient;
  let handler: SignerHandler;
  let address: string;
  let nonce = 0;
  let gasPrice: bigint;
  let policyFile: string;
  const kmsRequests: string[] = [];

  beforeAll(async () => {
    [stack, dynamo] = await Promise.all([startLocalStack(), startLocalDynamoDb()]);
    await createSigningKey(stack.kmsClient, 'alias/limits');
    client = localKmsClient(stack.kms);
    client.middlewareStack.add((next, context) => async (args) => {
      kmsRequests.push(String(context.commandName));
      return next(args);
    }, { step: 'finalizeRequest', name: 'countKmsRequests' });
    policyFile = writePolicyFile({
      version: 1,
      description: 'Transfers to one account: at most 5 signatures and 1 ETH a day',
      limits: [{ name: 'daily-signatures', window: '24h', maxCount: 5 }],
      rules: [{
        id: 'payouts', description: 'Plain transfers to dev account 1', effect: 'allow', chainId: 31337, type: 2, to: [RECIPIENT], maxDataBytes: 0,
        limits: [{ name: 'daily-eth', window: '24h', maxValue: '1 ether' }],
      }],
    });
    const policyState = createPolicyState({ tableName: dynamo.tableName, idempotency: true, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 }, dynamo.client);
    const inner = createHandler('eip1559', { client, policyState });
    handler = (event) => {
      Object.assign(process.env, { KMS_KEY_ID: 'alias/limits', ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile });
      return inner(event, lambdaContext('eth-signer-eip1559')).finally(() => {
        process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
      });
    };
    address = ((await handler({ operation: 'status' })) as { address: string }).address;
    const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
    await (await funder.sendTransaction({ to: address, value: parseEther('10') })).wait();
    gasPrice = (await stack.anvil.provider.getFeeData()).gasPrice ?? 10n ** 9n;
  });
  afterAll(async () => {
    client.destroy();
    await Promise.all([stack.close(), dynamo.close()]);
  });

  const transfer = (value: bigint) => ({
    operation: 'sign',
    transaction: { to: RECIPIENT, value: value.toString(), nonce, gasLimit: 21000, maxFeePerGas: String(gasPrice * 2n), maxPriorityFeePerGas: String(gasPrice / 10n + 1n) },
  });

  it('signs within the limits, and anvil mines what was signed', async () => {
    for (const value of [parseEther('0.4'), parseEther('0.5')]) {
      const signed = (await handler(transfer(value))) as SignResponse;
      nonce++;
      const receipt = await (await stack.anvil.provider.broadcastTransaction(signed.signedTransaction)).wait();
      expect(receipt?.status).toBe(1);
      expect(receipt?.from).toBe(address);
    }
  });

  // Sign starts in parallel with the idempotency record and the reservation (issue 27): a retry's own signature,
  // if KMS made one, is dropped unseen and its reservation given back; the caller gets the first one, counted once.
  it('gives a retried request the identical signed transaction, without a second charge', async () => {
    kmsRequests.length = 0;
    const event = { ...transfer(0n), idempotencyKey: 'payout-0001' };
    const first = (await handler(event)) as SignResponse;
    const retry = (await handler(event)) as SignResponse;
    expect(retry).toEqual(first);
    expect(kmsRequests.filter((name) => name === 'SignCommand').length).toBeLessThanOrEqual(2);
    nonce++;
    expect((await (await stack.anvil.provider.broadcastTransaction(first.signedTransaction)).wait())?.status).toBe(1);
  });

  it('configured from the environment alone (POLICY_TABLE_NAME, as the CDK stack sets it), replays a retried request', async () => {
    const fromEnv = createHandler('eip1559', { client });
    const env = {
      KMS_KEY_ID: 'alias/limits', ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile,
      POLICY_TABLE_NAME: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let first: SignResponse;
    try {
      kmsRequests.length = 0;
      const event = { ...transfer(0n), idempotencyKey: 'from-env-1' };
      first = (await fromEnv(event, lambdaContext('eth-signer-eip1559'))) as SignResponse;
      expect(await fromEnv(event, lambdaContext('eth-signer-eip1559'))).toEqual(first);
      expect(kmsRequests.filter((name) => name === 'SignCommand').length).toBeLessThanOrEqual(2);
    } finally {
      for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name]; else process.env[name] = saved[name];
    }
    nonce++;
    expect((await (await stack.anvil.provider.broadcastTransaction(first.signedTransaction)).wait())?.status).toBe(1);
  });

  it('refuses the transaction that would exceed the rule\'s daily amount with SpendingLimitExceededError, at the cost of at most one Sign, dropped', async () => {
    kmsRequests.length = 0;
    await expect(handler(transfer(parseEther('0.2')))).rejects.toMatchObject({ name: 'SpendingLimitExceededError', message: expect.stringContaining('daily-eth') });
    expect(kmsRequests.filter((name) => name !== 'SignCommand')).toEqual([]);
    expect(kmsRequests.length).toBeLessThanOrEqual(1);
  });

  it('then signs what still fits, and refuses the 6th signature of the day by the key-wide count (each retried request counted once)', async () => {
    const signed = (await handler(transfer(parseEther('0.1')))) as SignResponse;
    nonce++;
    expect((await (await stack.anvil.provider.broadcastTransaction(signed.signedTransaction)).wait())?.status).toBe(1);
    kmsRequests.length = 0;
    await expect(handler(transfer(0n))).rejects.toMatchObject({ name: 'SpendingLimitExceededError', message: expect.stringContaining('daily-signatures') });
    expect(kmsRequests.filter((name) => name !== 'SignCommand')).toEqual([]);
    expect(kmsRequests.length).toBeLessThanOrEqual(1);
  });
});
