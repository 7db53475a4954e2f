// Item 6: a transient failure part-way through an import never blocks the re-run. The first run fails on a
// real local KMS (one call made to fail, as a dropped connection would); the re-run is the command the
// failure printed, run as a user runs it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { main as importKey } from '../../../scripts/import-key/cli';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { REPO_ROOT, runProcess, runScript } from '../../helpers/cli-process';
import { captureIo } from './cli-io';

jest.setTimeout(120_000);

const DEV = KNOWN_KEYS[0];
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
let kms: LocalKms;
let client: KMSClient;
let dir: string;
let recoveryPublicKey: string;

beforeAll(async () => {
  kms = await startLocalKms();
  client = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: CREDENTIALS });
  dir = mkdtempSync(join(tmpdir(), 'rerun-'));
  recoveryPublicKey = join(dir, 'recovery-public.der');
  writeFileSync(recoveryPublicKey, generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ type: 'spki', format: 'der' }));
  writeFileSync(join(dir, 'dev.hex'), DEV.privateKey, { mode: 0o600 });
});
afterAll(async () => {
  client?.destroy();
  await kms?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url });

/** A client of the local KMS whose first call of `operation` fails as a dropped connection does. */
function failingOnce(operation: string): KMSClient {
  const failing = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  let failed = false;
  failing.middlewareStack.add(
    (next, context) => async (args) => {
      if (!failed && context.commandName === `${operation}Command`) {
        failed = true;
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  return failing;
}

/** The first run, in-process, with one KMS call failing. */
async function firstRun(argv: string[], failing: string) {
  const broken = failingOnce(failing);
  const captured = captureIo('', () => broken);
  const code = await importKey(argv, captured.io);
  broken.destroy();
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

const pendingKey = async () =>
  (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }))).KeyMetadata?.Arn as string;

describe('re-running import-key after a transient failure', () => {
  it('--key-id with a backup written: the re-run reuses the matching backup and imports', async () => {
    const arn = await pendingKey();
    const backups = join(dir, 'backups-1');
    const argv = ['--key-file', join(dir, 'dev.hex'), '--key-id', arn, '--backup-public-key', recoveryPublicKey, '--backup-dir', backups];
    const first = await firstRun(argv, 'GetParametersForImport');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/Backup encrypted to the recovery key .* stored and read back/);
    expect(first.stderr).toContain(`npm run import-key -- --key-file ${join(dir, 'dev.hex')} --key-id ${arn}`);
    const backupFile = join(backups, arn.split('/').pop() as string, 'recovery_shard-0.txt');
    const written = readFileSync(backupFile, 'utf8');

    const again = await runScript('import-key.ts', argv, { env: env() });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Backup already stored by an earlier run of this import \(same key id, address and recovery keys\), kept as it is/);
    expect(readFileSync(backupFile, 'utf8')).toBe(written);
    expect(await new KmsSigner({ keyId: arn, client }).getAddress()).toBe(DEV.address);
  });

  it('--generate --create --alias: the printed command (with --key-file) reuses the key, the alias and the backup', async () => {
    const backups = join(dir, 'backups-2');
    const generated = join(dir, 'generated.pem');
    const first = await firstRun(['--generate', generated, '--create', '--alias', 'rerun-treasury', '--backup-public-key', recoveryPublicKey, '--backup-dir', backups], 'GetParametersForImport');
    expect(first.code).toBe(1);
    const printed = /^ {2}(npm run import-key -- .*)$/m.exec(first.stderr)?.[1];
    expect(printed).toBe(`npm run import-key -- --key-file ${generated} --create --alias rerun-treasury --backup-public-key ${recoveryPublicKey} --backup-dir ${backups}`);

    const again = await runProcess('bash', ['-c', printed as string], REPO_ROOT, { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/named rerun-treasury by an earlier run of this command/);
    expect(again.stdout).toMatch(/Backup already stored by an earlier run of this import/);
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: 'alias/rerun-treasury' }));
    expect(KeyMetadata?.KeyState).toBe('Enabled');
    expect(readdirSync(backups)).toEqual([KeyMetadata?.KeyId]);
  });

  it('after the import itself succeeded (the proof failed): the re-run confirms the addresses match instead of exit 8', async () => {
    const arn = await pendingKey();
    const argv = ['--key-file', join(dir, 'dev.hex'), '--key-id', arn];
    const first = await firstRun(argv, 'GetPublicKey');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/Imported the key material/);
    const again = await runScript('import-key.ts', argv, { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already holds this key \(an earlier run imported it\); nothing is imported again/);
    expect(again.stdout).toContain(`addresses match: key file ${DEV.address} = KMS key ${DEV.address}`);
  });

  it('a different backup where this one would go is never overwritten: exit 10, says why and what to do', async () => {
    const arn = await pendingKey();
    const backups = join(dir, 'backups-3');
    const otherRecovery = join(dir, 'other-recovery.der');
    writeFileSync(otherRecovery, generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ type: 'spki', format: 'der' }));
    const base = ['--key-file', join(dir, 'dev.hex'), '--key-id', arn, '--backup-dir', backups];
    await firstRun([...base, '--backup-public-key', otherRecovery], 'GetParametersForImport');
    const again = await runScript('import-key.ts', [...base, '--backup-public-key', recoveryPublicKey], { env: env() });
    expect(again.code).toBe(10);
    expect(again.stderr).toMatch(/a different backup is already stored where this one goes \(.*recovery_shard-0.txt is encrypted to another recovery key than .*recovery-public.der\); a backup is never overwritten.*mv /);
  });

  it('with M-of-N shards: the re-run reuses all N shards of the earlier run', async () => {
    const arn = await pendingKey();
    const second = join(dir, 'recovery-public-2.der');
    writeFileSync(second, generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ type: 'spki', format: 'der' }));
    const backups = join(dir, 'backups-shards');
    const argv = ['--key-file', join(dir, 'dev.hex'), '--key-id', arn, '--backup-public-key', recoveryPublicKey, '--backup-public-key', second, '--threshold', '2', '--backup-dir', backups];
    expect((await firstRun(argv, 'GetParametersForImport')).code).toBe(1);
    const keyFolder = join(backups, arn.split('/').pop() as string);
    const before = readdirSync(keyFolder).map((name) => readFileSync(join(keyFolder, name), 'utf8'));
    const again = await runScript('import-key.ts', argv, { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Backup already stored by an earlier run of this import[^\n]*\n {2}\S+recovery_shard-1.txt\n {2}\S+recovery_shard-2.txt\n/);
    expect(readdirSync(keyFolder).map((name) => readFileSync(join(keyFolder, name), 'utf8'))).toEqual(before);
  });
});
