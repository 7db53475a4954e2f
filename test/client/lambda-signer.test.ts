import { InvokeCommand } from '@aws-sdk/client-lambda';
import { Transaction, verifyAuthorization, verifyMessage, verifyTypedData, Wallet } from 'ethers';
import {
  InvalidRequestError,
  KmsUnavailableError,
  LambdaSigner,
  LambdaTimeoutError,
  PolicyDeniedError,
  SpendingLimitExceededError,
  UnverifiedResponseError,
} from '../../client';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockSignerLambda, MOCK_CHAIN_ID, type LambdaMock } from '../helpers/lambda-mock';
import { rejectionOf } from '../helpers/rejection';

const KEY = KNOWN_KEYS[0];
const RECIPIENT = KNOWN_KEYS[1].address;
const TX = { to: RECIPIENT, value: 10n ** 16n, nonce: 7, gasLimit: 21000n, chainId: BigInt(MOCK_CHAIN_ID), maxFeePerGas: 2n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n };

let lambda: LambdaMock;
beforeEach(() => {
  lambda = mockSignerLambda(KEY.privateKey);
});
afterEach(() => lambda.restore());

const signer = (options: Partial<ConstructorParameters<typeof LambdaSigner>[0]> = {}) => new LambdaSigner({ functionName: 'eth-signer-eip1559', client: lambda.client, ...options });
const invokes = () => lambda.events.length;

