// npm run address and npm run import-key as a user runs them: child processes, argv, stdin, a terminal,
// environment variables, exit codes and output, against the local KMS over HTTP.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { cleanEnv, REPO_ROOT, runProcess, runScript } from '../../helpers/cli-process';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';

jest.setTimeout(60_000);

const [DEV, OTHER] = KNOWN_KEYS;
const MNEMONIC = 'test test test test test test test test test test test junk';
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

let kms: LocalKms;
let client: KMSClient;
let dir: string;
beforeAll(async () => {
  kms = await startLocalKms();
  client = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  dir = mkdtempSync(join(tmpdir(), 'commands-test-'));
});
afterAll(async () => {
  client?.destroy();
  await kms?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, contents: string): string {
  const path = join(dir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

async function signingKey(): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
  return KeyMetadata?.Arn as string;
}

describe('relative paths (item 5)', () => {
  it('resolve against the directory npm was started from (INIT_CWD), through a real npm run', async () => {
    const keys = join(dir, 'mykeys');
    mkdirSync(keys);
    writeFileSync(join(keys, 'mm.hex'), DEV.privateKey, { mode: 0o600 });
    const result = await runProcess('npm', ['--prefix', REPO_ROOT, 'run', '--silent', 'address', '--', '--key-file', 'mm.hex'], keys);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Address (as MetaMask shows it): ${DEV.address}`);
  });

  it('are printed absolute in errors', async () => {
    const result = await runScript('address.ts', ['--key-file', 'missing.hex'], { userDir: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`Cannot read the key from ${join(dir, 'missing.hex')}: ENOENT`);
  });
});

describe('--key-file - at a terminal (item 3)', () => {
  /** Runs the command on a pseudo-terminal (util-linux script), typing `input` once the prompt is shown. */
  function onTerminal(argv: string[], input: string): Promise<{ code: number | null; screen: string }> {
    const command = [join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), join(REPO_ROOT, 'scripts', 'address.ts'), ...argv].map((arg) => `'${arg}'`).join(' ');
    return new Promise((resolve) => {
      const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: REPO_ROOT, env: cleanEnv() });
      let screen = '';
      let typed = false;
      child.stdout.on('data', (chunk: Buffer) => {
        screen += chunk.toString();
        if (!typed && /input is hidden/.test(screen)) {
          typed = true;
          child.stdin.write(input);
        }
      });
      child.on('close', (code) => {
        child.stdin.destroy();
        resolve({ code, screen });
      });
    });
  }

  it('prompts, reads the pasted key without echoing it, and prints its address', async () => {
    const { code, screen } = await onTerminal(['--key-file', '-'], `${DEV.privateKey}\r`);
    expect(screen).toMatch(/Paste the private key .*input is hidden/);
    expect(screen).not.toContain(DEV.privateKey.slice(2, 20));
    expect(screen).toContain(DEV.address);
    expect(code).toBe(0);
  });

  it('reads a multi-line PEM block and a mnemonic the same way', async () => {
    const pem = `-----BEGIN EC PRIVATE KEY-----\r${Buffer.concat([Buffer.from('302e0201010420', 'hex'), Buffer.from(DEV.privateKey.slice(2), 'hex'), Buffer.from('a00706052b8104000a', 'hex')]).toString('base64')}\r-----END EC PRIVATE KEY-----\r`;
    const fromPem = await onTerminal(['--key-file', '-'], pem);
    const fromPhrase = await onTerminal(['--mnemonic', '-'], `${MNEMONIC}\r`);
    expect(fromPem).toMatchObject({ code: 0, screen: expect.stringContaining(DEV.address) });
    expect(fromPhrase).toMatchObject({ code: 0, screen: expect.stringContaining(DEV.address) });
    expect(fromPhrase.screen).not.toContain('test test');
  });

  it('still reads a pipe silently, with no prompt', async () => {
    const result = await runScript('address.ts', ['--key-file', '-'], { stdin: DEV.privateKey });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(DEV.address);
  });
});

describe('--expect-address (item 4)', () => {
  it('a different key: exit 9, the two addresses the right way round, the right advice, nothing sent', async () => {
    const result = await runScript('import-key.ts', ['--key-file', file('dev.hex', DEV.privateKey), '--key-id', 'alias/none', '--expect-address', OTHER.address], {
      env: { ...LOCAL_CREDENTIALS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url },
    });
    expect(result.code).toBe(9);
    expect(result.stderr).toContain(`The key gives ${DEV.address}, but --expect-address is ${OTHER.address}; nothing was sent to KMS`);
    expect(result.stderr).toMatch(/another account's key/);
    expect(result.stderr).not.toMatch(/--key-id names/);
  });

  it('for a mnemonic, points at --path', async () => {
    const result = await runScript('import-key.ts', ['--mnemonic', '-', '--key-id', 'alias/none', '--expect-address', OTHER.address], { stdin: MNEMONIC });
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(/at m\/44'\/60'\/0'\/0\/0 is another account.*--path/);
  });
});

describe('AWS region and credentials (item 7)', () => {
  const keyFileArgs = () => ['--key-file', file('dev7.hex', DEV.privateKey)];

  it('no credentials: exit 11 saying no credentials were found and how to provide them (not "access denied")', async () => {
    const result = await runScript('address.ts', [...keyFileArgs(), '--kms-key-id', 'alias/x'], { env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url } });
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/No AWS credentials were found.*aws configure/);
    expect(result.stderr).not.toMatch(/Access denied/i);
  });

  it('an unknown AWS_PROFILE: exit 11 naming the profile', async () => {
    const result = await runScript('address.ts', [...keyFileArgs(), '--kms-key-id', 'alias/x'], { env: { AWS_REGION: 'us-east-1', AWS_PROFILE: 'nosuch', AWS_ENDPOINT_URL_KMS: kms.url } });
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/AWS_PROFILE=nosuch.*aws configure list-profiles/);
  });

  it('no region: exit 11 with --region / AWS_REGION', async () => {
    const result = await runScript('import-key.ts', [...keyFileArgs(), '--key-id', 'alias/x'], { env: { ...LOCAL_CREDENTIALS, AWS_ENDPOINT_URL_KMS: kms.url } });
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/No AWS region is set. Give --region REGION, or export AWS_REGION/);
  });

  it('honours AWS_DEFAULT_REGION alone, as the AWS CLI does', async () => {
    const arn = await signingKey();
    const result = await runScript('address.ts', ['--kms-key-id', arn], { env: { ...LOCAL_CREDENTIALS, AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`KMS key ${arn}: 0x`);
  });
});

describe('backup.md: a PEM recovery public key (item 17)', () => {
  it('is accepted, and import-key says it read PEM and converted it to DER, with the fingerprint', async () => {
    const { generateKeyPairSync, createHash } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const pem = file('recovery-public.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
    const result = await runScript('import-key.ts', ['--key-file', file('dev17.hex', DEV.privateKey), '--key-id', KeyMetadata?.Arn as string, '--backup-public-key', pem, '--backup-dir', join(dir, 'backups17')], {
      env: { ...LOCAL_CREDENTIALS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url },
    });
    expect(result.code).toBe(0);
    const sha = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    expect(result.stdout).toContain(`Recovery public key ${pem}: RSA-4096 (PEM, converted to DER), fingerprint sha256:${sha}`);
  });
});

describe('smaller things (item 9)', () => {
  const env = () => ({ ...LOCAL_CREDENTIALS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_KMS: kms.url });

  it('labels an address "as MetaMask shows it" only for MetaMask\'s paths', async () => {
    const metamask = await runScript('address.ts', ['--mnemonic', '-', '--path', "m/44'/60'/0'/0/1"], { stdin: MNEMONIC });
    const other = await runScript('address.ts', ['--mnemonic', '-', '--path', 'm/44/60/0/0/0'], { stdin: MNEMONIC });
    expect(metamask.stdout).toContain(`Address (as MetaMask shows account 2): ${OTHER.address}`);
    expect(other.code).toBe(0);
    expect(other.stdout).toMatch(/Address \(at m\/44\/60\/0\/0\/0, a path MetaMask does not use/);
    expect(other.stdout).not.toContain('as MetaMask shows');
  });

  it('a hex key given to --mnemonic-file suggests --key-file (and does not count "1 words")', async () => {
    const result = await runScript('address.ts', ['--mnemonic-file', file('hex-as-phrase', DEV.privateKey)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/looks like a private key, not a mnemonic: use --key-file/);
    expect(result.stderr).not.toMatch(/1 words/);
    expect(result.stderr).not.toContain(DEV.privateKey.slice(2, 20));
  });

  it('npm run address names its own flag, --kms-key-id, when the key is not found', async () => {
    const result = await runScript('address.ts', ['--kms-key-id', 'alias/nope'], { env: env() });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Check --kms-key-id/);
    expect(result.stderr).not.toMatch(/--key-id|--create/);
  });

  it('prints no NodeVersionSupportWarning (or any other SDK notice) around its output', async () => {
    const arn = await signingKey();
    const result = await runScript('address.ts', ['--kms-key-id', arn], { env: env() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});
