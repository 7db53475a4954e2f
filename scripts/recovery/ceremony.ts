import type { KeyObject } from 'node:crypto';
import { fingerprint, openBytes, sealBytes, type SealedBytes } from './envelope';
import { InvalidBackupError, WrongRecoveryKeyError } from './errors';
import { checkSealed, checkShareHeader, type ShardEnvelope, type ShareHeader } from './shards';

/**
 * A recovery ceremony keeps the holders' recovery private keys apart: each holder decrypts their own shard
 * into a share file encrypted to the operator's one-time key, and the operator combines M share files.
 */
export const SHARE_FILE_FORMAT = 'kms-eth-signer/recovery-share';
export const SHARE_FILE_VERSION = 1;

/** One holder's decrypted share, re-encrypted to the ceremony operator's one-time RSA-4096 key. */
export interface ShareFile extends ShareHeader, SealedBytes {
  format: typeof SHARE_FILE_FORMAT;
  version: typeof SHARE_FILE_VERSION;
  /** SHA-256 of the operator's one-time public key's DER. */
  operatorKeySha256: string;
}

function shareFileAad(s: Omit<ShareFile, keyof SealedBytes>): Buffer {
  return Buffer.from(JSON.stringify([s.format, s.version, s.keyId, s.address, s.threshold, s.shares, s.index, s.backupId, s.operatorKeySha256, s.createdAt]), 'utf8');
}

/** Encrypts a holder's decrypted share (from openShard) to the operator's one-time public key. */
export function sealShareForOperator(shard: ShardEnvelope, share: Uint8Array, operatorPublicKey: KeyObject): ShareFile {
  const header = {
    format: SHARE_FILE_FORMAT,
    version: SHARE_FILE_VERSION,
    keyId: shard.keyId,
    address: shard.address,
    threshold: shard.threshold,
    shares: shard.shares,
    index: shard.index,
    backupId: shard.backupId,
    createdAt: shard.createdAt,
    operatorKeySha256: fingerprint(operatorPublicKey),
  } as const;
  return { ...header, ...sealBytes(share, operatorPublicKey, shareFileAad(header)) };
}

/** Parses a share file and checks its structure. */
export function parseShareFile(text: string): ShareFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidBackupError('the share file is not JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidBackupError('the share file is not a JSON object');
  const e = value as Record<string, unknown>;
  if (e.format !== SHARE_FILE_FORMAT) {
    throw new InvalidBackupError(`this is not a share file (its format is not "${SHARE_FILE_FORMAT}"); recover --combine takes the files that recover --decrypt-share wrote`);
  }
  if (e.version !== SHARE_FILE_VERSION) throw new InvalidBackupError(`the share file's version is not ${SHARE_FILE_VERSION}, the one this tool reads`);
  checkSealed(e, 33);
  checkShareHeader(e);
  if (typeof e.operatorKeySha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.operatorKeySha256)) throw new InvalidBackupError('operatorKeySha256 must be 64 lower-case hex digits');
  return e as unknown as ShareFile;
}

/** Decrypts a share file with the operator's one-time private key; the result is the 33-byte share (zero it after use). */
export function openShareFile(file: ShareFile, operatorPrivateKey: KeyObject): Buffer {
  if (fingerprint(operatorPrivateKey) !== file.operatorKeySha256) {
    throw new WrongRecoveryKeyError(`share ${file.index} is encrypted to another operator key (sha256:${file.operatorKeySha256.slice(0, 16)}…), not to the one-time private key given`);
  }
  return openBytes(file, operatorPrivateKey, shareFileAad(file));
}