describe('LambdaSigner', () => {
  describe('getAddress', () => {
    it('returns the address from the Lambda\'s status operation, asked once', async () => {
      const s = signer();
      expect(await s.getAddress()).toBe(KEY.address);
      expect(await s.getAddress()).toBe(KEY.address);
      expect(lambda.events).toEqual([{ operation: 'status' }]);
    });

    it('asks again after a failed status, instead of caching the failure', async () => {
      lambda.queue({ errorType: 'KmsAccessDeniedError', errorMessage: 'grant kms:GetPublicKey' });
      const s = signer();
      await expect(s.getAddress()).rejects.toMatchObject({ name: 'KmsKeyError', errorType: 'KmsAccessDeniedError' });
      expect(await s.getAddress()).toBe(KEY.address);
    });
  });

  describe('signTransaction', () => {
    it('sends the unsigned transaction with integers as decimal strings and an idempotencyKey, and returns what the Lambda signed', async () => {
      const signed = await signer().signTransaction(TX);
      const event = lambda.events[1] as { operation: string; transaction: Record<string, unknown>; idempotencyKey: string };
      expect(event).toEqual({
        operation: 'sign',
        transaction: { to: RECIPIENT, value: '10000000000000000', nonce: 7, gasLimit: '21000', chainId: '31337', maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1000000000' },
        idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const parsed = Transaction.from(signed);
      expect(parsed.from).toBe(KEY.address);
      expect(parsed).toMatchObject({ to: RECIPIENT, value: TX.value, nonce: 7, type: 2 });
    });

    it('uses a new idempotencyKey for each call, and the caller\'s when given', async () => {
      const s = signer();
      await s.signTransaction(TX);
      await s.signTransaction(TX);
      await s.signTransaction(TX, { idempotencyKey: 'payout-42' });
      const keys = lambda.events.filter((event) => event.operation === 'sign').map((event) => event.idempotencyKey);
      expect(new Set(keys).size).toBe(3);
      expect(keys[2]).toBe('payout-42');
    });

    it('takes the idempotencyKey from idempotencyKeyFor when the call gives none (as sendTransaction does)', async () => {
      const s = signer({ idempotencyKeyFor: (transaction) => `job-17-nonce-${String(transaction.nonce)}` });
      await s.signTransaction(TX);
      await s.signTransaction(TX, { idempotencyKey: 'explicit' });
      expect(lambda.events.filter((event) => event.operation === 'sign').map((event) => event.idempotencyKey)).toEqual(['job-17-nonce-7', 'explicit']);
    });

    it('retries a retryable Lambda error with the same event, so the same idempotencyKey', async () => {
      const s = signer();
      await s.getAddress();
      lambda.queue({ errorType: 'KmsUnavailableError', errorMessage: 'The call to kms:Sign failed' }, { errorType: 'SigningInProgressError', errorMessage: 'retry' });
      const signed = await s.signTransaction(TX);
      const signs = lambda.events.filter((event) => event.operation === 'sign');
      expect(signs).toHaveLength(3);
      expect(new Set(signs.map((event) => JSON.stringify(event))).size).toBe(1);
      expect(Transaction.from(signed).from).toBe(KEY.address);
    });

    it('gives up after `retries` further attempts with the last typed error', async () => {
      const s = signer({ retries: 1 });
      await s.getAddress();
      lambda.queue(...Array.from({ length: 3 }, () => ({ errorType: 'KmsUnavailableError', errorMessage: 'The call to kms:Sign failed (timeout). Nothing was signed; retry.' })));
      const error = await rejectionOf(s.signTransaction(TX));
      expect(error).toBeInstanceOf(KmsUnavailableError);
      expect(error.message).toBe('The call to kms:Sign failed (timeout). Nothing was signed; retry.');
      expect(invokes()).toBe(3);
    });

    it.each([
      ['PolicyDeniedError', PolicyDeniedError, 'The signing policy refused this transaction and nothing was signed: no rule allowed the transaction'],
      ['SpendingLimitExceededError', SpendingLimitExceededError, 'Spending limit "daily" (86400 s rolling window, asset ETH) would be exceeded'],
      ['InvalidRequestError', InvalidRequestError, 'Invalid request (1 problem): transaction.gasLimit must be at least 21000'],
    ] as const)('throws %s as its class with the Lambda\'s message, without retrying', async (errorType, errorClass, errorMessage) => {
      const s = signer();
      await s.getAddress();
      lambda.queue({ errorType, errorMessage });
      const error = await rejectionOf(s.signTransaction(TX));
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ name: errorType, errorType, message: errorMessage });
      expect(invokes()).toBe(2);
    });

    it('refuses a signed transaction that does not recover to the Lambda\'s address', async () => {
      const s = signer();
      await s.getAddress();
      const other = new Wallet(KNOWN_KEYS[2].privateKey);
      const forged = await other.signTransaction({ ...TX, type: 2 });
      lambda.queue({ payload: { signedTransaction: forged } });
      const error = await rejectionOf(s.signTransaction(TX));
      expect(error).toBeInstanceOf(UnverifiedResponseError);
      expect(error.message).toMatch(new RegExp(`recovers to ${other.address}, not to the signer's address ${KEY.address}`));
    });

    it('refuses a signed transaction other than the one sent', async () => {
      const s = signer();
      await s.getAddress();
      const otherTx = await new Wallet(KEY.privateKey).signTransaction({ ...TX, type: 2, value: 10n ** 18n });
      lambda.queue({ payload: { signedTransaction: otherTx } });
      await expect(s.signTransaction(TX)).rejects.toThrow(/the signed transaction's value is 1000000000000000000, but 10000000000000000 was sent/);
    });

    it('refuses a transaction from another address before invoking', async () => {
      const s = signer();
      await s.getAddress();
      await expect(s.signTransaction({ ...TX, from: RECIPIENT })).rejects.toBeInstanceOf(InvalidRequestError);
      expect(invokes()).toBe(1);
    });

    it('refuses a type 4 transaction before invoking: the Lambdas sign types 0, 1 and 2', async () => {
      const s = signer();
      await s.getAddress();
      await expect(s.signTransaction({ ...TX, type: 4, authorizationList: [] })).rejects.toThrow(/types 0, 1 and 2 only/);
      expect(invokes()).toBe(1);
    });
  });

  describe('timeouts', () => {
    it('ends a call that gets no answer at the caller\'s timeoutMs with LambdaTimeoutError, telling to retry with the same idempotencyKey', async () => {
      const s = signer({ timeoutMs: 200 });
      await s.getAddress();
      lambda.queue('hang');
      const error = await rejectionOf(s.signTransaction(TX, { idempotencyKey: 'k-1' }));
      expect(error).toBeInstanceOf(LambdaTimeoutError);
      expect(error.message).toMatch(/no answer within 200 ms.*same idempotencyKey/);
    });

    it('ends a call when the caller\'s AbortSignal aborts', async () => {
      const s = signer();
      await s.getAddress();
      lambda.queue('hang');
      const controller = new AbortController();
      const pending = rejectionOf(s.signTransaction(TX, { signal: controller.signal }));
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(LambdaTimeoutError);
      expect(error.message).toMatch(/the caller aborted/);
    });

    it('passes the AbortSignal to the SDK, so the HTTP request ends too', async () => {
      const s = signer({ timeoutMs: 5000 });
      await s.getAddress();
      const sent: unknown[] = [];
      const original = lambda.client.send.bind(lambda.client);
      lambda.client.send = ((command: InvokeCommand, options?: unknown) => {
        sent.push(options);
        return original(command, options as never);
      }) as typeof lambda.client.send;
      await s.signTransaction(TX);
      expect(sent).toEqual([{ abortSignal: expect.any(AbortSignal) }]);
    });
  });

  describe('messages', () => {
    it('signs a personal message (text as utf8, bytes as hex) that ethers verifies to the Lambda\'s address', async () => {
      const s = signer();
      expect(verifyMessage('hello', await s.signMessage('hello'))).toBe(KEY.address);
      expect(verifyMessage(new Uint8Array([0xde, 0xad]), await s.signMessage(new Uint8Array([0xde, 0xad])))).toBe(KEY.address);
      expect(lambda.events.slice(1)).toEqual([
        { operation: 'signMessage', message: 'hello', encoding: 'utf8' },
        { operation: 'signMessage', message: '0xdead', encoding: 'hex' },
      ]);
    });

    it('refuses a message signature that recovers to another address', async () => {
      const s = signer();
      await s.getAddress();
      lambda.queue({ payload: { signature: await new Wallet(KNOWN_KEYS[2].privateKey).signMessage('hello') } });
      await expect(s.signMessage('hello')).rejects.toBeInstanceOf(UnverifiedResponseError);
    });

    it('signs EIP-712 typed data with bigints, which ethers verifies', async () => {
      const domain = { name: 'Ether Mail', version: '1', chainId: 31337n, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' };
      const types = { Permit: [{ name: 'owner', type: 'address' }, { name: 'value', type: 'uint256' }] };
      const value = { owner: KEY.address, value: 2n ** 200n };
      const signature = await signer().signTypedData(domain, types, value);
      expect(verifyTypedData(domain, types, value, signature)).toBe(KEY.address);
      expect(lambda.events[1]).toMatchObject({ operation: 'signTypedData', primaryType: 'Permit', message: { value: (2n ** 200n).toString() } });
    });

    it('signs an EIP-7702 authorization (chain id from the status when not given) that ethers verifies', async () => {
      const authorization = await signer().authorize({ address: RECIPIENT, nonce: 3 });
      expect(authorization).toMatchObject({ address: RECIPIENT, nonce: 3n, chainId: 31337n });
      expect(verifyAuthorization(authorization, authorization.signature)).toBe(KEY.address);
      expect(lambda.events.at(-1)).toEqual({ operation: 'signAuthorization', address: RECIPIENT, nonce: '3', chainId: '31337' });
    });
  });
});
