// End to end: kms-eth-signer/client (LambdaSigner, lambdaAccount) and the AWS CLI -> the local Lambda Invoke
// endpoint -> the built signer bundles (npm run build), each in its own process -> the local KMS and dynalite ->
// anvil, which must mine what they sign. Nothing here is mocked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseEther, Transaction, verifyAuthorization, verifyMessage, verifyTypedData, Wallet } from 'ethers';
import { createPublicClient, createWalletClient, http, parseEther as viemParseEther } from 'viem';
import { foundry } from 'viem/chains';
import { InvalidRequestError, KmsUnavailableError, LambdaInvokeError, LambdaSigner, lambdaAccount, PolicyDeniedError, SpendingLimitExceededError } from '../../client';
import { DEV_ACCOUNTS, waitForReceipt } from '../../scripts/local-chain';
import type { LocalInvokeEndpoint } from '../../scripts/local-stack/invoke-endpoint';
import { signerFunctionName, startSignerFunctions } from '../../scripts/local-stack/signer-functions';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { REPO_ROOT, runProcess } from '../helpers/cli-process';
import { rejectionOf } from '../helpers/rejection';

jest.setTimeout(120_000);

const RECIPIENT = DEV_ACCOUNTS[1].address;
const STRANGER = DEV_ACCOUNTS[2].address;
const MAIL = {
  domain: { name: 'Ether Mail', version: '1', chainId: 31337n, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: { Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }], Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }] },
  value: { from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' }, to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' }, contents: 'Hello, Bob!' },
};
// Transfers to one recipient, at most 1 ETH each and 0.5 ETH a day in all (counted in the policy table).
const POLICY = {
  version: 1,
  rules: [{ id: 'pay-recipient', effect: 'allow', to: [RECIPIENT], maxValue: '1 ether', limits: [{ name: 'daily', window: '24h', maxValue: '0.5 ether' }] }],
  messages: { signMessage: { allow: true }, signTypedData: [{ id: 'mail', primaryType: 'Mail', domain: { name: 'Ether Mail' } }], signAuthorization: { delegates: [RECIPIENT] } },
};

