import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { combine } from 'shamir-secret-sharing';
import { generateRecoveryKeyPair } from '../../../scripts/recovery/recovery-key';
import { fingerprint } from '../../../scripts/recovery/envelope';
import { checkThreshold, combineShares, openShard, parseBackup, splitPrivateKey, type ShardEnvelope } from '../../../scripts/recovery/shards';
import { recoverFromBackups } from '../../../scripts/recovery/recover-key';
import { DuplicateShareError, MixedSharesError, NotEnoughSharesError, TamperedBackupError, WrongRecoveryKeyError } from '../../../scripts/recovery/errors';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const KEY = KNOWN_KEYS[0];
const secret = () => Buffer.from(KEY.privateKey.slice(2), 'hex');
type Pair = { publicKey: KeyObject; privateKey: KeyObject };

describe('M-of-N recovery shards', () => {
  let holders: Pair[];
  let outsider: Pair;
  let shards: ShardEnvelope[];
  beforeAll(async () => {
    const pairs = await Promise.all(Array.from({ length: 5 }, () => generateRecoveryKeyPair()));
    outsider = pairs[0]!;
    holders = pairs.slice(1);
    shards = await splitPrivateKey(secret(), holders.map((h) => h.publicKey), 2, 'key-1', new Date('2026-01-02T03:04:05Z'));
  }, 60_000);
  const privateKeys = (...indices: number[]) => indices.map((i) => holders[i - 1]!.privateKey);

  describe('splitPrivateKey', () => {
    it('makes one shard per recovery key, indexed 1..N, each naming M, N, the address and its recovery key', () => {
      expect(shards.map((s) => s.index)).toEqual([1, 2, 3, 4]);
      shards.forEach((shard, i) => {
        expect(shard).toMatchObject({ format: 'kms-eth-signer/recovery-shard', version: 2, keyId: 'key-1', address: KEY.address, threshold: 2, shares: 4, createdAt: '2026-01-02T03:04:05.000Z' });
        expect(shard.recoveryKeySha256).toBe(fingerprint(holders[i]!.publicKey));
      });
      expect(new Set(shards.map((s) => s.backupId)).size).toBe(1);
      expect(JSON.stringify(shards)).not.toContain(KEY.privateKey.slice(2));
    });

    it('recovers the key from every M-subset of shards, in any order of shards and of private keys', async () => {
      await fc.assert(
        fc.asyncProperty(fc.shuffledSubarray([1, 2, 3, 4], { minLength: 2 }), fc.boolean(), async (indices, reverseKeys) => {
          const keys = privateKeys(...indices);
          const recovered = await recoverFromBackups(indices.map((i) => shards[i - 1]!), reverseKeys ? [...keys].reverse() : keys);
          expect(recovered.secret).toEqual(secret());
          expect(recovered.used.slice().sort()).toEqual([...indices].sort());
        }),
        { numRuns: 20 },
      );
    });

    it('gives shares of which fewer than M reveal nothing of the key (one share combined with a forged one gives another key)', async () => {
      const share = openShard(shards[0]!, holders[0]!.privateKey);
      const forged = Buffer.alloc(33, 7);
      const wrong = Buffer.from(await combine([new Uint8Array(share), new Uint8Array(forged)]));
      expect(wrong).not.toEqual(secret());
      expect(share.subarray(0, 32)).not.toEqual(secret());
    });

    it('refuses thresholds that cannot work or would let one holder recover alone', () => {
      expect(() => checkThreshold(3, 2)).toThrow(/threshold 3 is more than the 2 recovery key/);
      expect(() => checkThreshold(1, 3)).toThrow(/any one holder recover the key alone/);
      expect(() => checkThreshold(0, 3)).toThrow(/whole number from 1/);
      expect(() => checkThreshold(1.5, 3)).toThrow(/whole number from 1/);
      expect(() => checkThreshold(2, 256)).toThrow(/1 to 255 recovery keys/);
      expect(() => checkThreshold(1, 1)).not.toThrow();
    });
  });

  describe('refusals (each its own error, and no key returned)', () => {
    it('fewer than M shards with their keys: NotEnoughSharesError', async () => {
      await expect(recoverFromBackups([shards[0]!], privateKeys(1))).rejects.toThrow(NotEnoughSharesError);
      await expect(recoverFromBackups([shards[0]!], privateKeys(1))).rejects.toThrow(/needs 2 of its 4 shards, and only shard 1 can be opened with the keys given/);
      // Two shards, but the key of only one of them.
      await expect(recoverFromBackups([shards[0]!, shards[2]!], privateKeys(1))).rejects.toThrow(NotEnoughSharesError);
    });

    it('the same shard twice: DuplicateShareError', async () => {
      await expect(recoverFromBackups([shards[1]!, shards[1]!], privateKeys(2))).rejects.toThrow(DuplicateShareError);
      await expect(recoverFromBackups([shards[1]!, shards[1]!], privateKeys(2))).rejects.toThrow(/shard 2 was given twice/);
    });

    it('shards of another key, another threshold, or another backup run: MixedSharesError', async () => {
      const otherKey = await splitPrivateKey(Buffer.from(KNOWN_KEYS[1].privateKey.slice(2), 'hex'), holders.map((h) => h.publicKey), 2, 'key-2');
      await expect(recoverFromBackups([shards[0]!, otherKey[1]!], privateKeys(1, 2))).rejects.toThrow(MixedSharesError);
      await expect(recoverFromBackups([shards[0]!, otherKey[1]!], privateKeys(1, 2))).rejects.toThrow(/not all from one backup: shard 1 has keyId "key-1", shard 2 has "key-2"/);
      const otherThreshold = await splitPrivateKey(secret(), holders.map((h) => h.publicKey), 3, 'key-1');
      await expect(recoverFromBackups([shards[0]!, otherThreshold[1]!, otherThreshold[2]!], privateKeys(1, 2, 3))).rejects.toThrow(/threshold 2, shard 2 has 3/);
      const sameKeyAgain = await splitPrivateKey(secret(), holders.map((h) => h.publicKey), 2, 'key-1', new Date('2026-01-02T03:04:05Z'));
      await expect(recoverFromBackups([shards[0]!, sameKeyAgain[1]!], privateKeys(1, 2))).rejects.toThrow(/backupId/);
    });

    it('a tampered shard (ciphertext, or an authenticated header field): TamperedBackupError', async () => {
      const bytes = Buffer.from(shards[2]!.ciphertext, 'base64');
      bytes.writeUInt8(bytes.readUInt8(5) ^ 1, 5);
      const flipped = { ...shards[2]!, ciphertext: bytes.toString('base64') };
      await expect(recoverFromBackups([shards[0]!, flipped], privateKeys(1, 3))).rejects.toThrow(TamperedBackupError);
      const relabelled = { ...shards[2]!, index: 4 };
      await expect(recoverFromBackups([shards[0]!, relabelled], privateKeys(1, 3))).rejects.toThrow(/altered or corrupted/);
    });

    it('a wrong private key (one that opens none of the shards given): WrongRecoveryKeyError', async () => {
      await expect(recoverFromBackups([shards[0]!, shards[2]!], [outsider.privateKey, ...privateKeys(1, 3)])).rejects.toThrow(WrongRecoveryKeyError);
      await expect(recoverFromBackups([shards[0]!, shards[2]!], privateKeys(1, 2))).rejects.toThrow(/opens none of the shards given/);
      expect(() => openShard(shards[0]!, outsider.privateKey)).toThrow(/shard 1 of 4 is encrypted to recovery key/);
    });

    it('shares that decrypt but do not combine to the address: TamperedBackupError', async () => {
      const headers = [shards[0]!, shards[1]!];
      const shares = [openShard(shards[0]!, holders[0]!.privateKey), Buffer.alloc(33, 9)];
      await expect(combineShares(headers, shares)).rejects.toThrow(new RegExp(`not the key of ${KEY.address}`));
    });
  });

  describe('parseBackup', () => {
    it('reads a shard back to the same object', () => {
      expect(parseBackup(JSON.stringify(shards[0]))).toEqual(shards[0]);
    });

    it.each([
      ['an index beyond N', { index: 5 }, /index must be a whole number from 1 to shares \(4\), got 5/],
      ['a threshold of 1', { threshold: 1 }, /threshold must be a whole number from 2/],
      ['a threshold given as text', { threshold: '2' }, /threshold .* got "2"/],
      ['a short share', { ciphertext: Buffer.alloc(32).toString('base64') }, /ciphertext must be 33 bytes/],
      ['a lower-case address', { address: KEY.address.toLowerCase() }, /not an EIP-55 address/],
      ['a nested object as key id', { keyId: { a: 1 } }, /keyId is missing/],
      ['a future version', { version: 3 }, /its version is 3; this tool reads versions 1 \(one recovery key\) and 2/],
      ['another format', { format: 'x' }, /its format is "x"/],
    ])('rejects %s', (_label, change, message) => {
      expect(() => parseBackup(JSON.stringify({ ...shards[0], ...change }))).toThrow(message);
    });
  });
});
