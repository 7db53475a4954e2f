import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client, planBackup } from '../../../scripts/import-key/backup';
import { generateRecoveryKeyPair } from '../../../scripts/recovery/recovery-key';

describe('planBackup', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-backup-'));
  const keyFile = join(dir, 'holder.der');
  beforeAll(async () => {
    writeFileSync(keyFile, (await generateRecoveryKeyPair()).publicKey.export({ type: 'spki', format: 'der' }));
    mkdirSync(join(dir, 'empty'));
  }, 30_000);

  it('plans a single-key backup (M = N = 1) by default', async () => {
    const plan = await planBackup({ 'backup-public-key': [keyFile], 'backup-dir': dir });
    expect(plan).toMatchObject({ threshold: 1, target: { kind: 'dir', dir } });
    expect(plan?.recoveryKeys.map((r) => r.file)).toEqual([keyFile]);
  });

  it('writes to the bucket with the named AWS profile (a cross-account writer role)', async () => {
    const plan = await planBackup({ 'backup-public-key': [keyFile], 'backup-bucket': 'b', 'backup-profile': 'backup-writer' });
    expect(plan?.target).toEqual({ kind: 's3', bucket: 'b', profile: 'backup-writer' });
    expect(createS3Client('backup-writer').config.profile).toBe('backup-writer');
    expect(createS3Client().config.profile).toBeUndefined();
  });

  it.each([
    ['a profile for a directory', { 'backup-dir': dir, 'backup-profile': 'p' }, /--backup-profile goes with --backup-bucket/],
    ['a profile name with spaces', { 'backup-bucket': 'b', 'backup-profile': 'a profile; rm -rf' }, /--backup-profile must be the name of a profile/],
    ['an empty directory of recovery keys', { 'backup-dir': dir, 'backup-public-key': [join(dir, 'empty')] }, /holds no key files/],
  ])('refuses %s', async (_label, options, message) => {
    await expect(planBackup({ 'backup-public-key': [keyFile], ...options })).rejects.toThrow(message);
  });
});