let stack: LocalStack;
let lambdas: LocalInvokeEndpoint;
let client: LambdaClient;
let address: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-client-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(POLICY));
  stack = await startLocalStack({ dynamodb: {} });
  const { keyId } = await createSigningKey(stack.kmsClient);
  lambdas = await startSignerFunctions(stack, { keyId, policyFile: join(dir, 'policy.json'), logs: 'ignore' });
  client = new LambdaClient({ endpoint: lambdas.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  address = await new LambdaSigner({ functionName: signerFunctionName('eip1559'), client }).getAddress();
  const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
  await waitForReceipt(stack.anvil.provider, (await funder.sendTransaction({ to: address, value: parseEther('10') })).hash);
});
afterAll(async () => {
  client?.destroy();
  await lambdas?.close();
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const eip1559 = () => new LambdaSigner({ functionName: signerFunctionName('eip1559'), client }, stack.anvil.provider);

describe('LambdaSigner against the local Invoke endpoint', () => {
  it('sends a transaction that anvil mines: ethers fills nonce and fees, the Lambda signs', async () => {
    const response = await eip1559().sendTransaction({ to: RECIPIENT, value: parseEther('0.01') });
    const receipt = await waitForReceipt(stack.anvil.provider, response.hash);
    expect(receipt).toMatchObject({ status: 1, from: address, to: RECIPIENT });
  });

  it('sends a legacy (type 0) transaction through the legacy Lambda', async () => {
    const legacy = new LambdaSigner({ functionName: signerFunctionName('legacy'), client, kind: 'legacy' }, stack.anvil.provider);
    const response = await legacy.sendTransaction({ to: RECIPIENT, value: parseEther('0.01') });
    const receipt = await waitForReceipt(stack.anvil.provider, response.hash);
    expect(receipt).toMatchObject({ status: 1, from: address, type: 0 });
  });

  it('receives a policy denial as PolicyDeniedError with the Lambda\'s message', async () => {
    const error = await rejectionOf(eip1559().sendTransaction({ to: STRANGER, value: 1n }));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error.message).toMatch(/^The signing policy refused this transaction and nothing was signed: no rule allowed/);
  });

  it('receives bad input as InvalidRequestError naming the field', async () => {
    const error = await rejectionOf(eip1559().signTransaction({ to: RECIPIENT, value: 1n, nonce: 0, gasLimit: 20_000n, chainId: 31337n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 1n }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(/transaction\.gasLimit must be at least 21000/);
  });

  it('returns the same signed transaction to a retry with the same idempotencyKey, and a new signature to another key', async () => {
    const signer = eip1559();
    const tx = { to: RECIPIENT, value: parseEther('0.001'), nonce: 1000, gasLimit: 21000n, chainId: 31337n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
    const first = await signer.signTransaction(tx, { idempotencyKey: 'e2e-retry-1' });
    const retry = await signer.signTransaction(tx, { idempotencyKey: 'e2e-retry-1' });
    const other = await signer.signTransaction(tx, { idempotencyKey: 'e2e-retry-2' });
    expect(retry).toBe(first);
    // KMS ECDSA signatures are randomised: only a replay gives the same bytes.
    expect(other).not.toBe(first);
    expect(Transaction.from(other).from).toBe(address);
  });

  it('receives a spending-limit refusal as SpendingLimitExceededError, counted in the local policy table', async () => {
    const signer = eip1559();
    const tx = (nonce: number) => ({ to: RECIPIENT, value: parseEther('0.3'), nonce, gasLimit: 21000n, chainId: 31337n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n });
    await signer.signTransaction(tx(2000));
    const error = await rejectionOf(signer.signTransaction(tx(2001)));
    expect(error).toBeInstanceOf(SpendingLimitExceededError);
    expect(error.message).toMatch(/^Spending limit "[^"]*daily" \(86400 s rolling window/);
  });

  it('signs a message, typed data and an authorization that ethers verifies to the KMS address', async () => {
    const signer = eip1559();
    expect(verifyMessage('hello from the client', await signer.signMessage('hello from the client'))).toBe(address);
    expect(verifyTypedData(MAIL.domain, MAIL.types, MAIL.value, await signer.signTypedData(MAIL.domain, MAIL.types, MAIL.value))).toBe(address);
    const authorization = await signer.authorize({ address: RECIPIENT, nonce: 5, chainId: 31337n });
    expect(verifyAuthorization(authorization, authorization.signature)).toBe(address);
  });

  it('receives a KMS outage as KmsUnavailableError (nothing signed), and signs once KMS answers again', async () => {
    const signer = new LambdaSigner({ functionName: signerFunctionName('eip1559'), client, retries: 0 }, stack.anvil.provider);
    const tx = { to: RECIPIENT, value: parseEther('0.001'), nonce: 3000, gasLimit: 21000n, chainId: 31337n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
    stack.kms.faults.set({ internalError: 100 });
    try {
      const error = await rejectionOf(signer.signTransaction(tx, { idempotencyKey: 'e2e-kms-outage' }));
      expect(error).toBeInstanceOf(KmsUnavailableError);
      expect(error.message).toMatch(/^The call to kms:Sign failed .*Nothing was signed; retry\./);
    } finally {
      stack.kms.faults.reset();
    }
    expect(Transaction.from(await signer.signTransaction(tx, { idempotencyKey: 'e2e-kms-outage' })).from).toBe(address);
  });

  it('reports a function the endpoint does not serve as LambdaInvokeError (ResourceNotFoundException)', async () => {
    const error = await rejectionOf(new LambdaSigner({ functionName: 'eth-signer-nope', client }).getAddress());
    expect(error).toBeInstanceOf(LambdaInvokeError);
    expect(error.message).toMatch(/ResourceNotFoundException: Function not found/);
  });
});

describe('lambdaAccount against the local Invoke endpoint', () => {
  it('sends a transaction with viem\'s wallet client that anvil mines', async () => {
    const account = await lambdaAccount({ functionName: signerFunctionName('eip1559'), client });
    expect(account.address).toBe(address);
    const chain = { ...foundry, rpcUrls: { default: { http: [stack.anvil.rpcUrl] } } };
    const wallet = createWalletClient({ account, chain, transport: http(stack.anvil.rpcUrl) });
    const hash = await wallet.sendTransaction({ to: RECIPIENT, value: viemParseEther('0.01') });
    const receipt = await createPublicClient({ chain, transport: http(stack.anvil.rpcUrl) }).waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt).toMatchObject({ status: 'success', from: address.toLowerCase() });
  });

  it('receives a policy denial as PolicyDeniedError', async () => {
    const account = await lambdaAccount({ functionName: signerFunctionName('eip1559'), client });
    const wallet = createWalletClient({ account, chain: foundry, transport: http(stack.anvil.rpcUrl) });
    const error = await rejectionOf(wallet.sendTransaction({ to: STRANGER, value: 1n }));
    // viem wraps what the account throws; the typed error is in its cause chain.
    let cause: unknown = error;
    while (cause instanceof Error && !(cause instanceof PolicyDeniedError)) cause = cause.cause;
    expect(cause).toBeInstanceOf(PolicyDeniedError);
  });
});

describe('aws lambda invoke --endpoint-url', () => {
  const invoke = (payload: string, functionName = signerFunctionName('eip1559')) =>
    runProcess('bash', ['-c', `aws lambda invoke --function-name ${functionName} --payload "$PAYLOAD" --endpoint-url ${lambdas.url} "$OUT" && cat "$OUT"`], REPO_ROOT, {
      // runProcess starts from a clean environment (a fresh HOME): the developer's AWS configuration is not read.
      env: { ...stack.awsEnv, PAYLOAD: payload, OUT: join(dir, 'out.json') },
    });

  it('invokes the status operation', async () => {
    const result = await invoke('{"operation":"status"}');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"StatusCode": 200/);
    expect(result.stdout).toContain(`"address":"${address}"`);
  });

  it('reports a function error as Lambda does: FunctionError Unhandled and { errorType, errorMessage } as the payload', async () => {
    const result = await invoke('{"operation":"bogus"}', signerFunctionName('legacy'));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/"FunctionError": "Unhandled"/);
    expect(result.stdout).toMatch(/\{"errorType":"InvalidRequestError","errorMessage":"Invalid request \(1 problem\): operation must be/);
  });
});
