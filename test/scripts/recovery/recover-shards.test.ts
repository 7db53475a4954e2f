// npm run recover with M-of-N shards, and the recovery ceremony (--decrypt-share, --combine), as a user runs them.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoveryKeypairCommand } from '../../../scripts/recovery/keypair-command';
import { recoverCommand } from '../../../scripts/recovery/recover-command';
import { parseRecoveryPublicKey } from '../../../scripts/recovery/recovery-key';
import { sealPrivateKey } from '../../../scripts/recovery/envelope';
import { splitPrivateKey } from '../../../scripts/recovery/shards';
import { storeBackup, storeBackups } from '../../../scripts/recovery/backup-store';
import { KMSClient } from '@aws-sdk/client-kms';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { mockKms } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[1];

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe('recover (M-of-N shards) and the recovery ceremony', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recover-shards-'));
  const keys = join(dir, 'keys');
  const priv = (name: string) => join(keys, `${name}-private.pem`);
  const pub = (name: string) => join(keys, `${name}-public.der`);
  const shard = (keyId: string, i: number) => join(dir, 'backups', keyId, `recovery_shard-${i}.txt`);
  let n = 0;
  const newOut = () => join(dir, `out-${++n}.hex`);

  beforeAll(async () => {
    for (const name of ['alice', 'bob', 'carol', 'mallory']) expect(await recoveryKeypairCommand(['--out-dir', keys, '--name', name], capture().io)).toBe(0);
    const { out, io } = capture();
    expect(await recoveryKeypairCommand(['--out-dir', keys, '--ephemeral'], io)).toBe(0);
    expect(out.stdout).toMatch(/One-time ceremony key pair written \(fingerprint sha256:[0-9a-f]{64}\)/);
    expect(out.stdout).toContain('--decrypt-share');
    const publicKeys = ['alice', 'bob', 'carol'].map((name) => parseRecoveryPublicKey(readFileSync(pub(name)), name).key);
    const secret = Buffer.from(KEY.privateKey.slice(2), 'hex');
    await storeBackups({ kind: 'dir', dir: join(dir, 'backups') }, await splitPrivateKey(secret, publicKeys, 2, 'key-a'));
    await storeBackups({ kind: 'dir', dir: join(dir, 'backups') }, await splitPrivateKey(secret, publicKeys, 2, 'key-b'));
    await storeBackup({ kind: 'dir', dir: join(dir, 'backups') }, sealPrivateKey(secret, publicKeys[0]!, 'key-v1'));
  }, 120_000);

  it('recovers a 2-of-3 backup from shards 3 and 1, with the private keys in another order than the shards', async () => {
    const { out, io } = capture();
    const file = newOut();
    const code = await recoverCommand(['--backup', shard('key-a', 3), '--backup', shard('key-a', 1), '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('carol'), '--out', file], io);
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    expect(out.stdout).toContain('from shards 3, 1 (2 of 3 needed)');
    expect(out.stdout).toContain(`Address: ${KEY.address}`);
    expect(out.stdout).toContain('Not compared with a KMS key (offline)');
    expect(readFileSync(file, 'utf8').trim()).toBe(KEY.privateKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  async function refuses(argv: string[], message: RegExp): Promise<void> {
    const { out, io } = capture();
    const file = newOut();
    expect(await recoverCommand([...argv, '--out', file], io)).toBe(1);
    expect(out.stderr).toMatch(message);
    expect(out.stderr).toMatch(/Nothing was written/);
    expect(out.stdout).not.toContain('Address:');
    expect(() => statSync(file)).toThrow();
  }

  it('refuses fewer than M shards', () =>
    refuses(['--backup', shard('key-a', 2), '--recovery-private-key', priv('bob')], /NotEnoughSharesError: .*needs 2 of its 3 shards, and only shard 2 can be opened/));

  it('refuses the same shard given twice', () =>
    refuses(['--backup', shard('key-a', 2), '--backup', shard('key-a', 2), '--recovery-private-key', priv('bob')], /DuplicateShareError: .*shard 2 was given twice/));

  it('refuses shards of two different backups', () =>
    refuses(['--backup', shard('key-a', 1), '--backup', shard('key-b', 2), '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('bob')], /MixedSharesError: .*keyId "key-a", shard 2 has "key-b"/));

  it('refuses a version-1 backup mixed with shards', () =>
    refuses(['--backup', shard('key-v1', 0), '--backup', shard('key-a', 2), '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('bob')], /MixedSharesError: .*give it alone/));

  it('refuses a tampered shard', async () => {
    const tampered = join(dir, 'tampered.txt');
    const text = JSON.parse(readFileSync(shard('key-a', 3), 'utf8')) as Record<string, unknown>;
    writeFileSync(tampered, JSON.stringify({ ...text, address: KNOWN_KEYS[0].address }));
    // Changing the address in one shard makes it disagree with the others...
    await refuses(['--backup', shard('key-a', 1), '--backup', tampered, '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('carol')], /MixedSharesError/);
    // ...and changing the ciphertext fails authentication.
    const bytes = Buffer.from(text.ciphertext as string, 'base64');
    bytes.writeUInt8(bytes.readUInt8(0) ^ 0x80, 0);
    writeFileSync(tampered, JSON.stringify({ ...text, ciphertext: bytes.toString('base64') }));
    // The message names the file that failed, among the several given.
    await refuses(['--backup', shard('key-a', 1), '--backup', tampered, '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('carol')], /TamperedBackupError: .*\/tampered\.txt: it was altered or corrupted/);
  });

  it('refuses a wrong private key, naming that it opens none of the shards', () =>
    refuses(['--backup', shard('key-a', 1), '--backup', shard('key-a', 3), '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('mallory')], /WrongRecoveryKeyError: .*opens none of the shards given/));

  it('refuses a file far larger than any backup without parsing it', async () => {
    const huge = join(dir, 'huge.txt');
    writeFileSync(huge, ' '.repeat(70_000));
    await refuses(['--backup', huge, '--backup', shard('key-a', 1), '--recovery-private-key', priv('alice')], /huge\.txt: it is 70000 bytes, more than a backup/);
  });

  it('refuses a wrong private key for a version-1 backup', () =>
    refuses(['--backup', shard('key-v1', 0), '--recovery-private-key', priv('bob')], /WrongRecoveryKeyError: .*wrong recovery key/));

  it('checks the combined key against the KMS key with --kms-key-id: exit 9 on a mismatch, nothing written', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const { out, io } = capture();
    const file = newOut();
    const argv = ['--backup', shard('key-a', 1), '--backup', shard('key-a', 2), '--recovery-private-key', priv('alice'), '--recovery-private-key', priv('bob'), '--out', file, '--kms-key-id', 'alias/x'];
    expect(await recoverCommand(argv, io, { kms: new KMSClient({ region: 'us-east-1' }) })).toBe(9);
    expect(out.stderr).toContain(`ADDRESS MISMATCH: the backup holds ${KEY.address}, KMS key alias/x has ${KNOWN_KEYS[0].address}`);
    expect(() => statSync(file)).toThrow();
    mockKms(KEY.privateKey);
    const ok = capture();
    expect(await recoverCommand(argv, ok.io, { kms: new KMSClient({ region: 'us-east-1' }) })).toBe(0);
    expect(ok.out.stdout).toContain(`addresses match: backup ${KEY.address} = KMS ${KEY.address}`);
  });

  describe('ceremony', () => {
    const share = (i: number) => join(dir, `share-${i}.json`);
    const decrypt = async (i: number, holder: string, to = pub('operator-one-time'), out = share(i)) => {
      const c = capture();
      return { code: await recoverCommand(['--decrypt-share', '--backup', shard('key-a', i), '--recovery-private-key', priv(holder), '--to', to, '--out', out], c.io), ...c.out };
    };

    it('each holder decrypts their own shard into a 0600 share file for the operator; the operator combines two', async () => {
      const first = await decrypt(1, 'alice');
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/Share 1 of 3 \(2 needed\) of KMS key key-a \(0x.*\) written to .*share-1\.json,\s+encrypted to the operator key sha256:[0-9a-f]{64}/);
      expect((await decrypt(3, 'carol')).code).toBe(0);
      expect(statSync(share(1)).mode & 0o777).toBe(0o600);
      expect(readFileSync(share(1), 'utf8')).not.toContain(KEY.privateKey.slice(2));

      const { out, io } = capture();
      const file = newOut();
      expect(await recoverCommand(['--combine', '--share', share(3), '--share', share(1), '--operator-private-key', priv('operator-one-time'), '--out', file], io)).toBe(0);
      expect(out.stdout).toContain(`Address: ${KEY.address}`);
      expect(readFileSync(file, 'utf8').trim()).toBe(KEY.privateKey);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    it('a holder cannot decrypt another holder\'s shard, and nothing is written', async () => {
      const result = await decrypt(2, 'alice', pub('operator-one-time'), join(dir, 'never-share.json'));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/WrongRecoveryKeyError: .*shard 2 of 3 is encrypted to recovery key/);
      expect(() => statSync(join(dir, 'never-share.json'))).toThrow();
    });

    it('refuses share files under another operator key, too few share files, and the same share twice', async () => {
      expect((await decrypt(2, 'bob', pub('mallory'), join(dir, 'share-2-mallory.json'))).code).toBe(0);
      const cases: Array<[string[], RegExp]> = [
        [['--share', share(1), '--share', join(dir, 'share-2-mallory.json')], /WrongRecoveryKeyError: .*share 2 is encrypted to another operator key/],
        [['--share', share(1)], /NotEnoughSharesError/],
        [['--share', share(1), '--share', share(1)], /DuplicateShareError/],
        [['--share', shard('key-a', 1), '--share', share(3)], /recovery_shard-1\.txt: this is not a share file/],
      ];
      for (const [argv, message] of cases) {
        const { out, io } = capture();
        const file = newOut();
        expect(await recoverCommand(['--combine', ...argv, '--operator-private-key', priv('operator-one-time'), '--out', file], io)).toBe(1);
        expect(out.stderr).toMatch(message);
        expect(() => statSync(file)).toThrow();
      }
    });

    it('explains the options each step needs', async () => {
      const a = capture();
      expect(await recoverCommand(['--decrypt-share', '--backup', shard('key-a', 1)], a.io)).toBe(2);
      expect(a.out.stderr).toMatch(/--decrypt-share needs one --backup SHARD/);
      const b = capture();
      expect(await recoverCommand(['--combine', '--share', share(1)], b.io)).toBe(2);
      expect(b.out.stderr).toMatch(/--combine needs/);
      const c = capture();
      expect(await recoverCommand(['--combine', '--decrypt-share'], c.io)).toBe(2);
      expect(c.out.stderr).toMatch(/separate steps/);
    });
  });
});
