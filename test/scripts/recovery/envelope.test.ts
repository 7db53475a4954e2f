import type { KeyObject } from 'node:crypto';
import { generateRecoveryKeyPair } from '../../../scripts/recovery/recovery-key';
import { openEnvelope, parseEnvelope, sealPrivateKey } from '../../../scripts/recovery/envelope';
import { InvalidBackupError } from '../../../scripts/recovery/errors';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const KEY = KNOWN_KEYS[0];
const KEY_ID = '0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60';
const secret = () => Buffer.from(KEY.privateKey.slice(2), 'hex');

describe('recovery envelope', () => {
  let recovery: { publicKey: KeyObject; privateKey: KeyObject };
  let other: { publicKey: KeyObject; privateKey: KeyObject };
  beforeAll(async () => {
    [recovery, other] = await Promise.all([generateRecoveryKeyPair(), generateRecoveryKeyPair()]);
  });

  it('round-trips the private key and records the address and KMS key id in the clear', () => {
    const envelope = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    expect(envelope).toMatchObject({ format: 'kms-eth-signer/recovery-shard', version: 1, keyId: KEY_ID, address: KEY.address });
    const text = JSON.stringify(envelope);
    expect(text).not.toContain(KEY.privateKey.slice(2));
    expect(openEnvelope(parseEnvelope(text), recovery.privateKey)).toEqual(secret());
  });

  it('uses a fresh AES key and IV each time', () => {
    const a = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    const b = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.encryptedKey).not.toBe(b.encryptedKey);
  });

  it.each(['keyId', 'address', 'createdAt'] as const)('refuses to open an envelope whose %s was altered (authenticated data)', (field) => {
    const envelope = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    const altered = { ...envelope, [field]: field === 'address' ? KNOWN_KEYS[1].address : `${envelope[field]}x` };
    expect(() => openEnvelope(altered, recovery.privateKey)).toThrow(/altered or corrupted/);
  });

  it('refuses a flipped ciphertext bit', () => {
    const envelope = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    const bytes = Buffer.from(envelope.ciphertext, 'base64');
    bytes.writeUInt8(bytes.readUInt8(0) ^ 1, 0);
    expect(() => openEnvelope({ ...envelope, ciphertext: bytes.toString('base64') }, recovery.privateKey)).toThrow(InvalidBackupError);
  });

  it('says when the recovery private key is the wrong one', () => {
    const envelope = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    expect(() => openEnvelope(envelope, other.privateKey)).toThrow(/wrong recovery key/);
    expect(() => parseEnvelope(JSON.stringify(envelope), { recoveryPublicKey: other.publicKey })).toThrow(/another recovery key/);
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['another format', JSON.stringify({ format: 'x' }), /format is "x"/],
    ['a future version', JSON.stringify({ format: 'kms-eth-signer/recovery-shard', version: 2 }), /version is 2/],
  ])('rejects %s', (_label, text, message) => {
    expect(() => parseEnvelope(text)).toThrow(message);
  });

  it('rejects a truncated field and a backup for another key', () => {
    const envelope = sealPrivateKey(secret(), recovery.publicKey, KEY_ID);
    expect(() => parseEnvelope(JSON.stringify({ ...envelope, tag: envelope.tag.slice(0, 8) }))).toThrow(/tag must be 16 bytes/);
    expect(() => parseEnvelope(JSON.stringify(envelope), { keyId: 'another' })).toThrow(/for KMS key .* not another/);
  });
});
