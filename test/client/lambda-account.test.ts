import { parseTransaction, recoverTransactionAddress, serializeTransaction, verifyMessage, verifyTypedData, type TransactionSerializableEIP1559 } from 'viem';
import { verifyAuthorization } from 'viem/utils';
import { InvalidRequestError, lambdaAccount, PolicyDeniedError } from '../../client';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockSignerLambda, MOCK_CHAIN_ID, type LambdaMock } from '../helpers/lambda-mock';
import { rejectionOf } from '../helpers/rejection';

const KEY = KNOWN_KEYS[0];
const RECIPIENT = KNOWN_KEYS[1].address;
const TX: TransactionSerializableEIP1559 = { type: 'eip1559', to: RECIPIENT, value: 10n ** 16n, nonce: 7, gas: 21000n, chainId: MOCK_CHAIN_ID, maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n };

let lambda: LambdaMock;
beforeEach(() => {
  lambda = mockSignerLambda(KEY.privateKey);
});
afterEach(() => lambda.restore());

const account = () => lambdaAccount({ functionName: 'eth-signer-eip1559', client: lambda.client });

describe('lambdaAccount', () => {
  it('is a viem local account with the address of the Lambda\'s status', async () => {
    const a = await account();
    expect(a).toMatchObject({ address: KEY.address, type: 'local', source: 'custom' });
    expect(lambda.events).toEqual([{ operation: 'status' }]);
  });

  it('signs a transaction viem recovers to the account, sending type 2 with decimal strings', async () => {
    const signed = await (await account()).signTransaction(TX);
    expect(await recoverTransactionAddress({ serializedTransaction: signed as `0x02${string}` })).toBe(KEY.address);
    expect(parseTransaction(signed)).toMatchObject({ to: RECIPIENT.toLowerCase(), value: TX.value, nonce: 7, chainId: MOCK_CHAIN_ID });
    expect(lambda.events[1]).toMatchObject({ operation: 'sign', transaction: { type: 2, gasLimit: '21000', value: '10000000000000000', nonce: 7 }, idempotencyKey: expect.any(String) });
  });

  it('takes the idempotencyKey from idempotencyKeyFor, else a new one per transaction', async () => {
    const keyed = await lambdaAccount({ functionName: 'eth-signer-eip1559', client: lambda.client, idempotencyKeyFor: (transaction) => `payout-${String(transaction.nonce)}` });
    await keyed.signTransaction(TX);
    const plain = await account();
    await plain.signTransaction(TX);
    await plain.signTransaction(TX);
    const keys = lambda.events.filter((event) => event.operation === 'sign').map((event) => event.idempotencyKey);
    expect(keys[0]).toBe('payout-7');
    expect(keys[1]).not.toBe(keys[2]);
  });

  it('refuses a chain\'s own serializer: the Lambda serializes standard transactions only', async () => {
    const a = await account();
    await expect(a.signTransaction(TX, { serializer: serializeTransaction })).rejects.toBeInstanceOf(InvalidRequestError);
    expect(lambda.events).toHaveLength(1);
  });

  it('refuses a type 4 (eip7702) transaction before invoking', async () => {
    const a = await account();
    await expect(a.signTransaction({ ...TX, type: 'eip7702', authorizationList: [] } as never)).rejects.toThrow(/legacy, eip2930 and eip1559 only/);
  });

  it('signs messages (text and raw bytes) that viem verifies', async () => {
    const a = await account();
    expect(await verifyMessage({ address: KEY.address, message: 'hello', signature: await a.signMessage({ message: 'hello' }) })).toBe(true);
    expect(await verifyMessage({ address: KEY.address, message: { raw: '0xdead' }, signature: await a.signMessage({ message: { raw: '0xdead' } }) })).toBe(true);
  });

  it('signs typed data with bigints and an explicit primaryType that viem verifies', async () => {
    const a = await account();
    const typedData = {
      domain: { name: 'Ether Mail', version: '1', chainId: 31337n, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
      types: { Person: [{ name: 'wallet', type: 'address' }], Mail: [{ name: 'from', type: 'Person' }, { name: 'amount', type: 'uint256' }] },
      primaryType: 'Mail',
      message: { from: { wallet: KEY.address }, amount: 2n ** 100n },
    } as const;
    const signature = await a.signTypedData(typedData);
    expect(await verifyTypedData({ ...typedData, address: KEY.address, signature })).toBe(true);
  });

  it('signs an EIP-7702 authorization that viem verifies', async () => {
    const a = await account();
    const authorization = await a.signAuthorization!({ address: RECIPIENT, chainId: MOCK_CHAIN_ID, nonce: 5 });
    expect(authorization).toMatchObject({ address: RECIPIENT, chainId: MOCK_CHAIN_ID, nonce: 5 });
    expect(await verifyAuthorization({ address: KEY.address, authorization })).toBe(true);
  });

  it('throws a policy denial as PolicyDeniedError with the Lambda\'s message', async () => {
    const a = await account();
    lambda.queue({ errorType: 'PolicyDeniedError', errorMessage: 'The signing policy refused this transaction and nothing was signed: no rule allowed it' });
    const error = await rejectionOf(a.signTransaction(TX));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ name: 'PolicyDeniedError', message: 'The signing policy refused this transaction and nothing was signed: no rule allowed it' });
  });
});
