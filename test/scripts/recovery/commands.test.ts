import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { Wallet } from 'ethers';
import { recoveryKeypairCommand } from '../../../scripts/recovery/keypair-command';
import { recoverCommand } from '../../../scripts/recovery/recover-command';
import { parseRecoveryPublicKey } from '../../../scripts/recovery/recovery-key';
import { sealPrivateKey } from '../../../scripts/recovery/envelope';
import { storeBackup } from '../../../scripts/recovery/backup-store';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { mockKms } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];

/** Captures what a command writes. */
function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe('recovery-keypair and recover commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recovery-'));
  let backup: string;

  beforeAll(async () => {
    const { out, io } = capture();
    expect(await recoveryKeypairCommand(['--out-dir', join(dir, 'keys'), '--der'], io)).toBe(0);
    expect(out.stdout).toMatch(/OFFLINE/);
    const publicKey = parseRecoveryPublicKey(readFileSync(join(dir, 'keys', 'recovery-public.der')), 'recovery-public.der');
    backup = await storeBackup({ kind: 'dir', dir: join(dir, 'backups') }, sealPrivateKey(Buffer.from(KEY.privateKey.slice(2), 'hex'), publicKey.key, 'key-1'));
  });

  it('writes the private key 0600 (PEM and DER), the public key as 550-byte DER and 1100-character hex', () => {
    const keys = join(dir, 'keys');
    expect(statSync(join(keys, 'recovery-private.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(keys, 'recovery-private.der')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keys, 'recovery-public.der'))).toHaveLength(550);
    expect(readFileSync(join(keys, 'recovery-public.hex'), 'utf8')).toMatch(/^[0-9a-f]{1100}$/);
    expect(parseRecoveryPublicKey(readFileSync(join(keys, 'recovery-public.hex')), 'hex').der).toEqual(readFileSync(join(keys, 'recovery-public.der')));
  });

  it('never overwrites an existing recovery key', async () => {
    const { out, io } = capture();
    expect(await recoveryKeypairCommand(['--out-dir', join(dir, 'keys')], io)).toBe(1);
    expect(out.stderr).toMatch(/already exists/);
  });

  it('recovers the key as hex that MetaMask imports, in a new 0600 file, and warns', async () => {
    const { out, io } = capture();
    const file = join(dir, 'recovered.hex');
    expect(await recoverCommand(['--backup', backup, '--recovery-private-key', join(dir, 'keys', 'recovery-private.pem'), '--out', file], io)).toBe(0);
    expect(out.stdout).toContain(`Address: ${KEY.address}`);
    expect(out.stdout).toMatch(/WARNING: this file can sign transactions/);
    expect(readFileSync(file, 'utf8').trim()).toBe(KEY.privateKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('recovers the key as PKCS#8 PEM that OpenSSL reads', async () => {
    const file = join(dir, 'recovered.pem');
    expect(await recoverCommand(['--backup', backup, '--recovery-private-key', join(dir, 'keys', 'recovery-private.pem'), '--out', file, '--format', 'pem'], capture().io)).toBe(0);
    const jwk = createPrivateKey(readFileSync(file)).export({ format: 'jwk' });
    expect(new Wallet(`0x${Buffer.from(jwk.d!, 'base64url').toString('hex')}`).address).toBe(KEY.address);
  });

  it('checks the address against the KMS key and exits 9 on a mismatch, writing nothing', async () => {
    mockKms(KNOWN_KEYS[1].privateKey);
    const { out, io } = capture();
    const file = join(dir, 'never.hex');
    const code = await recoverCommand(['--backup', backup, '--recovery-private-key', join(dir, 'keys', 'recovery-private.pem'), '--out', file, '--kms-key-id', 'alias/x'], io, { kms: new KMSClient({ region: 'us-east-1' }) });
    expect(code).toBe(9);
    expect(out.stderr).toContain(`ADDRESS MISMATCH: the backup holds ${KEY.address}, KMS key alias/x has ${KNOWN_KEYS[1].address}`);
    expect(() => statSync(file)).toThrow();
  });

  it('refuses the wrong recovery key and an existing output file', async () => {
    const other = join(dir, 'other');
    await recoveryKeypairCommand(['--out-dir', other], capture().io);
    const wrong = capture();
    expect(await recoverCommand(['--backup', backup, '--recovery-private-key', join(other, 'recovery-private.pem'), '--out', join(dir, 'x.hex')], wrong.io)).toBe(1);
    expect(wrong.out.stderr).toMatch(/wrong recovery key/);
    const existing = join(dir, 'existing.hex');
    writeFileSync(existing, 'keep');
    const exists = capture();
    expect(await recoverCommand(['--backup', backup, '--recovery-private-key', join(dir, 'keys', 'recovery-private.pem'), '--out', existing], exists.io)).toBe(1);
    expect(exists.out.stderr).toMatch(/already exists/);
    expect(readFileSync(existing, 'utf8')).toBe('keep');
  });

  it('explains its usage when arguments are missing', async () => {
    const { out, io } = capture();
    expect(await recoverCommand(['--backup', backup], io)).toBe(2);
    expect(out.stderr).toMatch(/--recovery-private-key and --out are required/);
  });
});
