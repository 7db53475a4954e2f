import { randomBytes, type KeyObject } from 'node:crypto';
import { computeAddress, getAddress } from 'ethers';
import { combine, split } from 'shamir-secret-sharing';
import { ENVELOPE_FORMAT, fingerprint, openBytes, parseEnvelope, sealBytes, type RecoveryEnvelope, type SealedBytes } from './envelope';
import { DuplicateShareError, InvalidBackupError, MixedSharesError, NotEnoughSharesError, TamperedBackupError, WrongRecoveryKeyError } from './errors';

/** Version 2 of the backup format: one Shamir share of the private key per recovery key (docs/backup.md). */
export const SHARD_VERSION = 2;
/** The most shares shamir-secret-sharing makes (its x coordinates are the bytes 1..255). */
export const MAX_SHARES = 255;
/** A share is the 32 bytes of the key's polynomial values and one byte of x coordinate. */
const SHARE_BYTES = 33;

/** What identifies one M-of-N backup and one share of it; bound to each ciphertext as additional data. */
export interface ShareHeader {
  /** The KMS key the material was imported into. */
  keyId: string;
  /** The Ethereum address of the private key (EIP-55): the commitment the combined key is checked against. */
  address: string;
  /** M: how many shares recover the key. */
  threshold: number;
  /** N: how many shares were made. */
  shares: number;
  /** 1..N: which share this is (stored as <key_id>/recovery_shard-<index>.txt). */
  index: number;
  /** Random per backup run: shares of two runs never combine. */
  backupId: string;
  createdAt: string;
}

/** One shard of an M-of-N backup: a Shamir share encrypted to recovery key `index`. */
export interface ShardEnvelope extends ShareHeader, SealedBytes {
  format: typeof ENVELOPE_FORMAT;
  version: typeof SHARD_VERSION;
  /** SHA-256 of the recovery public key's DER: which recovery key (holder) opens this shard. */
  recoveryKeySha256: string;
}

/** A stored backup: the single-key envelope (version 1, M = N = 1) or one shard of M-of-N (version 2). */
export type Backup = RecoveryEnvelope | ShardEnvelope;

function shardAad(s: Omit<ShardEnvelope, keyof SealedBytes>): Buffer {
  return Buffer.from(JSON.stringify([s.format, s.version, s.keyId, s.address, s.threshold, s.shares, s.index, s.backupId, s.recoveryKeySha256, s.createdAt]), 'utf8');
}

/**
 * Splits a 32-byte private key into N = recoveryKeys.length Shamir shares, any `threshold` of which recover it,
 * and encrypts share i to recovery key i. Before returning, every share is checked to take part in a
 * combination that gives the key back.
 */
export async function splitPrivateKey(privateKey: Uint8Array, recoveryKeys: readonly KeyObject[], threshold: number, keyId: string, now = new Date()): Promise<ShardEnvelope[]> {
  const n = recoveryKeys.length;
  checkThreshold(threshold, n);
  if (privateKey.length !== 32) throw new InvalidBackupError(`the private key must be 32 bytes, got ${privateKey.length}`);
  const secret = new Uint8Array(privateKey); // a copy in this realm: the library checks instanceof Uint8Array
  const shares = await split(secret, n, threshold);
  try {
    // M consecutive shares, for every start: each share is used at least once.
    for (let start = 0; start < n; start++) {
      const combined = await combine(Array.from({ length: threshold }, (_, k) => shares[(start + k) % n]!));
      const same = Buffer.from(combined).equals(Buffer.from(secret));
      combined.fill(0);
      if (!same) throw new InvalidBackupError('a set of shares does not combine to the private key; nothing was stored');
    }
    const common = {
      format: ENVELOPE_FORMAT,
      version: SHARD_VERSION,
      keyId,
      address: computeAddress(`0x${Buffer.from(secret).toString('hex')}`),
      threshold,
      shares: n,
      backupId: randomBytes(16).toString('hex'),
      createdAt: now.toISOString(),
    } as const;
    return recoveryKeys.map((key, i) => {
      const header = { ...common, index: i + 1, recoveryKeySha256: fingerprint(key) };
      return { ...header, ...sealBytes(shares[i]!, key, shardAad(header)) };
    });
  } finally {
    secret.fill(0);
    for (const share of shares) share.fill(0);
  }
}

