import { verifyMessage as viemVerifyMessage } from 'viem';
import { recoverPersonalSignature } from '@metamask/eth-sig-util';
import fc from 'fast-check';
import {
  DisabledException,
  GetPublicKeyCommand,
  KMSClient,
  KMSInvalidStateException,
  NotFoundException,
  SignCommand,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import {
  Transaction,
  Wallet,
  verifyAuthorization,
  verifyMessage,
  verifyTypedData,
  getAddress,
  getBytes,
  toUtf8Bytes,
  hexlify,
  randomBytes,
  toBeHex,
  type TransactionLike,
} from 'ethers';
import { KmsSigner, AddressMismatchError, ChainIdMismatchError, FromMismatchError, MissingChainIdError } from '../../../lambdas/signer/kms-signer';
import { SECP256K1_HALF_N, SECP256K1_N } from '../../../lambdas/signer/curve';
import { SignatureRecoveryError } from '../../../lambdas/signer/signature';
import { InvalidDerSignatureError } from '../../../lambdas/signer/der';
import { KmsKeyDisabledError, KmsKeyNotFoundError, KmsKeyStateError, KmsKeyUsageError, KmsThrottledError } from '../../../lambdas/signer/kms-errors';
import { EIP155_EXAMPLE } from '../../fixtures/eip155';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { derSign, KEY_ARN, mockKms, publicKeyResponse, spkiFor } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
// KMS throttling is not a modelled exception: the SDK raises it as a generic service exception.
const throttling = (attempts: number) =>
  new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { attempts } });
const SEPOLIA = 11155111n;
const transfer: TransactionLike<string> = {
  type: 2,
  chainId: SEPOLIA,
  nonce: 0,
  to: KNOWN_KEYS[1].address,
  value: 10n ** 15n,
  gasLimit: 21000n,
  maxFeePerGas: 30n * 10n ** 9n,
  maxPriorityFeePerGas: 10n ** 9n,
};

/** A signer with a fresh client, so that no public key is cached from another test. */
const newSigner = (options: Partial<ConstructorParameters<typeof KmsSigner>[0]> = {}) =>
  new KmsSigner({ keyId: 'alias/eth-signer', client: new KMSClient({ region: 'us-east-1' }), ...options });

