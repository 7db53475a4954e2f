import { GetPublicKeyCommand, KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { fetchKmsKey } from '../../../lambdas/signer/kms-key';
import { KmsAccessDeniedError, KmsKeyUsageError } from '../../../lambdas/signer/kms-errors';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { KEY_ARN, spkiFor } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];

describe('fetchKmsKey', () => {
  const kms = mockClient(KMSClient);
  const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  afterEach(() => kms.reset());
  afterAll(() => kms.restore());

  it('returns the address, the point and the key ARN GetPublicKey resolved an alias to', async () => {
    kms.on(GetPublicKeyCommand, { KeyId: 'alias/eth' }).resolves({ KeyId: KEY_ARN, KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
    const key = await fetchKmsKey(client, 'alias/eth');
    expect(key).toEqual({ keyArn: KEY_ARN, address: KEY.address, publicKey: expect.stringMatching(/^0x04[0-9a-f]{128}$/) });
  });

  it('hands the caller\'s abort signal to the SDK call, so an abandoned GetPublicKey stops at the HTTP layer', async () => {
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ARN, KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
    const controller = new AbortController();
    await fetchKmsKey(client, 'alias/eth', controller.signal);
    expect((kms.call(0).args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });

  it('names the GetPublicKey operation and the key when KMS refuses the call', async () => {
    const denied = new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized', $metadata: {} });
    kms.on(GetPublicKeyCommand).rejects(denied);
    const error = (await fetchKmsKey(client, 'alias/eth').then(() => undefined, (caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(KmsAccessDeniedError);
    expect(error.message).toMatch(/^Access to KMS key alias\/eth was denied for kms:GetPublicKey \(AccessDeniedException: not authorized\)/);
    expect(error.cause).toBe(denied);
  });

  it('refuses a key of another spec or usage before reading its public key', async () => {
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(KEY.privateKey) });
    await expect(fetchKmsKey(client, 'k')).rejects.toThrow(KmsKeyUsageError);
    await expect(fetchKmsKey(client, 'k')).rejects.toThrow(/its key spec is ECC_NIST_P256, not ECC_SECG_P256K1/);
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'ENCRYPT_DECRYPT', PublicKey: spkiFor(KEY.privateKey) });
    await expect(fetchKmsKey(client, 'k')).rejects.toThrow(/its key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY/);
  });
});
