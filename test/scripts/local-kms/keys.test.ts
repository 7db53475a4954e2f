// Conformance of the local KMS with the KMS API reference, through the unmodified AWS SDK over HTTP.
import { createHash, createPublicKey, verify } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type KeySpec,
} from '@aws-sdk/client-kms';
import { secp256k1 } from '@noble/curves/secp256k1';
import { localKmsClient } from '../../../scripts/local-kms';
import { useLocalKms } from '../../helpers/local-kms';
import { rejectionOf as failure } from '../../helpers/rejection';

const N = secp256k1.CURVE.n;

describe('local KMS: keys, aliases, signing', () => {
  const local = useLocalKms();

  const createKey = async (KeySpec: KeySpec = 'ECC_SECG_P256K1', Origin?: 'AWS_KMS' | 'EXTERNAL') =>
    (await local.client.send(new CreateKeyCommand({ KeySpec, KeyUsage: 'SIGN_VERIFY', Origin }))).KeyMetadata!;

  describe('CreateKey and DescribeKey', () => {
    it('creates an enabled ECC_SECG_P256K1 signing key with the metadata KMS returns', async () => {
      const key = await createKey();
      expect(key).toMatchObject({
        AWSAccountId: '111122223333',
        KeyState: 'Enabled',
        Enabled: true,
        KeySpec: 'ECC_SECG_P256K1',
        CustomerMasterKeySpec: 'ECC_SECG_P256K1',
        KeyUsage: 'SIGN_VERIFY',
        Origin: 'AWS_KMS',
        KeyManager: 'CUSTOMER',
        SigningAlgorithms: ['ECDSA_SHA_256'],
        MultiRegion: false,
      });
      expect(key.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${key.KeyId}`);
      expect(key.CreationDate).toBeInstanceOf(Date);
    });

    it('creates an EXTERNAL key in PendingImport, and an ECC_NIST_P256 key', async () => {
      expect(await createKey('ECC_SECG_P256K1', 'EXTERNAL')).toMatchObject({ KeyState: 'PendingImport', Enabled: false, Origin: 'EXTERNAL' });
      expect(await createKey('ECC_NIST_P256')).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyState: 'Enabled' });
    });

    it('accepts the deprecated CustomerMasterKeySpec', async () => {
      const { KeyMetadata } = await local.client.send(new CreateKeyCommand({ CustomerMasterKeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
      expect(KeyMetadata?.KeySpec).toBe('ECC_SECG_P256K1');
    });

    it('refuses key specs it does not emulate, and a signing key without KeyUsage SIGN_VERIFY', async () => {
      expect(await failure(local.client.send(new CreateKeyCommand({})))).toMatchObject({ name: 'UnsupportedOperationException' });
      expect(await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })))).toMatchObject({ name: 'UnsupportedOperationException' });
      expect(await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1' })))).toMatchObject({ name: 'ValidationException' });
    });

    it('describes a key by id, key ARN, alias name and alias ARN', async () => {
      const key = await createKey();
      await local.client.send(new CreateAliasCommand({ AliasName: 'alias/describe-me', TargetKeyId: key.KeyId }));
      for (const KeyId of [key.KeyId!, key.Arn!, 'alias/describe-me', 'arn:aws:kms:us-east-1:111122223333:alias/describe-me']) {
        expect((await local.client.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata?.KeyId).toBe(key.KeyId);
      }
    });

    it('answers NotFoundException for an unknown key, an unknown alias, and a key of another region', async () => {
      const key = await createKey();
      const west = localKmsClient(local.kms, { region: 'eu-west-1' });
      for (const [c, KeyId] of [[local.client, '00000000-0000-0000-0000-000000000000'], [local.client, 'alias/nope'], [west, key.KeyId!]] as const) {
        expect(await failure(c.send(new DescribeKeyCommand({ KeyId })))).toMatchObject({ name: 'NotFoundException' });
      }
      west.destroy();
    });

    it('answers UnknownOperationException, through the SDK, for an operation it does not implement', async () => {
      expect(await failure(local.client.send(new EncryptCommand({ KeyId: (await createKey()).KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({ name: 'UnknownOperationException' });
    });

    it('answers ValidationException when KeyId is missing', async () => {
      expect(await failure(local.client.send(new DescribeKeyCommand({ KeyId: undefined as unknown as string })))).toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('ListKeys and aliases', () => {
    it('lists keys with their ARNs, page by page', async () => {
      const key = await createKey();
      const all = [];
      let Marker: string | undefined;
      do {
        const page = await local.client.send(new ListKeysCommand({ Limit: 2, Marker }));
        all.push(...(page.Keys ?? []));
        Marker = page.Truncated ? page.NextMarker : undefined;
      } while (Marker);
      expect(all).toContainEqual({ KeyId: key.KeyId, KeyArn: key.Arn });
    });

    it('refuses a Limit outside 1 to 1000 (ValidationException) and a Marker it did not return (InvalidMarkerException)', async () => {
      await createKey();
      for (const Limit of [0, 1001]) expect(await failure(local.client.send(new ListKeysCommand({ Limit })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new ListKeysCommand({ Marker: 'not-a-marker' })))).toMatchObject({ name: 'InvalidMarkerException' });
      expect(await failure(local.client.send(new ListAliasesCommand({ Marker: 'not-a-marker' })))).toMatchObject({ name: 'InvalidMarkerException' });
    });

    it('creates, lists, refuses duplicates of, and deletes an alias', async () => {
      const key = await createKey();
      await local.client.send(new CreateAliasCommand({ AliasName: 'alias/team/hot', TargetKeyId: key.Arn }));
      const { Aliases } = await local.client.send(new ListAliasesCommand({ KeyId: key.KeyId }));
      expect(Aliases).toEqual([expect.objectContaining({ AliasName: 'alias/team/hot', AliasArn: 'arn:aws:kms:us-east-1:111122223333:alias/team/hot', TargetKeyId: key.KeyId })]);
      expect(await failure(local.client.send(new CreateAliasCommand({ AliasName: 'alias/team/hot', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'AlreadyExistsException' });
      await local.client.send(new DeleteAliasCommand({ AliasName: 'alias/team/hot' }));
      expect(await failure(local.client.send(new DeleteAliasCommand({ AliasName: 'alias/team/hot' })))).toMatchObject({ name: 'NotFoundException' });
      expect(await failure(local.client.send(new DescribeKeyCommand({ KeyId: 'alias/team/hot' })))).toMatchObject({ name: 'NotFoundException' });
    });

    it('refuses alias names without alias/, reserved alias/aws/ names, and an alias as the target', async () => {
      const key = await createKey();
      await local.client.send(new CreateAliasCommand({ AliasName: 'alias/target', TargetKeyId: key.KeyId }));
      expect(await failure(local.client.send(new CreateAliasCommand({ AliasName: 'bad', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new CreateAliasCommand({ AliasName: 'alias/aws/x', TargetKeyId: key.KeyId })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new CreateAliasCommand({ AliasName: 'alias/other', TargetKeyId: 'alias/target' })))).toMatchObject({ name: 'NotFoundException' });
    });
  });

  describe('GetPublicKey, Sign and Verify', () => {
    let key: Awaited<ReturnType<typeof createKey>>;
    let spki: Uint8Array;
    beforeAll(async () => {
      key = await createKey();
      spki = (await local.client.send(new GetPublicKeyCommand({ KeyId: key.KeyId }))).PublicKey!;
    });

    it('returns the public key as DER SubjectPublicKeyInfo with spec, usage and algorithms', async () => {
      const response = await local.client.send(new GetPublicKeyCommand({ KeyId: key.Arn }));
      expect(response).toMatchObject({ KeyId: key.Arn, KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
      expect(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve).toBe('secp256k1');
    });

    it('signs RAW messages over their SHA-256 (OpenSSL verifies the DER signature)', async () => {
      const message = Buffer.from('hello KMS');
      const { Signature, SigningAlgorithm, KeyId } = await local.client.send(new SignCommand({ KeyId: key.KeyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect({ SigningAlgorithm, KeyId }).toEqual({ SigningAlgorithm: 'ECDSA_SHA_256', KeyId: key.Arn });
      expect(verify('sha256', message, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), Buffer.from(Signature!))).toBe(true);
    });

    it('signs a 32-byte DIGEST as it is, which equals RAW signing of the message it hashes', async () => {
      const message = Buffer.from('digest me');
      const digest = createHash('sha256').update(message).digest();
      const { Signature } = await local.client.send(new SignCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect(verify('sha256', message, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), Buffer.from(Signature!))).toBe(true);
      expect(secp256k1.verify(secp256k1.Signature.fromDER(Signature!), digest, Buffer.from(spki).subarray(-65), { lowS: false })).toBe(true);
    });

    it('returns high-s and low-s signatures alike (no low-s normalisation), with random nonces', async () => {
      const digest = createHash('sha256').update('same digest').digest();
      const signatures = await Promise.all(
        Array.from({ length: 64 }, () => local.client.send(new SignCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }))),
      );
      const parsed = signatures.map(({ Signature }) => secp256k1.Signature.fromDER(Signature!));
      expect(parsed.some((s) => s.s > N / 2n)).toBe(true);
      expect(parsed.some((s) => s.s <= N / 2n)).toBe(true);
      expect(new Set(parsed.map((s) => s.r)).size).toBe(64);
    });

    it('refuses a DIGEST that is not 32 bytes, and a signing algorithm the key does not support', async () => {
      expect(await failure(local.client.send(new SignCommand({ KeyId: key.KeyId, Message: Buffer.alloc(31), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new SignCommand({ KeyId: key.KeyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_384' })))).toMatchObject({ name: 'InvalidKeyUsageException' });
      expect(await failure(local.client.send(new SignCommand({ KeyId: key.KeyId, Message: Buffer.alloc(4097), SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'ValidationException' });
    });

    it('signs an ECC_NIST_P256 key\'s RAW message verifiably with OpenSSL', async () => {
      const p256 = await createKey('ECC_NIST_P256');
      const { PublicKey } = await local.client.send(new GetPublicKeyCommand({ KeyId: p256.KeyId }));
      const message = Buffer.from('P-256 too');
      const { Signature } = await local.client.send(new SignCommand({ KeyId: p256.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect(verify('sha256', message, createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }), Buffer.from(Signature!))).toBe(true);
    });

    it('Verify checks a DIGEST like Sign: 32 bytes, else ValidationException', async () => {
      const digest = createHash('sha256').update('verify a digest').digest();
      const { Signature } = await local.client.send(new SignCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
      await expect(local.client.send(new VerifyCommand({ KeyId: key.KeyId, Message: digest, MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ECDSA_SHA_256' }))).resolves.toMatchObject({ SignatureValid: true });
      expect(await failure(local.client.send(new VerifyCommand({ KeyId: key.KeyId, Message: digest.subarray(1), MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'ValidationException' });
    });

    it('verifies its own signatures and answers KMSInvalidSignatureException for another message', async () => {
      const Message = Buffer.from('verify me');
      const { Signature } = await local.client.send(new SignCommand({ KeyId: key.KeyId, Message, SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect(await local.client.send(new VerifyCommand({ KeyId: key.KeyId, Message, Signature, SigningAlgorithm: 'ECDSA_SHA_256' }))).toMatchObject({ SignatureValid: true });
      expect(await failure(local.client.send(new VerifyCommand({ KeyId: key.KeyId, Message: Buffer.from('other'), Signature, SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'KMSInvalidSignatureException' });
    });
  });

  describe('key states', () => {
    it('DisableKey makes Sign and GetPublicKey answer DisabledException; EnableKey restores them', async () => {
      const key = await createKey();
      await local.client.send(new DisableKeyCommand({ KeyId: key.KeyId }));
      expect((await local.client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
      expect(await failure(local.client.send(new GetPublicKeyCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'DisabledException' });
      expect(await failure(local.client.send(new SignCommand({ KeyId: key.KeyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'DisabledException' });
      expect(await failure(local.client.send(new VerifyCommand({ KeyId: key.KeyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', Signature: Buffer.alloc(70), SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'DisabledException' });
      await local.client.send(new EnableKeyCommand({ KeyId: key.KeyId }));
      await expect(local.client.send(new GetPublicKeyCommand({ KeyId: key.KeyId }))).resolves.toMatchObject({ KeySpec: 'ECC_SECG_P256K1' });
    });

    it('EnableKey and DisableKey take a key id or ARN, not an alias', async () => {
      const key = await createKey();
      await local.client.send(new CreateAliasCommand({ AliasName: 'alias/no-enable', TargetKeyId: key.KeyId }));
      expect(await failure(local.client.send(new DisableKeyCommand({ KeyId: 'alias/no-enable' })))).toMatchObject({ name: 'NotFoundException' });
    });

    it('a key pending import cannot sign, be enabled or give its public key (KMSInvalidStateException)', async () => {
      const key = await createKey('ECC_SECG_P256K1', 'EXTERNAL');
      expect(await failure(local.client.send(new GetPublicKeyCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
      expect(await failure(local.client.send(new EnableKeyCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
    });

    it('schedules deletion in 7 to 30 days (default 30), and a cancelled deletion leaves the key disabled', async () => {
      const key = await createKey();
      const scheduled = await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: key.Arn, PendingWindowInDays: 7 }));
      expect(scheduled).toMatchObject({ KeyId: key.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
      expect(scheduled.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
      expect(await failure(local.client.send(new SignCommand({ KeyId: key.KeyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })))).toMatchObject({ name: 'KMSInvalidStateException' });
      expect(await failure(local.client.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
      await local.client.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
      expect((await local.client.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata?.KeyState).toBe('Disabled');
      expect(await failure(local.client.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
      const other = await createKey();
      expect((await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: other.KeyId }))).PendingWindowInDays).toBe(30);
      expect(await failure(local.client.send(new ScheduleKeyDeletionCommand({ KeyId: (await createKey()).KeyId, PendingWindowInDays: 6 })))).toMatchObject({ name: 'ValidationException' });
    });
  });
});
