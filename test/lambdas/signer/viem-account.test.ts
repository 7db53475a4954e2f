import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { Signature, verifyAuthorization } from 'ethers';
import {
  keccak256,
  parseTransaction,
  recoverAddress,
  recoverTransactionAddress,
  verifyMessage,
  verifyTypedData,
  type TransactionSerializable,
} from 'viem';
import { recoverAuthorizationAddress } from 'viem/utils';
import { kmsAccount, type KmsAccountOptions } from '../../../lambdas/signer/viem-account';
import { AddressMismatchError } from '../../../lambdas/signer/key-cache';
import { KmsUnavailableError } from '../../../lambdas/signer/kms-errors';
import { SignatureRecoveryError } from '../../../lambdas/signer/signature';
import { ChainIdMismatchError, MissingChainIdError } from '../../../lambdas/signer/transaction-errors';
import { EIP155_EXAMPLE } from '../../fixtures/eip155';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { derSign, mockKms } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
const ADDRESS = KEY.address as `0x${string}`;
const SEPOLIA = 11155111;
const TO = KNOWN_KEYS[1].address as `0x${string}`;

/** An account with a fresh client, so that no public key is cached from another test. */
const newAccount = (options: Partial<KmsAccountOptions> = {}) =>
  kmsAccount({ keyId: 'alias/eth-signer', client: new KMSClient({ region: 'us-east-1' }), ...options });

