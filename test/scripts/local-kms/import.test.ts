// Conformance of the local KMS's import operations: GetParametersForImport, ImportKeyMaterial,
// DeleteImportedKeyMaterial, with every wrapping algorithm, wrapped here with node's crypto.
import { constants, createCipheriv, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import {
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
  type AlgorithmSpec,
  type WrappingKeySpec,
} from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms } from '../../../scripts/local-kms';
import { useLocalKms } from '../../helpers/local-kms';
import { rejectionOf as failure } from '../../helpers/rejection';

/** PKCS#8 DER of a fresh EC key and its SPKI, as `openssl pkcs8 -topk8 -outform der -nocrypt` would give it. */
function ecKey(namedCurve: 'secp256k1' | 'prime256v1') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return { pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }), spki: publicKey.export({ type: 'spki', format: 'der' }) };
}

/** Wraps key material as KMS documents for each wrapping algorithm. */
function wrap(material: Buffer, wrappingKey: Uint8Array, algorithm: AlgorithmSpec): Buffer {
  const key: KeyObject | { key: Buffer; format: 'der'; type: 'spki' } = { key: Buffer.from(wrappingKey), format: 'der', type: 'spki' };
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const rsa = (data: Buffer) => publicEncrypt({ ...key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm.startsWith('RSAES_OAEP')) return rsa(material);
  const aesKey = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([rsa(aesKey), kwp.update(material), kwp.final()]);
}

describe('local KMS: importing key material', () => {
  const local = useLocalKms();

  const externalKey = async (KeySpec: 'ECC_SECG_P256K1' | 'ECC_NIST_P256' = 'ECC_SECG_P256K1') =>
    (await local.client.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
  const parameters = (KeyId: string, WrappingAlgorithm: AlgorithmSpec = 'RSAES_OAEP_SHA_256', WrappingKeySpec: WrappingKeySpec = 'RSA_2048') =>
    local.client.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm, WrappingKeySpec }));
  const importMaterial = (KeyId: string, ImportToken: Uint8Array, EncryptedKeyMaterial: Uint8Array) =>
    local.client.send(new ImportKeyMaterialCommand({ KeyId, ImportToken, EncryptedKeyMaterial, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  const state = async (KeyId: string) => (await local.client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyState;

  it.each([
    ['RSAES_OAEP_SHA_256', 'RSA_2048'],
    ['RSAES_OAEP_SHA_1', 'RSA_3072'],
    ['RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096'],
    ['RSA_AES_KEY_WRAP_SHA_1', 'RSA_2048'],
  ] as const)('imports secp256k1 material wrapped with %s and an %s wrapping key; the key then has that public key', async (algorithm, spec) => {
    const keyId = await externalKey();
    const params = await parameters(keyId, algorithm, spec);
    expect(params.KeyId).toBe(`arn:aws:kms:us-east-1:111122223333:key/${keyId}`);
    expect(params.ParametersValidTo!.getTime() - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    const material = ecKey('secp256k1');
    await importMaterial(keyId, params.ImportToken!, wrap(material.pkcs8, params.PublicKey!, algorithm));
    expect((await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(Buffer.from((await local.client.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!)).toEqual(material.spki);
  });

  it('imports P-256 material into an ECC_NIST_P256 key', async () => {
    const keyId = await externalKey('ECC_NIST_P256');
    const params = await parameters(keyId);
    await importMaterial(keyId, params.ImportToken!, wrap(ecKey('prime256v1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256'));
    expect(await state(keyId)).toBe('Enabled');
  });

  it('refuses material of another curve (IncorrectKeyMaterialException) and leaves the key PendingImport', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    const error = await failure(importMaterial(keyId, params.ImportToken!, wrap(ecKey('prime256v1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256')));
    expect(error).toMatchObject({ name: 'IncorrectKeyMaterialException' });
    expect(await state(keyId)).toBe('PendingImport');
  });

  it('refuses bytes that do not unwrap (InvalidCiphertextException)', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    expect(await failure(importMaterial(keyId, params.ImportToken!, randomBytes(256)))).toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('refuses a token superseded by a later GetParametersForImport, or issued for another key (InvalidImportTokenException)', async () => {
    const keyId = await externalKey();
    const first = await parameters(keyId);
    const second = await parameters(keyId);
    const material = ecKey('secp256k1').pkcs8;
    expect(await failure(importMaterial(keyId, first.ImportToken!, wrap(material, first.PublicKey!, 'RSAES_OAEP_SHA_256')))).toMatchObject({ name: 'InvalidImportTokenException' });
    expect(await failure(importMaterial(await externalKey(), second.ImportToken!, wrap(material, second.PublicKey!, 'RSAES_OAEP_SHA_256')))).toMatchObject({ name: 'InvalidImportTokenException' });
  });

  it('refuses a token older than 24 hours (ExpiredImportTokenException)', async () => {
    let now = Date.now();
    const clocked = await startLocalKms({ now: () => new Date(now) });
    const c = localKmsClient(clocked);
    try {
      const keyId = (await c.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }))).KeyMetadata!.KeyId!;
      const params = await c.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      now += 24 * 3_600_000 + 60_000;
      const wrapped = wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256');
      const error = await failure(c.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })));
      expect(error).toMatchObject({ name: 'ExpiredImportTokenException' });
    } finally {
      c.destroy();
      await clocked.close();
    }
  });

  it('accepts only the same material again after DeleteImportedKeyMaterial', async () => {
    const keyId = await externalKey();
    const material = ecKey('secp256k1').pkcs8;
    let params = await parameters(keyId);
    await importMaterial(keyId, params.ImportToken!, wrap(material, params.PublicKey!, 'RSAES_OAEP_SHA_256'));
    await local.client.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }));
    expect(await state(keyId)).toBe('PendingImport');
    params = await parameters(keyId);
    const other = await failure(importMaterial(keyId, params.ImportToken!, wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256')));
    expect(other).toMatchObject({ name: 'IncorrectKeyMaterialException' });
    await importMaterial(keyId, params.ImportToken!, wrap(material, params.PublicKey!, 'RSAES_OAEP_SHA_256'));
    expect(await state(keyId)).toBe('Enabled');
  });

  it('reimports the same material into a key that has it, to change its expiration, keeping the key state', async () => {
    const keyId = await externalKey();
    const material = ecKey('secp256k1');
    let params = await parameters(keyId);
    await importMaterial(keyId, params.ImportToken!, wrap(material.pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256'));
    await local.client.send(new DisableKeyCommand({ KeyId: keyId }));
    params = await parameters(keyId);
    const ValidTo = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000); // whole seconds, as KMS returns it
    await local.client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrap(material.pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256'), ValidTo }));
    expect((await local.client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo });
    params = await parameters(keyId);
    const other = await failure(importMaterial(keyId, params.ImportToken!, wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256')));
    expect(other).toMatchObject({ name: 'IncorrectKeyMaterialException' });
  });

  it('refuses to import into a key pending deletion (KMSInvalidStateException)', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const error = await failure(importMaterial(keyId, params.ImportToken!, wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256')));
    expect(error).toMatchObject({ name: 'KMSInvalidStateException' });
    expect(await state(keyId)).toBe('PendingDeletion');
  });

  it('refuses a ValidTo in the past (ValidationException)', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    const wrapped = wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256');
    const error = await failure(local.client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ValidTo: new Date(Date.now() - 60_000) })));
    expect(error).toMatchObject({ name: 'ValidationException' });
  });

  it('refuses imports into keys whose origin is AWS_KMS (UnsupportedOperationException), and unknown algorithms', async () => {
    const kmsMade = (await local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    expect(await failure(parameters(kmsMade))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await failure(local.client.send(new DeleteImportedKeyMaterialCommand({ KeyId: kmsMade })))).toMatchObject({ name: 'UnsupportedOperationException' });
    expect(await failure(parameters(await externalKey(), 'RSAES_PKCS1_V1_5'))).toMatchObject({ name: 'ValidationException' });
  });

  it('requires ValidTo with KEY_MATERIAL_EXPIRES, the default expiration model', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    const wrapped = wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256');
    expect(await failure(local.client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped })))).toMatchObject({ name: 'ValidationException' });
  });

  it('refuses ValidTo more than 365 days ahead (ValidationException), and accepts 364 days', async () => {
    const keyId = await externalKey();
    const material = ecKey('secp256k1').pkcs8;
    const day = 24 * 60 * 60 * 1000;
    let params = await parameters(keyId);
    const importUntil = (ValidTo: Date) =>
      local.client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrap(material, params.PublicKey!, 'RSAES_OAEP_SHA_256'), ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo }));
    expect(await failure(importUntil(new Date(Date.now() + 366 * day)))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('365 days') });
    params = await parameters(keyId);
    await importUntil(new Date(Date.now() + 364 * day));
    expect(await state(keyId)).toBe('Enabled');
  });

  it('deletes the key material of a key pending deletion and leaves it pending deletion; a cancelled deletion then leaves it pending import', async () => {
    const keyId = await externalKey();
    const params = await parameters(keyId);
    await importMaterial(keyId, params.ImportToken!, wrap(ecKey('secp256k1').pkcs8, params.PublicKey!, 'RSAES_OAEP_SHA_256'));
    await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await expect(local.client.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }))).resolves.toMatchObject({ KeyId: expect.stringContaining(keyId) });
    expect(await state(keyId)).toBe('PendingDeletion');
    await local.client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(await state(keyId)).toBe('PendingImport');
  });
});
