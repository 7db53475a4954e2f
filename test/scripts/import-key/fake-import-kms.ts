// A mocked KMS (aws-sdk-client-mock) that does what KMS does on import: it hands out an RSA wrapping key,
// really unwraps the material with it, reads the PKCS#8 with node's crypto (OpenSSL), and then answers
// GetPublicKey and Sign for the imported key. Unit tests of the import flow run against it.
import {
  constants,
  createDecipheriv,
  createPrivateKey,
  generateKeyPairSync,
  privateDecrypt,
  type KeyObject,
} from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { derSign, spkiFor } from '../../helpers/kms-mock';

export interface FakeKey {
  metadata: KeyMetadata;
  /** The imported private key, as 0x-hex, once imported. */
  privateKey?: string;
  /** The PKCS#8 DER KMS received. */
  material?: Buffer;
  wrappingAlgorithm?: string;
}

let rsa: { publicKey: KeyObject; privateKey: KeyObject } | undefined;
function wrappingKeyPair() {
  rsa ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
  return rsa;
}

/** The fake KMS's keys and aliases, for arranging and asserting. */
export interface FakeImportKms {
  readonly stub: AwsClientStub<KMSClient>;
  readonly keys: Map<string, FakeKey>;
  readonly aliases: Map<string, string>;
  /** Adds a key; defaults to an EXTERNAL secp256k1 signing key pending import. */
  addKey(overrides?: Partial<KeyMetadata>, alias?: string): FakeKey;
}

/** A client for the fake (any client works: the mock replaces every KMSClient's send). */
export function fakeClient(): KMSClient {
  return new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

/** Installs the fake KMS; call `stub.restore()` after the test. */
export function fakeImportKms(): FakeImportKms {
  const stub = mockClient(KMSClient);
  const keys = new Map<string, FakeKey>();
  const aliases = new Map<string, string>();
  let counter = 0;

  const addKey = (overrides: Partial<KeyMetadata> = {}, alias?: string): FakeKey => {
    const keyId = `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;
    const key: FakeKey = {
      metadata: {
        KeyId: keyId,
        Arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
        KeySpec: 'ECC_SECG_P256K1',
        KeyUsage: 'SIGN_VERIFY',
        Origin: 'EXTERNAL',
        KeyState: 'PendingImport',
        ...overrides,
      },
    };
    keys.set(keyId, key);
    if (alias) aliases.set(alias, keyId);
    return key;
  };
  const find = (id: string | undefined): FakeKey => {
    const keyId = id?.startsWith('alias/') ? aliases.get(id) : id?.replace(/^arn:.*:key\//, '');
    const key = keyId ? keys.get(keyId) : undefined;
    if (!key) throw new NotFoundException({ message: `Key '${id}' does not exist`, $metadata: {} });
    return key;
  };

  stub.on(DescribeKeyCommand).callsFake(({ KeyId }) => ({ KeyMetadata: find(KeyId).metadata }));
  stub.on(CreateKeyCommand).callsFake((input) => ({
    KeyMetadata: addKey({ KeySpec: input.KeySpec, KeyUsage: input.KeyUsage, Origin: input.Origin, Description: input.Description }).metadata,
  }));
  stub.on(CreateAliasCommand).callsFake(({ AliasName, TargetKeyId }) => {
    aliases.set(AliasName, find(TargetKeyId).metadata.KeyId as string);
    return {};
  });
  stub.on(ScheduleKeyDeletionCommand).callsFake(({ KeyId }) => {
    find(KeyId).metadata.KeyState = 'PendingDeletion';
    return {};
  });
  stub.on(GetParametersForImportCommand).callsFake(({ KeyId, WrappingAlgorithm }) => {
    const key = find(KeyId);
    key.wrappingAlgorithm = WrappingAlgorithm;
    return {
      KeyId: key.metadata.Arn,
      ImportToken: Buffer.from(`token for ${key.metadata.KeyId}`),
      PublicKey: wrappingKeyPair().publicKey.export({ type: 'spki', format: 'der' }),
      ParametersValidTo: new Date(Date.now() + 86_400_000),
    };
  });
  stub.on(ImportKeyMaterialCommand).callsFake(({ KeyId, EncryptedKeyMaterial }) => {
    const key = find(KeyId);
    const material = unwrap(Buffer.from(EncryptedKeyMaterial as Uint8Array), key.wrappingAlgorithm ?? '');
    const jwk = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    if (jwk.crv !== 'secp256k1' || !jwk.d) throw new Error('the fake KMS received key material that is not secp256k1');
    key.material = material;
    key.privateKey = `0x${Buffer.from(jwk.d, 'base64url').toString('hex')}`;
    key.metadata.KeyState = 'Enabled';
    return {};
  });
  stub.on(GetPublicKeyCommand).callsFake(({ KeyId }) => {
    const key = find(KeyId);
    if (!key.privateKey) throw new Error('the fake KMS key has no key material');
    return { KeyId: key.metadata.Arn, KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', PublicKey: spkiFor(key.privateKey) };
  });
  stub.on(SignCommand).callsFake(({ KeyId, Message }) => {
    const key = find(KeyId);
    return { KeyId: key.metadata.Arn, Signature: derSign(Message as Uint8Array, key.privateKey as string), SigningAlgorithm: 'ECDSA_SHA_256' };
  });
  return { stub, keys, aliases, addKey };
}

/** What KMS does with EncryptedKeyMaterial, per the developer guide's description of each wrapping algorithm. */
export function unwrap(encrypted: Buffer, algorithm: string): Buffer {
  const { privateKey } = wrappingKeyPair();
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const decrypt = (data: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm.startsWith('RSAES_OAEP')) return decrypt(encrypted);
  const aesKey = decrypt(encrypted.subarray(0, 256));
  const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
  return Buffer.concat([decipher.update(encrypted.subarray(256)), decipher.final()]);
}
