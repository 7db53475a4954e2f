// KmsSigner's refusals and less travelled paths: each error's stable name (the errorType callers branch
// on) and message, KMS answers that lack a field, ENS names, and EIP-7702 nonces.
import { GetPublicKeyCommand, KMSClient, NotFoundException, SignCommand } from '@aws-sdk/client-kms';
import { Transaction, verifyAuthorization, verifyTypedData, type Provider, type TransactionLike } from 'ethers';
import {
  KmsSigner,
  AddressMismatchError,
  ChainIdMismatchError,
  FromMismatchError,
  InvalidDigestError,
  MissingChainIdError,
} from '../../../lambdas/signer/kms-signer';
import { KmsKeyNotFoundError, KmsKeyUsageError, KmsUnavailableError } from '../../../lambdas/signer/kms-errors';
import { SignatureRecoveryError } from '../../../lambdas/signer/signature';
import { InvalidDerSignatureError } from '../../../lambdas/signer/der';
import { InvalidPublicKeyError } from '../../../lambdas/signer/public-key';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { KEY_ARN, mockKms, publicKeyResponse, spkiFor } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
const OTHER = KNOWN_KEYS[1];
const transfer: TransactionLike<string> = {
  type: 2, chainId: 1n, nonce: 0, to: OTHER.address, value: 1n, gasLimit: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n,
};
const newSigner = (options: Partial<ConstructorParameters<typeof KmsSigner>[0]> = {}, provider?: Provider) =>
  new KmsSigner({ keyId: 'alias/eth-signer', client: new KMSClient({ region: 'us-east-1' }), ...options }, provider);
/** The address with the case of its first letter digit flipped: same bytes, wrong EIP-55 checksum. */
const swapCaseOfFirstLetter = (hex: string) => {
  const i = hex.search(/[a-fA-F]/);
  const c = hex.charAt(i);
  return hex.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + hex.slice(i + 1);
};
const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a rejection'); }, (error: Error) => error);

describe('KmsSigner error names and messages', () => {
  it.each([
    ['AddressMismatchError', () => new AddressMismatchError('alias/k', KEY.address, OTHER.address),
      `KMS key alias/k has address ${KEY.address}, but the signer is pinned to ${OTHER.address}; nothing was signed. Point KMS_KEY_ID at the intended key, or correct EXPECTED_ADDRESS.`],
    ['FromMismatchError', () => new FromMismatchError(OTHER.address, KEY.address),
      `The transaction's from (${OTHER.address}) is not this signer's address (${KEY.address}); omit from or set it to ${KEY.address}.`],
    ['ChainIdMismatchError', () => new ChainIdMismatchError(5n, 1n), 'The transaction is for chain 5, but this signer signs only for chain 1; nothing was signed.'],
    ['MissingChainIdError', () => new MissingChainIdError(0),
      'The legacy transaction has no chain id, so its signature would be valid on every chain; set chainId, or ask for replayProtection: false explicitly.'],
    ['MissingChainIdError', () => new MissingChainIdError(2), 'A type 2 transaction needs a non-zero chain id.'],
    ['InvalidDigestError', () => new InvalidDigestError(20), 'The digest to sign is 20 bytes; it must be exactly 32 (a keccak256 hash).'],
    ['SignatureRecoveryError', () => new SignatureRecoveryError('0xab'),
      "The signature from KMS does not recover to the KMS key's address for digest 0xab; it was refused. Check that KMS_KEY_ID names the intended key (an alias may have been retargeted) and retry."],
    ['InvalidDerSignatureError', () => new InvalidDerSignatureError('bad'), 'KMS returned an invalid signature: bad. Nothing was signed; retry, and check the key is ECC_SECG_P256K1.'],
    ['InvalidPublicKeyError', () => new InvalidPublicKeyError('bad'), 'The KMS public key is not a secp256k1 key: bad. Use a KMS key with key spec ECC_SECG_P256K1.'],
  ])('%s has its stable name and a message that says what to do', (name, create, message) => {
    // Built inside the test, so that mutation testing counts this test as covering the error classes.
    const error = create();
    expect(error.name).toBe(name);
    expect(error.message).toBe(message);
  });
});