/** Checks M and N: 1-of-1 is the single-key envelope; otherwise 2 <= M <= N <= 255. */
export function checkThreshold(threshold: number, n: number): void {
  if (!Number.isSafeInteger(threshold) || threshold < 1) throw new InvalidBackupError(`the threshold must be a whole number from 1 to the number of recovery keys, got ${threshold}`);
  if (n < 1 || n > MAX_SHARES) throw new InvalidBackupError(`give 1 to ${MAX_SHARES} recovery keys, got ${n}`);
  if (threshold > n) throw new InvalidBackupError(`the threshold ${threshold} is more than the ${n} recovery key(s) given: the key could never be recovered`);
  if (threshold === 1 && n > 1) {
    throw new InvalidBackupError(`a threshold of 1 with ${n} recovery keys would let any one holder recover the key alone; use a threshold of 2 or more, or one recovery key`);
  }
}

/** Parses a stored backup of either version and checks its structure. */
export function parseBackup(text: string): Backup {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidBackupError('it is not JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidBackupError('it is not a JSON object');
  const version = (value as Record<string, unknown>).version;
  if (version === 1) return parseEnvelope(text);
  if (version !== SHARD_VERSION) {
    throw new InvalidBackupError(`its version is ${describe(version)}; this tool reads versions 1 (one recovery key) and ${SHARD_VERSION} (M-of-N shards): use a newer kms-eth-signer`);
  }
  const e = value as Record<string, unknown>;
  if (e.format !== ENVELOPE_FORMAT) throw new InvalidBackupError(`its format is ${describe(e.format)}, not "${ENVELOPE_FORMAT}"`);
  checkSealed(e, SHARE_BYTES);
  checkShareHeader(e);
  if (typeof e.recoveryKeySha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.recoveryKeySha256)) throw new InvalidBackupError('recoveryKeySha256 must be 64 lower-case hex digits');
  return e as unknown as ShardEnvelope;
}

/** Checks the encrypted fields of an envelope: base64 of the exact sizes. */
export function checkSealed(e: Record<string, unknown>, plaintextBytes: number): void {
  const sizes: Array<[string, number]> = [['encryptedKey', 512], ['iv', 12], ['ciphertext', plaintextBytes], ['tag', 16]];
  for (const [field, bytes] of sizes) {
    const raw = e[field];
    if (typeof raw !== 'string' || Buffer.from(raw, 'base64').length !== bytes || Buffer.from(raw, 'base64').toString('base64') !== raw) {
      throw new InvalidBackupError(`${field} must be ${bytes} bytes of base64`);
    }
  }
}

/** Checks the fields that identify a share (in a shard or in a ceremony share file). */
export function checkShareHeader(e: Record<string, unknown>): void {
  for (const field of ['keyId', 'address', 'backupId', 'createdAt']) {
    if (typeof e[field] !== 'string' || e[field] === '' || (e[field] as string).length > 256) throw new InvalidBackupError(`${field} is missing`);
  }
  try {
    if (getAddress(e.address as string) !== e.address) throw new Error('not checksummed');
  } catch (cause) {
    throw new InvalidBackupError(`address ${describe(e.address)} is not an EIP-55 address`, cause);
  }
  const { threshold, shares, index } = e;
  if (!Number.isSafeInteger(shares) || (shares as number) < 2 || (shares as number) > MAX_SHARES) throw new InvalidBackupError(`shares must be a whole number from 2 to ${MAX_SHARES}, got ${describe(shares)}`);
  if (!Number.isSafeInteger(threshold) || (threshold as number) < 2 || (threshold as number) > (shares as number)) {
    throw new InvalidBackupError(`threshold must be a whole number from 2 to shares (${shares as number}), got ${describe(threshold)}`);
  }
  if (!Number.isSafeInteger(index) || (index as number) < 1 || (index as number) > (shares as number)) {
    throw new InvalidBackupError(`index must be a whole number from 1 to shares (${shares as number}), got ${describe(index)}`);
  }
}

