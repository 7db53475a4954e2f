// Backups made before M-of-N shards (envelope version 1, one recovery key) must stay recoverable forever:
// this fixture was written by the version-1 code and is never regenerated.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverCommand } from '../../../scripts/recovery/recover-command';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const FIXTURE = join(__dirname, '../../fixtures/backup-v1');
const SHARD = join(FIXTURE, '1234abcd-12ab-34cd-56ef-1234567890ab', 'recovery_shard-0.txt');
const KEY = KNOWN_KEYS[2];

describe('recover (a stored version-1 backup)', () => {
  it('recovers the key of a single-recovery-key backup written before M-of-N shards', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fixture-v1-')), 'recovered.hex');
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
    const code = await recoverCommand(['--backup', SHARD, '--recovery-private-key', join(FIXTURE, 'recovery-private.pem'), '--out', out], io);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Address: ${KEY.address}`);
    expect(readFileSync(out, 'utf8').trim()).toBe(KEY.privateKey);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});