describe('KmsSigner', () => {
  describe('with EIP-155 worked example key and deterministic (RFC 6979) signing', () => {
    it('reproduces the published signed transaction exactly', async () => {
      mockKms(EIP155_EXAMPLE.privateKey, 'rfc6979');
      const signer = newSigner();
      const signed = await signer.signTransaction({ type: 0, ...EIP155_EXAMPLE.transaction });
      expect(signed).toBe(EIP155_EXAMPLE.signedTransaction);
      const parsed = Transaction.from(signed);
      expect(parsed.unsignedHash).toBe(EIP155_EXAMPLE.signingHash);
      expect(parsed.signature?.networkV).toBe(EIP155_EXAMPLE.v);
      expect(BigInt(parsed.signature!.r)).toBe(EIP155_EXAMPLE.r);
      expect(BigInt(parsed.signature!.s)).toBe(EIP155_EXAMPLE.s);
      expect(parsed.from).toBe(EIP155_EXAMPLE.address);
    });
  });

  describe('getAddress', () => {
    it.each(KNOWN_KEYS)('returns $address for its key', async ({ privateKey, address }) => {
      mockKms(privateKey);
      await expect(newSigner().getAddress()).resolves.toBe(address);
    });

    it('calls GetPublicKey once per key, however often it is asked', async () => {
      const kms = mockKms(KEY.privateKey);
      const signer = newSigner();
      await Promise.all([signer.getAddress(), signer.getAddress(), signer.connect(null).getAddress()]);
      await signer.getAddress();
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
      expect(kms.commandCalls(GetPublicKeyCommand)[0]!.args[0].input).toEqual({ KeyId: 'alias/eth-signer' });
    });

    it('does not cache a failed lookup', async () => {
      const kms = mockKms(KEY.privateKey);
      kms.on(GetPublicKeyCommand).rejectsOnce(throttling(1)).resolves(publicKeyResponse(KEY.privateKey));
      const signer = newSigner();
      await expect(signer.getAddress()).rejects.toThrow(KmsThrottledError);
      await expect(signer.getAddress()).resolves.toBe(KEY.address);
    });
  });

  describe('signTransaction', () => {
    it('costs exactly one KMS call (Sign) per signature once warm', async () => {
      const kms = mockKms(KEY.privateKey);
      const signer = newSigner();
      await signer.signTransaction(transfer);
      const before = kms.calls().length;
      for (let nonce = 1; nonce <= 5; nonce++) await signer.signTransaction({ ...transfer, nonce });
      expect(kms.calls().length - before).toBe(5);
      expect(kms.commandCalls(SignCommand)).toHaveLength(6);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    });

    it('asks KMS to sign the 32-byte signing hash as a DIGEST with ECDSA_SHA_256, using the resolved key ARN', async () => {
      const kms = mockKms(KEY.privateKey);
      await newSigner().signTransaction(transfer);
      const input = kms.commandCalls(SignCommand)[0]!.args[0].input;
      expect(input.MessageType).toBe('DIGEST');
      expect(input.SigningAlgorithm).toBe('ECDSA_SHA_256');
      expect(input.KeyId).toBe(KEY_ARN);
      expect(hexlify(input.Message!)).toBe(Transaction.from(transfer).unsignedHash);
    });

    it('normalises a high-s signature from KMS so the transaction serialises and recovers', async () => {
      mockKms(KEY.privateKey, 'high-s');
      const parsed = Transaction.from(await newSigner().signTransaction(transfer));
      expect(BigInt(parsed.signature!.s)).toBeLessThanOrEqual(SECP256K1_HALF_N);
      expect(parsed.from).toBe(KEY.address);
    });

    it('signs type 0 (EIP-155), type 1 and type 2 transactions with the right v', async () => {
      mockKms(KEY.privateKey);
      const signer = newSigner();
      const legacy = Transaction.from(await signer.signTransaction({ ...transfer, type: 0, gasPrice: 10n ** 9n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined }));
      expect(legacy.signature!.networkV).toBe(SEPOLIA * 2n + 35n + BigInt(legacy.signature!.yParity));
      const eip2930 = Transaction.from(await signer.signTransaction({ ...transfer, type: 1, gasPrice: 1n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined, accessList: [] }));
      expect(eip2930.type).toBe(1);
      expect(eip2930.from).toBe(KEY.address);
      expect(Transaction.from(await signer.signTransaction(transfer)).from).toBe(KEY.address);
    });

    it('signs a pre-EIP-155 legacy transaction only when replay protection is explicitly off', async () => {
      mockKms(KEY.privateKey);
      const signer = newSigner();
      const unprotected = { type: 0, nonce: 0, gasPrice: 1n, gasLimit: 21000n, to: KNOWN_KEYS[1].address, chainId: 0n };
      await expect(signer.signTransaction(unprotected)).rejects.toThrow(MissingChainIdError);
      const { transaction } = await signer.signTransactionWithDetails(unprotected, { replayProtection: false });
      expect([27n, 28n]).toContain(transaction.signature!.v === 27 ? 27n : 28n);
      expect(Transaction.from(transaction.serialized).chainId).toBe(0n);
      expect(Transaction.from(transaction.serialized).from).toBe(KEY.address);
    });

    it('fills in its configured chain id and refuses any other', async () => {
      const kms = mockKms(KEY.privateKey);
      const signer = newSigner({ chainId: SEPOLIA });
      const { chainId: _omitted, ...withoutChain } = transfer;
      expect(Transaction.from(await signer.signTransaction(withoutChain)).chainId).toBe(SEPOLIA);
      const signs = kms.commandCalls(SignCommand).length;
      await expect(signer.signTransaction({ ...transfer, chainId: 1n })).rejects.toThrow(ChainIdMismatchError);
      expect(kms.commandCalls(SignCommand)).toHaveLength(signs);
    });

    it('refuses a transaction whose from is another address, before calling Sign', async () => {
      const kms = mockKms(KEY.privateKey);
      await expect(newSigner().signTransaction({ ...transfer, from: KNOWN_KEYS[1].address })).rejects.toThrow(FromMismatchError);
      expect(kms.commandCalls(SignCommand)).toHaveLength(0);
    });

    it("signs when from is the key's own address, in lower case too", async () => {
      const kms = mockKms(KEY.privateKey);
      const signer = newSigner({ chainId: SEPOLIA });
      for (const from of [KEY.address, KEY.address.toLowerCase()]) {
        expect(Transaction.from(await signer.signTransaction({ ...transfer, from })).from).toBe(KEY.address);
      }
      expect(kms.commandCalls(SignCommand)).toHaveLength(2);
    });

    it('signs when the key is the pinned expected address, given in lower case', async () => {
      mockKms(KEY.privateKey);
      const signer = newSigner({ expectedAddress: KEY.address.toLowerCase() });
      await expect(signer.getAddress()).resolves.toBe(KEY.address);
      expect(Transaction.from(await signer.signTransaction(transfer)).from).toBe(KEY.address);
    });

    it('refuses to sign when the key is not the pinned expected address, naming both', async () => {
      const kms = mockKms(KEY.privateKey);
      const signer = newSigner({ expectedAddress: KNOWN_KEYS[1].address });
      const failure = signer.signTransaction(transfer);
      await expect(failure).rejects.toThrow(AddressMismatchError);
      await expect(failure).rejects.toThrow(new RegExp(`${KEY.address}.*${KNOWN_KEYS[1].address}`));
      expect(kms.commandCalls(SignCommand)).toHaveLength(0);
    });

    it('fails closed when KMS returns a signature by another key', async () => {
      const kms = mockKms(KEY.privateKey);
      kms.on(SignCommand).callsFake((input) => ({ Signature: derSign(input.Message, KNOWN_KEYS[1].privateKey) }));
      await expect(newSigner().signTransaction(transfer)).rejects.toThrow(SignatureRecoveryError);
    });

    it('fails closed when KMS returns malformed DER', async () => {
      const kms = mockKms(KEY.privateKey);
      kms.on(SignCommand).resolves({ Signature: Uint8Array.from([0x30, 0x02, 0x02, 0x00]) });
      await expect(newSigner().signTransaction(transfer)).rejects.toThrow(InvalidDerSignatureError);
    });

    it('for random keys and transactions, returns transactions that parse, recover to the key and have low s (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt(1n, SECP256K1_N - 1n),
          fc.constantFrom(0, 1, 2),
          fc.record({
            nonce: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
            value: fc.bigInt(0n, 2n ** 256n - 1n),
            gasLimit: fc.bigInt(21000n, 2n ** 64n - 1n),
            fee: fc.bigInt(0n, 2n ** 128n),
            chainId: fc.bigInt(1n, BigInt(Number.MAX_SAFE_INTEGER)),
            data: fc.uint8Array({ maxLength: 64 }),
            to: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined }),
          }),
          async (secret, type, fields) => {
            const privateKey = toBeHex(secret, 32);
            mockKms(privateKey);
            const fees = type === 2 ? { maxFeePerGas: fields.fee, maxPriorityFeePerGas: fields.fee / 2n } : { gasPrice: fields.fee };
            const request: TransactionLike<string> = {
              type,
              nonce: fields.nonce,
              value: fields.value,
              gasLimit: fields.gasLimit,
              chainId: fields.chainId,
              data: hexlify(fields.data),
              to: fields.to && hexlify(fields.to),
              ...(type === 1 && { accessList: [] }),
              ...fees,
            };
            const parsed = Transaction.from(await newSigner().signTransaction(request));
            expect(parsed.from).toBe(new Wallet(privateKey).address);
            expect(BigInt(parsed.signature!.s)).toBeLessThanOrEqual(SECP256K1_HALF_N);
            expect(parsed.unsignedHash).toBe(Transaction.from(request).unsignedHash);
          },
        ),
        { numRuns: 60 },
      );
    });
  });

  describe('signMessage, signTypedData and authorize', () => {
    it('signs an EIP-191 message that verifies to the key address', async () => {
      mockKms(KEY.privateKey, 'high-s');
      const signature = await newSigner().signMessage('hello from KMS');
      expect(verifyMessage('hello from KMS', signature)).toBe(KEY.address);
    });

    // One rule with the Lambdas: a string that looks like 0x-hex means text to ethers and viem but bytes to
    // personal_sign, eth-sig-util and cast, so it is refused; Uint8Array is bytes, as in ethers.
    it.each(['0x', '0xdeadbeef', '0xabc', '0XAB'])('refuses the hex-looking string %s and calls no KMS Sign', async (message) => {
      const kms = mockKms(KEY.privateKey);
      await expect(newSigner().signMessage(message)).rejects.toMatchObject({
        name: 'AmbiguousMessageError',
        message: expect.stringMatching(/looks like 0x-hex.*Pass getBytes\(message\) to sign the bytes it spells, or toUtf8Bytes\(message\) to sign the text\.$/),
      });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0);
    });

    it('signs the bytes of getBytes(hex) as personal_sign does: viem, eth-sig-util and ethers recover the key', async () => {
      mockKms(KEY.privateKey, 'high-s');
      const signature = await newSigner().signMessage(getBytes('0xdeadbeef'));
      await expect(viemVerifyMessage({ address: KEY.address as `0x${string}`, message: { raw: '0xdeadbeef' }, signature: signature as `0x${string}` })).resolves.toBe(true);
      expect(getAddress(recoverPersonalSignature({ data: '0xdeadbeef', signature }))).toBe(KEY.address);
      expect(verifyMessage(getBytes('0xdeadbeef'), signature)).toBe(KEY.address);
    });

    it('signs the text of toUtf8Bytes(hex-looking text) as viem and ethers sign a string', async () => {
      mockKms(KEY.privateKey);
      const signature = await newSigner().signMessage(toUtf8Bytes('0xdeadbeef'));
      await expect(viemVerifyMessage({ address: KEY.address as `0x${string}`, message: '0xdeadbeef', signature: signature as `0x${string}` })).resolves.toBe(true);
      expect(verifyMessage('0xdeadbeef', signature)).toBe(KEY.address);
    });

    it('signs EIP-712 typed data exactly as a local wallet does', async () => {
      mockKms(KEY.privateKey, 'rfc6979');
      const domain = { name: 'Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' };
      const types = { Mail: [{ name: 'to', type: 'address' }, { name: 'contents', type: 'string' }] };
      const value = { to: KNOWN_KEYS[1].address, contents: 'Hello, Bob!' };
      const signature = await newSigner().signTypedData(domain, types, value);
      expect(verifyTypedData(domain, types, value, signature)).toBe(KEY.address);
      expect(signature).toBe(await new Wallet(KEY.privateKey).signTypedData(domain, types, value));
    });

    it('signs an EIP-7702 authorization that verifies to the key address', async () => {
      mockKms(KEY.privateKey);
      const auth = await newSigner().authorize({ address: KNOWN_KEYS[1].address, nonce: 0, chainId: 1n });
      expect(auth.nonce).toBe(0n);
      expect(verifyAuthorization(auth, auth.signature)).toBe(KEY.address);
    });
  });

  describe('KMS failures', () => {
    it.each([
      ['NotFoundException', new NotFoundException({ message: 'Key not found', $metadata: {} }), KmsKeyNotFoundError],
      ['DisabledException', new DisabledException({ message: 'disabled', $metadata: {} }), KmsKeyDisabledError],
      ['KMSInvalidStateException', new KMSInvalidStateException({ message: 'pending import', $metadata: {} }), KmsKeyStateError],
      ['ThrottlingException', throttling(3), KmsThrottledError],
    ])('turns %s into a typed error that keeps the KMS error as cause', async (_name, kmsError, Expected) => {
      const kms = mockKms(KEY.privateKey);
      kms.on(SignCommand).rejects(kmsError);
      const failure = newSigner().signTransaction(transfer).catch((error: unknown) => error);
      const error = (await failure) as Error;
      expect(error).toBeInstanceOf(Expected);
      expect(error.cause).toBe(kmsError);
    });

    it('says how many attempts the SDK made before giving up on throttling', async () => {
      mockKms(KEY.privateKey).on(SignCommand).rejects(throttling(3));
      await expect(newSigner().signTransaction(transfer)).rejects.toThrow(/after 3 attempt/);
    });

    it('refuses a key whose spec is not ECC_SECG_P256K1', async () => {
      const kms = mockKms(KEY.privateKey);
      kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
      await expect(newSigner().getAddress()).rejects.toThrow(KmsKeyUsageError);
      await expect(newSigner().getAddress()).rejects.toThrow(/ECC_NIST_P256, not ECC_SECG_P256K1/);
    });

    it('refuses a key whose usage is not SIGN_VERIFY', async () => {
      mockKms(KEY.privateKey).on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'KEY_AGREEMENT', PublicKey: spkiFor(KEY.privateKey) });
      await expect(newSigner().getAddress()).rejects.toThrow(/KEY_AGREEMENT, not SIGN_VERIFY/);
    });
  });

  it('signs 32-byte digests only', async () => {
    mockKms(KEY.privateKey);
    await expect(newSigner().signDigest(hexlify(randomBytes(20)))).rejects.toThrow(/exactly 32/);
  });
});