/** Decrypts a shard with its holder's recovery private key; the result is a 33-byte share (zero it after use). */
export function openShard(shard: ShardEnvelope, recoveryPrivateKey: KeyObject): Buffer {
  if (fingerprint(recoveryPrivateKey) !== shard.recoveryKeySha256) {
    throw new WrongRecoveryKeyError(`shard ${shard.index} of ${shard.shares} is encrypted to recovery key sha256:${shard.recoveryKeySha256.slice(0, 16)}…, not to the private key given (sha256:${fingerprint(recoveryPrivateKey).slice(0, 16)}…)`);
  }
  return openBytes(shard, recoveryPrivateKey, shardAad(shard));
}

/**
 * Checks that shares belong together and are enough: one backup (same key, address, M, N and backup id),
 * no index twice, at least M of them. Returns the common header.
 */
export function checkShareSet(headers: readonly ShareHeader[]): Omit<ShareHeader, 'index'> {
  const first = headers[0];
  if (!first) throw new NotEnoughSharesError('no shard was given');
  for (const h of headers) {
    for (const field of ['keyId', 'address', 'threshold', 'shares', 'backupId', 'createdAt'] as const) {
      if (h[field] !== first[field]) {
        throw new MixedSharesError(
          `the shards are not all from one backup: shard ${first.index} has ${field} ${describe(first[field])}, shard ${h.index} has ${describe(h[field])}. Give shards of one backup (one <key_id>/ folder, one run of import-key)`,
        );
      }
    }
  }
  const seen = new Set<number>();
  for (const h of headers) {
    if (seen.has(h.index)) throw new DuplicateShareError(`shard ${h.index} was given twice; give ${first.threshold} DIFFERENT shards of the ${first.shares}`);
    seen.add(h.index);
  }
  if (headers.length < first.threshold) {
    throw new NotEnoughSharesError(
      `this backup needs ${first.threshold} of its ${first.shares} shards, and only ${seen.size === 1 ? `shard ${[...seen][0]}` : `${seen.size} shards (${[...seen].sort((a, b) => a - b).join(', ')})`} can be opened with the keys given`,
    );
  }
  const { index: _index, ...common } = first;
  return common;
}

/**
 * Combines at least M shares of one backup (checked with checkShareSet) and checks the result against the
 * backup's address before returning the 32-byte private key (zero it after use).
 */
export async function combineShares(headers: readonly ShareHeader[], shares: readonly Uint8Array[]): Promise<Buffer> {
  const common = checkShareSet(headers);
  if (shares.length !== headers.length || shares.some((s) => s.length !== SHARE_BYTES)) throw new TamperedBackupError(`every share must be ${SHARE_BYTES} bytes`);
  let combined: Uint8Array;
  try {
    combined = await combine(shares.map((s) => new Uint8Array(s)));
  } catch (cause) {
    throw new TamperedBackupError('the shares do not combine (two have the same x coordinate)', cause);
  }
  const key = Buffer.from(combined);
  combined.fill(0);
  let address: string | undefined;
  try {
    address = computeAddress(`0x${key.toString('hex')}`);
  } catch {
    address = undefined; // not a valid secp256k1 scalar: reported below
  }
  if (address !== common.address) {
    key.fill(0);
    throw new TamperedBackupError(`the shares combine to a key that is not the key of ${common.address}; a shard was altered or is not from this backup`);
  }
  return key;
}

/** A short, safe description of an untrusted JSON value for an error message. */
function describe(value: unknown): string {
  const text = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? JSON.stringify(value) : value === null ? 'null' : `a ${Array.isArray(value) ? 'list' : typeof value}`;
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