describe('KmsSigner refusals', () => {
  it('signs to a lower-case hex address (checksummed in the transaction), and refuses one with a wrong checksum before KMS', async () => {
    const kms = mockKms(KEY.privateKey);
    const signed = Transaction.from(await newSigner().signTransaction({ ...transfer, to: OTHER.address.toLowerCase() }));
    expect(signed.to).toBe(OTHER.address);
    const refused = await failure(newSigner().signTransaction({ ...transfer, to: OTHER.address.slice(0, 2) + swapCaseOfFirstLetter(OTHER.address.slice(2)) }));
    expect(refused.message).toMatch(/bad address checksum/);
    expect(kms.commandCalls(SignCommand)).toHaveLength(1);
  });

  it('refuses a type 2 transaction with chain id 0, even with replay protection off', async () => {
    const kms = mockKms(KEY.privateKey);
    const error = await failure(newSigner().signTransactionWithDetails({ ...transfer, chainId: 0n }, { replayProtection: false }));
    expect(error).toBeInstanceOf(MissingChainIdError);
    expect(error.message).toBe('A type 2 transaction needs a non-zero chain id.');
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses a legacy transaction with chain id 0 while replay protection is on', async () => {
    const kms = mockKms(KEY.privateKey);
    const legacy = { type: 0, chainId: 0n, nonce: 0, to: OTHER.address, gasLimit: 21000n, gasPrice: 1n };
    const error = await failure(newSigner().signTransaction(legacy));
    expect(error).toBeInstanceOf(MissingChainIdError);
    expect(error.message).toMatch(/^The legacy transaction has no chain id/);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('signs a legacy transaction for any chain when it has no configured chain id', async () => {
    mockKms(KEY.privateKey);
    const legacy = { type: 0, chainId: 5n, nonce: 0, to: OTHER.address, gasLimit: 21000n, gasPrice: 1n };
    expect(Transaction.from(await newSigner().signTransaction(legacy)).chainId).toBe(5n);
  });

  it('reports a Sign answer without a signature as KmsUnavailableError', async () => {
    mockKms(KEY.privateKey).on(SignCommand).resolves({ KeyId: KEY_ARN, SigningAlgorithm: 'ECDSA_SHA_256' });
    const error = await failure(newSigner().signTransaction(transfer));
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.message).toMatch(/^The call to kms:Sign failed \(Error: KMS returned no signature\)/);
  });

  it('reports a GetPublicKey answer without a public key as KmsKeyUsageError', async () => {
    mockKms(KEY.privateKey).on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' });
    const error = await failure(newSigner().getAddress());
    expect(error).toBeInstanceOf(KmsKeyUsageError);
    expect(error.message).toMatch(/\(GetPublicKey returned no public key\)/);
  });

  it('says "unknown" when GetPublicKey names no key spec or no key usage', async () => {
    const kms = mockKms(KEY.privateKey);
    kms.on(GetPublicKeyCommand).resolves({ KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
    expect((await failure(newSigner().getAddress())).message).toMatch(/its key spec is unknown, not ECC_SECG_P256K1/);
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', PublicKey: spkiFor(KEY.privateKey) });
    expect((await failure(newSigner().getAddress())).message).toMatch(/its key usage is unknown, not SIGN_VERIFY/);
  });

  it('names the key it was given in errors, and signs with the ARN GetPublicKey resolved', async () => {
    const kms = mockKms(KEY.privateKey);
    await newSigner({ keyId: 'alias/team/hot' }).signTransaction(transfer);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.KeyId).toBe(KEY_ARN);
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' });
    expect((await failure(newSigner({ keyId: 'alias/team/hot2' }).getAddress())).message).toMatch(/^KMS key alias\/team\/hot2 /);
  });

  it('falls back to the given key id when GetPublicKey names no key ARN', async () => {
    const kms = mockKms(KEY.privateKey);
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
    const signer = newSigner({ keyId: 'alias/no-arn' });
    expect((await signer.getKey()).keyArn).toBe('alias/no-arn');
  });
});

describe('KmsSigner with ENS names', () => {
  const domain = { name: 'Mail', version: '1', chainId: 1, verifyingContract: 'mail.eth' };
  const types = { Mail: [{ name: 'to', type: 'address' }] };

  it('refuses typed data that names an ENS name when it has no provider, saying how to fix it', async () => {
    const kms = mockKms(KEY.privateKey);
    const error = await failure(newSigner().signTypedData(domain, types, { to: OTHER.address }));
    expect(error.message).toBe('Cannot resolve the ENS name mail.eth: connect the signer to a provider.');
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('resolves ENS names in typed data through its provider', async () => {
    mockKms(KEY.privateKey);
    const provider = { resolveName: async (name: string) => (name === 'mail.eth' ? OTHER.address : null) } as unknown as Provider;
    const signature = await newSigner({}, provider).signTypedData(domain, types, { to: KEY.address });
    expect(verifyTypedData({ ...domain, verifyingContract: OTHER.address }, types, { to: KEY.address }, signature)).toBe(KEY.address);
  });

  it("resolves an ENS name in a transaction's to through its provider", async () => {
    mockKms(KEY.privateKey);
    const provider = { resolveName: async (name: string) => (name === 'bob.eth' ? OTHER.address : null) } as unknown as Provider;
    const signed = Transaction.from(await newSigner({}, provider).signTransaction({ ...transfer, to: 'bob.eth' }));
    expect(signed.to).toBe(OTHER.address);
    expect(signed.from).toBe(KEY.address);
  });

  it('refuses a name its provider cannot resolve', async () => {
    mockKms(KEY.privateKey);
    const provider = { resolveName: async () => null } as unknown as Provider;
    await expect(newSigner({}, provider).signTypedData(domain, types, { to: OTHER.address })).rejects.toThrow(/Cannot resolve the ENS name mail\.eth/);
  });
});

describe('KmsSigner.authorize', () => {
  it('keeps the nonce and chain id it was given', async () => {
    mockKms(KEY.privateKey);
    const auth = await newSigner().authorize({ address: OTHER.address, nonce: 5, chainId: 7n });
    expect(auth).toMatchObject({ address: OTHER.address, nonce: 5n, chainId: 7n });
    expect(verifyAuthorization(auth, auth.signature)).toBe(KEY.address);
  });
});

describe('KmsSigner with an abort signal (the invocation budget)', () => {
  const hung = () => new Promise<never>(() => undefined);

  it('withSignal keeps the same signer for the same signal, and a signer for another signal shares the cached key and provider', async () => {
    const kms = mockKms(KEY.privateKey);
    const provider = { resolveName: async () => OTHER.address } as unknown as Provider;
    const signer = newSigner({}, provider);
    expect(signer.withSignal(undefined)).toBe(signer);
    const budget = new AbortController().signal;
    const bounded = signer.withSignal(budget);
    expect(bounded).not.toBe(signer);
    expect(bounded.withSignal(budget)).toBe(bounded);
    expect(bounded.provider).toBe(provider);
    await signer.getAddress();
    await expect(bounded.getAddress()).resolves.toBe(KEY.address);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('passes its signal to the SDK with Sign, so that the HTTP request and its retries stop too', async () => {
    const kms = mockKms(KEY.privateKey);
    const budget = new AbortController().signal;
    await newSigner().withSignal(budget).signTransaction(transfer);
    expect((kms.commandCalls(SignCommand)[0]!.args as unknown[])[1]).toEqual({ abortSignal: budget });
  });

  it('abandons a Sign that outlives its signal with KmsUnavailableError', async () => {
    const kms = mockKms(KEY.privateKey);
    const signer = newSigner();
    await signer.getAddress();
    const controller = new AbortController();
    // KMS receives the Sign and never answers; the budget runs out meanwhile.
    kms.on(SignCommand).callsFake(() => {
      controller.abort(new Error('time is up'));
      return hung();
    });
    const signing = signer.withSignal(controller.signal).signTransaction(transfer);
    const error = await failure(signing);
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.message).toMatch(/kms:Sign/);
  });

  it('gives a caller that joined a failed key lookup its error, without a second GetPublicKey', async () => {
    const kms = mockKms(KEY.privateKey);
    kms.on(GetPublicKeyCommand).rejects(new NotFoundException({ message: 'Key not found', $metadata: {} }));
    const signer = newSigner();
    // The lookup is started without a signal (a local call) and joined by an invocation that has a budget.
    const [first, joined] = await Promise.all([failure(signer.getAddress()), failure(signer.withSignal(new AbortController().signal).getAddress())]);
    expect(first).toBeInstanceOf(KmsKeyNotFoundError);
    expect(joined).toBeInstanceOf(KmsKeyNotFoundError);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it("lets a caller without a budget look the key up again when the lookup it joined was abandoned by another caller's budget", async () => {
    const kms = mockKms(KEY.privateKey);
    let lookups = 0;
    kms.on(GetPublicKeyCommand).callsFake(() => (++lookups === 1 ? hung() : publicKeyResponse(KEY.privateKey)));
    const signer = newSigner();
    const controller = new AbortController();
    const abandoned = failure(signer.withSignal(controller.signal).getAddress());
    const patient = signer.getAddress();
    controller.abort(new Error('time is up'));
    expect(await abandoned).toBeInstanceOf(KmsUnavailableError);
    await expect(patient).resolves.toBe(KEY.address);
    expect(lookups).toBe(2);
  });

  it('reports its own abandoned key lookup as KmsUnavailableError, and keeps it out of the cache', async () => {
    const kms = mockKms(KEY.privateKey);
    let lookups = 0;
    kms.on(GetPublicKeyCommand).callsFake(() => (++lookups === 1 ? hung() : publicKeyResponse(KEY.privateKey)));
    const signer = newSigner();
    const error = await failure(signer.withSignal(AbortSignal.abort(new Error('no time left'))).getAddress());
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.message).toMatch(/GetPublicKey/);
    await expect(signer.getAddress()).resolves.toBe(KEY.address);
  });
});