const TRANSACTIONS: Record<string, TransactionSerializable> = {
  'type 0 (legacy, EIP-155)': { type: 'legacy', chainId: SEPOLIA, nonce: 3, to: TO, value: 10n ** 15n, gas: 21000n, gasPrice: 10n ** 9n },
  'type 1 (EIP-2930)': { type: 'eip2930', chainId: SEPOLIA, nonce: 3, to: TO, value: 1n, gas: 30000n, gasPrice: 10n ** 9n, accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01`] }] },
  'type 2 (EIP-1559)': { type: 'eip1559', chainId: SEPOLIA, nonce: 3, to: TO, value: 1n, gas: 21000n, maxFeePerGas: 3n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n },
};

describe('kmsAccount', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is a viem local account at the key\'s address, with its public key and key ARN', async () => {
    mockKms(KEY.privateKey);
    const account = await newAccount();
    expect(account).toMatchObject({ address: ADDRESS, type: 'local', source: 'kms', keyId: 'alias/eth-signer' });
    expect(account.keyArn).toMatch(/^arn:aws:kms:/);
    expect(account.publicKey).toMatch(/^0x04[0-9a-f]{128}$/);
  });

  it('reproduces the EIP-155 worked example exactly with deterministic signing', async () => {
    mockKms(EIP155_EXAMPLE.privateKey, 'rfc6979');
    const account = await newAccount();
    const { nonce, gasPrice, gasLimit, to, value } = EIP155_EXAMPLE.transaction;
    const signed = await account.signTransaction({ type: 'legacy', chainId: 1, nonce, gasPrice, gas: gasLimit, to, value });
    expect(signed).toBe(EIP155_EXAMPLE.signedTransaction);
  });

  it.each(Object.entries(TRANSACTIONS))('signs a %s transaction that viem recovers to the key, whichever s KMS returns', async (_name, transaction) => {
    for (const mode of ['high-s', 'low-s'] as const) {
      mockKms(KEY.privateKey, mode);
      const signed = await (await newAccount()).signTransaction(transaction);
      expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(ADDRESS);
      expect(parseTransaction(signed)).toMatchObject({ type: transaction.type, chainId: SEPOLIA });
    }
  });

  it('signs a type 4 transaction with its authorization list, both recovering to the key', async () => {
    mockKms(KEY.privateKey);
    const account = await newAccount({ chainId: SEPOLIA });
    const authorization = await account.signAuthorization!({ contractAddress: TO, chainId: SEPOLIA, nonce: 4 });
    expect(await recoverAuthorizationAddress({ authorization })).toBe(ADDRESS);
    const signed = await account.signTransaction({
      type: 'eip7702', chainId: SEPOLIA, nonce: 3, to: ADDRESS, gas: 100000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, authorizationList: [authorization],
    });
    const parsed = parseTransaction(signed);
    expect(parsed.type).toBe('eip7702');
    expect(parsed.authorizationList).toEqual([{ ...authorization, address: authorization.address.toLowerCase() }]);
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(ADDRESS);
  });

  it('signs an authorization with nonce 0 (RLP: the empty string) that ethers, independently, recovers to the key', async () => {
    mockKms(KEY.privateKey);
    const authorization = await (await newAccount()).signAuthorization!({ contractAddress: TO, chainId: SEPOLIA, nonce: 0 });
    const signature = Signature.from({ r: authorization.r, s: authorization.s, yParity: authorization.yParity as 0 | 1 });
    expect(verifyAuthorization({ address: TO, chainId: BigInt(SEPOLIA), nonce: 0n }, signature)).toBe(ADDRESS);
  });

  it('signs messages and typed data that viem verifies', async () => {
    mockKms(KEY.privateKey);
    const account = await newAccount();
    expect(await verifyMessage({ address: ADDRESS, message: 'hello', signature: await account.signMessage({ message: 'hello' }) })).toBe(true);
    const raw = { raw: '0xdeadbeef' } as const;
    expect(await verifyMessage({ address: ADDRESS, message: raw, signature: await account.signMessage({ message: raw }) })).toBe(true);
    const typedData = {
      domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: TO },
      types: { Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }] },
      primaryType: 'Person',
      message: { name: 'Cow', wallet: TO },
    } as const;
    expect(await verifyTypedData({ address: ADDRESS, ...typedData, signature: await account.signTypedData(typedData) })).toBe(true);
  });

  it('has no raw-hash signer unless allowRawHashSigning is set', async () => {
    mockKms(KEY.privateKey);
    expect((await newAccount()).sign).toBeUndefined();
    const raw = await newAccount({ allowRawHashSigning: true });
    const hash = keccak256('0x01');
    expect(await recoverAddress({ hash, signature: await raw.sign!({ hash }) })).toBe(ADDRESS);
  });

  it('signs a type 3 (EIP-4844) transaction over its body without the blob sidecars, and sends the sidecars along', async () => {
    mockKms(KEY.privateKey);
    // Sidecars given as they are (no KZG computation): the serializer only encodes them.
    const sidecar = { blob: `0x${'01'.repeat(131072)}`, commitment: `0x${'02'.repeat(48)}`, proof: `0x${'03'.repeat(48)}` } as const;
    const transaction: TransactionSerializable = {
      type: 'eip4844', chainId: SEPOLIA, nonce: 3, to: TO, gas: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n,
      maxFeePerBlobGas: 1n, blobVersionedHashes: [`0x01${'04'.repeat(31)}`], sidecars: [sidecar],
    };
    const signed = await (await newAccount()).signTransaction(transaction);
    expect(parseTransaction(signed)).toMatchObject({ type: 'eip4844', sidecars: [sidecar] });
    expect(await recoverTransactionAddress({ serializedTransaction: signed as never })).toBe(ADDRESS);
  });

  it('refuses a transaction for another chain than the configured one, before calling KMS', async () => {
    const kms = mockKms(KEY.privateKey);
    const account = await newAccount({ chainId: 1 });
    await expect(account.signTransaction(TRANSACTIONS['type 2 (EIP-1559)']!)).rejects.toThrow(ChainIdMismatchError);
    await expect(account.signTransaction(TRANSACTIONS['type 2 (EIP-1559)']!)).rejects.toThrow(`The transaction is for chain ${SEPOLIA}, but this signer signs only for chain 1; nothing was signed.`);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses a transaction without a chain id, which would be valid on every chain', async () => {
    mockKms(KEY.privateKey);
    const account = await newAccount();
    const replayable: TransactionSerializable = { type: 'legacy', nonce: 3, to: TO, value: 1n, gas: 21000n, gasPrice: 10n ** 9n };
    const refusal = account.signTransaction(replayable);
    await expect(refusal).rejects.toThrow(MissingChainIdError);
    await expect(account.signTransaction(replayable)).rejects.toThrow('The legacy transaction has no chain id, so its signature would be valid on every chain; set chainId.');
  });

  it.each([
    ['a legacy transaction with chain id 0', { type: 'legacy', chainId: 0, nonce: 3, to: TO, value: 1n, gas: 21000n, gasPrice: 1n }, 'The legacy transaction has no chain id, so its signature would be valid on every chain; set chainId.'],
    ['an EIP-1559 transaction without a chain id', { type: 'eip1559', nonce: 3, to: TO, gas: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n }, 'A type 2 transaction needs a non-zero chain id.'],
    ['an EIP-2930 transaction with chain id 0', { type: 'eip2930', chainId: 0, nonce: 3, to: TO, gas: 21000n, gasPrice: 1n }, 'A type 1 transaction needs a non-zero chain id.'],
  ] as [string, TransactionSerializable, string][])('refuses %s, naming its type, when no chain is configured, before calling KMS', async (_case, transaction, message) => {
    const kms = mockKms(KEY.privateKey);
    const account = await newAccount();
    await expect(account.signTransaction(transaction)).rejects.toThrow(MissingChainIdError);
    await expect(account.signTransaction(transaction)).rejects.toThrow(message);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses an authorization for another chain than the configured one (chain 0 included: valid on every chain)', async () => {
    mockKms(KEY.privateKey);
    const account = await newAccount({ chainId: SEPOLIA });
    await expect(account.signAuthorization!({ contractAddress: TO, chainId: 0, nonce: 0 })).rejects.toThrow('The authorization is for chain 0, but this signer signs only for chain 11155111; nothing was signed.');
  });

  it('abandons the KMS call when its signal aborts, with KmsUnavailableError and nothing signed', async () => {
    const kms = mockKms(KEY.privateKey);
    const controller = new AbortController();
    const account = await newAccount({ signal: controller.signal });
    kms.on(SignCommand).callsFake(() => new Promise(() => undefined)); // a KMS that never answers
    const signing = account.signMessage({ message: 'hello' });
    controller.abort();
    await expect(signing).rejects.toThrow(KmsUnavailableError);
  });

  it('refuses to exist when the key is not at the pinned address', async () => {
    mockKms(KEY.privateKey);
    await expect(newAccount({ expectedAddress: TO })).rejects.toThrow(AddressMismatchError);
  });

  it('fails closed when KMS returns a signature by another key', async () => {
    const kms = mockKms(KEY.privateKey);
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ Signature: derSign(input.Message, KNOWN_KEYS[1].privateKey) }));
    const account = await newAccount();
    await expect(account.signMessage({ message: 'hello' })).rejects.toThrow(SignatureRecoveryError);
  });
});
