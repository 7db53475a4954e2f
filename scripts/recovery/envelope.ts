import { createCipheriv, createDecipheriv, createHash, createPublicKey, constants, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { computeAddress, getAddress } from 'ethers';
import { InvalidBackupError, TamperedBackupError, WrongRecoveryKeyError } from './errors';

/** The backup format: a versioned JSON document, documented in docs/backup.md. */
export const ENVELOPE_FORMAT = 'kms-eth-signer/recovery-shard';
export const ENVELOPE_VERSION = 1;

/** A recovery shard: the private key encrypted to an offline RSA-4096 recovery key. */
export interface RecoveryEnvelope {
  format: typeof ENVELOPE_FORMAT;
  version: typeof ENVELOPE_VERSION;
  /** The KMS key the material was imported into. */
  keyId: string;
  /** The Ethereum address of the private key (EIP-55). */
  address: string;
  /** SHA-256 of the recovery public key's DER: which recovery key opens this shard. */
  recoveryKeySha256: string;
  createdAt: string;
  /** The AES-256 key, encrypted with RSAES-OAEP (SHA-256, MGF1-SHA-256) to the recovery public key. */
  encryptedKey: string;
  /** AES-256-GCM over the 32-byte private key, with the header fields above as additional data. */
  iv: string;
  ciphertext: string;
  tag: string;
}

// The fields bound to the ciphertext: changing any of them makes decryption fail.
function additionalData(e: Pick<RecoveryEnvelope, 'format' | 'version' | 'keyId' | 'address' | 'recoveryKeySha256' | 'createdAt'>): Buffer {
  return Buffer.from(JSON.stringify([e.format, e.version, e.keyId, e.address, e.recoveryKeySha256, e.createdAt]), 'utf8');
}

/** Encrypts a 32-byte secp256k1 private key to the recovery public key. */
export function sealPrivateKey(privateKey: Uint8Array, recoveryPublicKey: KeyObject, keyId: string, now = new Date()): RecoveryEnvelope {
  if (privateKey.length !== 32) throw new InvalidBackupError(`the private key must be 32 bytes, got ${privateKey.length}`);
  const header = {
    format: ENVELOPE_FORMAT,
    version: ENVELOPE_VERSION,
    keyId,
    address: computeAddress(`0x${Buffer.from(privateKey).toString('hex')}`),
    recoveryKeySha256: fingerprint(recoveryPublicKey),
    createdAt: now.toISOString(),
  } as const;
  return { ...header, ...sealBytes(privateKey, recoveryPublicKey, additionalData(header)) };
}

/** The encrypted part of every envelope: AES-256-GCM under a fresh key, that key wrapped with RSA-OAEP-SHA-256. */
export interface SealedBytes {
  encryptedKey: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

/** Encrypts bytes to an RSA public key: a fresh AES-256 key and IV, the header bound as additional data. */
export function sealBytes(plaintext: Uint8Array, publicKey: KeyObject, aad: Buffer): SealedBytes {
  const aesKey = randomBytes(32);
  const iv = randomBytes(12);
  try {
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, aesKey);
    return {
      encryptedKey: encryptedKey.toString('base64'),
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  } finally {
    aesKey.fill(0);
  }
}

/**
 * Decrypts what sealBytes made. A private key that does not unwrap the AES key throws WrongRecoveryKeyError;
 * a failed GCM check (ciphertext or header altered) throws TamperedBackupError.
 */
export function openBytes(sealed: SealedBytes, privateKey: KeyObject, aad: Buffer): Buffer {
  let aesKey: Buffer;
  try {
    aesKey = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(sealed.encryptedKey, 'base64'));
  } catch (cause) {
    throw new WrongRecoveryKeyError('the recovery private key does not open it (wrong recovery key?)', cause);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(aad);
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
  } catch (cause) {
    throw new TamperedBackupError('it was altered or corrupted (authentication failed)', cause);
  } finally {
    aesKey.fill(0);
  }
}

/** Parses a stored envelope and checks its structure (everything that can be checked without the private key). */
export function parseEnvelope(text: string, expected?: { keyId?: string; recoveryPublicKey?: KeyObject }): RecoveryEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidBackupError('it is not JSON', cause);
  }
  if (typeof value !== 'object' || value === null) throw new InvalidBackupError('it is not a JSON object');
  const e = value as Record<string, unknown>;
  if (e.format !== ENVELOPE_FORMAT) throw new InvalidBackupError(`its format is ${JSON.stringify(e.format)}, not "${ENVELOPE_FORMAT}"`);
  if (e.version !== ENVELOPE_VERSION) throw new InvalidBackupError(`its version is ${JSON.stringify(e.version)}; this tool reads version ${ENVELOPE_VERSION}`);
  const sizes: Array<[string, number]> = [['encryptedKey', 512], ['iv', 12], ['ciphertext', 32], ['tag', 16]];
  for (const [field, bytes] of sizes) {
    const raw = e[field];
    if (typeof raw !== 'string' || Buffer.from(raw, 'base64').length !== bytes || Buffer.from(raw, 'base64').toString('base64') !== raw) {
      throw new InvalidBackupError(`${field} must be ${bytes} bytes of base64`);
    }
  }
  for (const field of ['keyId', 'address', 'recoveryKeySha256', 'createdAt']) {
    if (typeof e[field] !== 'string' || e[field] === '') throw new InvalidBackupError(`${field} is missing`);
  }
  try {
    if (getAddress(e.address as string) !== e.address) throw new Error('not checksummed');
  } catch (cause) {
    throw new InvalidBackupError(`address ${JSON.stringify(e.address)} is not an EIP-55 address`, cause);
  }
  const envelope = e as unknown as RecoveryEnvelope;
  if (expected?.keyId !== undefined && envelope.keyId !== expected.keyId) {
    throw new InvalidBackupError(`it is for KMS key ${envelope.keyId}, not ${expected.keyId}`);
  }
  if (expected?.recoveryPublicKey && envelope.recoveryKeySha256 !== fingerprint(expected.recoveryPublicKey)) {
    throw new InvalidBackupError('it was encrypted to another recovery key');
  }
  return envelope;
}

/** Decrypts an envelope with the recovery private key; the result is the 32-byte private key (zero it after use). */
export function openEnvelope(envelope: RecoveryEnvelope, recoveryPrivateKey: KeyObject): Buffer {
  const privateKey = openBytes(envelope, recoveryPrivateKey, additionalData(envelope));
  if (privateKey.length !== 32 || computeAddress(`0x${privateKey.toString('hex')}`) !== envelope.address) {
    privateKey.fill(0);
    throw new TamperedBackupError(`the decrypted key is not the key of ${envelope.address}`);
  }
  return privateKey;
}

/** SHA-256 of a public key's DER SubjectPublicKeyInfo, as hex. */
export function fingerprint(key: KeyObject): string {
  // A private key's fingerprint is its public key's: that is how a private key finds its shard.
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}
