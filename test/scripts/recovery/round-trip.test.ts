// Backup and recovery end to end: import with a backup (local directory, and S3 through s3rver), delete the KMS
// key, recover the private key with the offline recovery key, import it again into a new key: same address,
// and anvil mines what the new key signs. Real local KMS, real S3-compatible server, real chain.
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { parseEther, Wallet } from 'ethers';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { main as importKey } from '../../../scripts/import-key/cli';
import type { CliIo } from '../../../scripts/import-key/cli-io';
import { recoveryKeypairCommand } from '../../../scripts/recovery/keypair-command';
import { recoverCommand } from '../../../scripts/recovery/recover-command';
import { DEV_ACCOUNTS } from '../../../scripts/local-chain';
import { startLocalStack, type LocalStack } from '../../../scripts/local-stack/stack';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { startLocalS3, type LocalS3 } from '../../helpers/s3-server';

const KEY = KNOWN_KEYS[2];
const quiet = { stdout: () => undefined, stderr: () => undefined };

describe('backup during import, then recovery after the KMS key is deleted', () => {
  let stack: LocalStack;
  let s3: LocalS3;
  const dir = mkdtempSync(join(tmpdir(), 'round-trip-'));
  const recoveryDir = join(dir, 'recovery');
  const holdersDir = join(dir, 'holders');
  const holderPublicDir = join(dir, 'holder-public-keys');

  beforeAll(async () => {
    [stack, s3] = await Promise.all([startLocalStack(), startLocalS3(['eth-key-backups'])]);
    expect(await recoveryKeypairCommand(['--out-dir', recoveryDir], quiet)).toBe(0);
    // Three holders of a 2-of-3 backup; their public keys also sit in a directory, one file per holder.
    for (const name of ['holder1', 'holder2', 'holder3']) {
      expect(await recoveryKeypairCommand(['--out-dir', holdersDir, '--name', name], quiet)).toBe(0);
      mkdirSync(holderPublicDir, { recursive: true });
      copyFileSync(join(holdersDir, `${name}-public.der`), join(holderPublicDir, `${name}.der`));
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stack.close(), s3.close()]);
  });

  const externalKey = async () =>
    (await stack.kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }))).KeyMetadata!;
  const state = async (keyId: string) => (await stack.kmsClient.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;

  async function runImport(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdin: (async function* () {})(),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      kmsClient: () => stack.kmsClient,
      s3Client: () => s3.client,
    };
    return { code: await importKey(argv, io), stdout, stderr };
  }

  async function signsOnAnvil(keyId: string, address: string): Promise<void> {
    await (await new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider).sendTransaction({ to: address, value: parseEther('1') })).wait();
    const signer = new KmsSigner({ keyId, client: stack.kmsClient, chainId: stack.anvil.chainId }, stack.anvil.provider);
    const receipt = await (await signer.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 1n })).wait();
    expect(receipt?.from).toBe(address);
  }

  it.each([
    ['a local directory', (keyId: string) => ['--backup-dir', join(dir, 'backups')] as const, (keyId: string) => join(dir, 'backups', keyId, 'recovery_shard-0.txt')],
    ['S3 (SSE-KMS)', () => ['--backup-bucket', 'eth-key-backups', '--backup-kms-key-arn', 'arn:aws:kms:us-east-1:111122223333:key/bucket-key'] as const, (keyId: string) => `s3://eth-key-backups/${keyId}/recovery_shard-0.txt`],
  ])('round-trips through %s: same address, and the re-imported key signs a transaction anvil mines', async (_label, backupArgs, location) => {
    const keyFile = join(dir, `key-${Date.now()}.hex`);
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const first = await externalKey();
    const imported = await runImport(['--key-file', keyFile, '--key-id', first.Arn!, '--backup-public-key', join(recoveryDir, 'recovery-public.hex'), ...backupArgs(first.KeyId!)]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`stored and read back: ${location(first.KeyId!)}`);
    expect(imported.stdout.indexOf('stored and read back')).toBeLessThan(imported.stdout.indexOf('Imported the key material'));

    await stack.kmsClient.send(new ScheduleKeyDeletionCommand({ KeyId: first.KeyId, PendingWindowInDays: 7 }));
    expect(await state(first.KeyId!)).toBe('PendingDeletion');

    const recovered = join(dir, `recovered-${first.KeyId}.hex`);
    const out = { text: '' };
    const recoverIo = { stdout: (t: string) => void (out.text += t), stderr: (t: string) => void (out.text += t) };
    const code = await recoverCommand(['--backup', location(first.KeyId!), '--recovery-private-key', join(recoveryDir, 'recovery-private.pem'), '--out', recovered], recoverIo, { kms: stack.kmsClient, s3: s3.client });
    expect(code).toBe(0);
    expect(out.text).toContain(`Address: ${KEY.address}`);
    expect(readFileSync(recovered, 'utf8').trim()).toBe(KEY.privateKey);

    const second = await externalKey();
    const reimported = await runImport(['--key-file', recovered, '--key-id', second.Arn!]);
    expect(reimported.code).toBe(0);
    expect(reimported.stdout).toContain(`addresses match: key file ${KEY.address} = KMS key ${KEY.address}`);
    await signsOnAnvil(second.KeyId!, KEY.address);
  }, 60_000);

  it.each([
    [
      'a local directory (the holders\' keys given one by one)',
      () => ['--backup-public-key', join(holdersDir, 'holder1-public.der'), '--backup-public-key', join(holdersDir, 'holder2-public.hex'), '--backup-public-key', join(holdersDir, 'holder3-public.der'), '--backup-dir', join(dir, 'shards')],
      (keyId: string, i: number) => join(dir, 'shards', keyId, `recovery_shard-${i}.txt`),
    ],
    [
      'S3 (the holders\' keys given as a directory)',
      () => ['--backup-public-key', holderPublicDir, '--backup-bucket', 'eth-key-backups'],
      (keyId: string, i: number) => `s3://eth-key-backups/${keyId}/recovery_shard-${i}.txt`,
    ],
  ])('round-trips a 2-of-3 backup through %s: recovered from shards 1 and 3, re-imported, same address, anvil mines', async (_label, backupArgs, location) => {
    const keyFile = join(dir, `key-${Date.now()}.hex`);
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const first = await externalKey();
    const imported = await runImport(['--key-file', keyFile, '--key-id', first.Arn!, '--threshold', '2', ...backupArgs()]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('Backup split into 3 shards, any 2 of which recover the key');
    for (const i of [1, 2, 3]) expect(imported.stdout).toContain(`shard ${i} for `);
    for (const i of [1, 2, 3]) expect(imported.stdout).toContain(location(first.KeyId!, i));
    expect(imported.stdout.indexOf('read back')).toBeLessThan(imported.stdout.indexOf('Imported the key material'));

    await stack.kmsClient.send(new ScheduleKeyDeletionCommand({ KeyId: first.KeyId, PendingWindowInDays: 7 }));
    expect(await state(first.KeyId!)).toBe('PendingDeletion');

    const recovered = join(dir, `recovered-${first.KeyId}.hex`);
    const out = { text: '' };
    const recoverIo = { stdout: (t: string) => void (out.text += t), stderr: (t: string) => void (out.text += t) };
    const code = await recoverCommand(
      ['--backup', location(first.KeyId!, 1), '--backup', location(first.KeyId!, 3), '--recovery-private-key', join(holdersDir, 'holder3-private.pem'), '--recovery-private-key', join(holdersDir, 'holder1-private.pem'), '--out', recovered],
      recoverIo,
      { kms: stack.kmsClient, s3: s3.client },
    );
    expect(out.text).toContain(`Address: ${KEY.address}`);
    expect(code).toBe(0);
    expect(readFileSync(recovered, 'utf8').trim()).toBe(KEY.privateKey);

    const second = await externalKey();
    const reimported = await runImport(['--key-file', recovered, '--key-id', second.Arn!]);
    expect(reimported.code).toBe(0);
    expect(reimported.stdout).toContain(`addresses match: key file ${KEY.address} = KMS key ${KEY.address}`);
    await signsOnAnvil(second.KeyId!, KEY.address);
  }, 60_000);

  it.each([
    ['no --threshold with several recovery keys', ['--backup-public-key', 'H1', '--backup-public-key', 'H2'], /--threshold M is required with 2 recovery keys/],
    ['a threshold above N', ['--backup-public-key', 'H1', '--backup-public-key', 'H2', '--threshold', '3'], /--threshold 3: the threshold 3 is more than the 2 recovery key/],
    ['a threshold of 1 with several keys', ['--backup-public-key', 'H1', '--backup-public-key', 'H2', '--threshold', '1'], /any one holder recover the key alone/],
    ['a threshold that is not a number', ['--backup-public-key', 'H1', '--backup-public-key', 'H2', '--threshold', 'two'], /--threshold must be a whole number/],
    ['the same holder twice (DER and hex of one key)', ['--backup-public-key', 'H1', '--backup-public-key', 'H1HEX', '--threshold', '2'], /are the same recovery key: its holder would get two shards/],
    ['--threshold without recovery keys', ['--threshold', '2'], /need --backup-public-key/],
  ])('refuses %s before any KMS call (exit 2), importing and storing nothing', async (_label, args, message) => {
    const keyFile = join(dir, 'k3.hex');
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const key = await externalKey();
    const files = new Map([['H1', join(holdersDir, 'holder1-public.der')], ['H1HEX', join(holdersDir, 'holder1-public.hex')], ['H2', join(holdersDir, 'holder2-public.der')]]);
    const result = await runImport(['--key-file', keyFile, '--key-id', key.Arn!, ...args.map((a) => files.get(a) ?? a), ...(args.includes('H1') ? ['--backup-dir', join(dir, 'never-shards')] : [])]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(await state(key.KeyId!)).toBe('PendingImport');
    expect(() => readdirSync(join(dir, 'never-shards'))).toThrow();
  });

  it('imports nothing when one shard cannot be stored (it already exists): exit 10, no other shard written, key still PendingImport', async () => {
    const keyFile = join(dir, 'k4.hex');
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const key = await externalKey();
    const shardDir = join(dir, 'partial', key.KeyId!);
    mkdirSync(shardDir, { recursive: true });
    writeFileSync(join(shardDir, 'recovery_shard-2.txt'), 'someone else\'s');
    const result = await runImport(['--key-file', keyFile, '--key-id', key.Arn!, '--backup-public-key', holderPublicDir, '--threshold', '2', '--backup-dir', join(dir, 'partial')]);
    expect(result.code).toBe(10);
    expect(result.stderr).toMatch(/BackupFailedError: .*recovery_shard-2.txt already exists.*nothing was imported/);
    expect(result.stdout).not.toContain('Imported the key material');
    expect(readdirSync(shardDir)).toEqual(['recovery_shard-2.txt']);
    expect(await state(key.KeyId!)).toBe('PendingImport');
  });

  it('refuses an RSA-2048 recovery key or a private key given by mistake before any KMS call (exit 3), importing nothing', async () => {
    const keyFile = join(dir, 'k.hex');
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const small = join(dir, 'small.der');
    writeFileSync(small, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }));
    const key = await externalKey();
    for (const [file, message] of [[small, /the key is RSA-2048; generate an RSA-4096 key/], [join(recoveryDir, 'recovery-private.pem'), /PRIVATE key/]] as const) {
      const result = await runImport(['--key-file', keyFile, '--key-id', key.Arn!, '--backup-public-key', file, '--backup-dir', join(dir, 'never')]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(message);
    }
    expect(await state(key.KeyId!)).toBe('PendingImport');
    expect(() => readdirSync(join(dir, 'never'))).toThrow();
  });

  it('imports nothing when the backup cannot be stored (missing bucket): exit 10, key still PendingImport', async () => {
    const keyFile = join(dir, 'k2.hex');
    writeFileSync(keyFile, KEY.privateKey, { mode: 0o600 });
    const key = await externalKey();
    const result = await runImport(['--key-file', keyFile, '--key-id', key.Arn!, '--backup-public-key', join(recoveryDir, 'recovery-public.der'), '--backup-bucket', 'no-such-bucket']);
    expect(result.code).toBe(10);
    expect(result.stderr).toMatch(/BackupFailedError: The backup could not be stored and verified .* nothing was imported/);
    expect(result.stdout).not.toContain('Imported the key material');
    expect(await state(key.KeyId!)).toBe('PendingImport');
  });

  it('explains backup options that do not fit together (exit 2)', async () => {
    const result = await runImport(['--key-file', 'x', '--key-id', 'alias/x', '--backup-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/need --backup-public-key/);
  });
});
