// scripts/cloudshell/import-key.sh with the real AWS CLI and openssl against the local KMS over HTTP.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, type OriginType } from '@aws-sdk/client-kms';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { openssl, opensslSecp256k1Pem } from '../import-key/openssl';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';

jest.setTimeout(60_000);

const DEV = KNOWN_KEYS[0];
let kms: LocalKms;
let client: KMSClient;
let dir: string;

beforeAll(async () => {
  kms = await startLocalKms();
  client = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  dir = mkdtempSync(join(tmpdir(), 'cloudshell-test-'));
});
afterAll(async () => {
  client?.destroy();
  await kms?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function createKey(origin: OriginType = 'EXTERNAL'): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: origin }));
  return KeyMetadata?.Arn as string;
}

function keyFile(name: string, contents: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

/** Runs the script as CloudShell would, with only the AWS CLI's usual environment. */
function runScript(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/cloudshell/import-key.sh', ...args, '--endpoint-url', kms.url, '--region', 'us-east-1'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts/cloudshell/import-key.sh (AWS CLI + openssl, local KMS)', () => {
  it('imports an openssl PEM key; the KMS public key equals the one openssl derives', async () => {
    const pem = opensslSecp256k1Pem();
    const arn = await createKey();
    const result = await runScript(['--key-file', keyFile('key.pem', pem), '--key-id', arn]);
    const point = openssl(['ec', '-pubout', '-outform', 'der'], pem).subarray(-65).toString('hex');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`public keys match: key file ${point} = KMS key ${point}`);
    expect((await client.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata?.KeyState).toBe('Enabled');
  });

  it("imports MetaMask's hex export as 0xf39F…2266", async () => {
    const arn = await createKey();
    const result = await runScript(['--key-file', keyFile('dev.hex', `${DEV.privateKey}\n`), '--key-id', arn]);
    expect(result.code).toBe(0);
    expect(await new KmsSigner({ keyId: arn, client }).getAddress()).toBe(DEV.address);
  });

  it('refuses an already imported key (8), a KMS-made key (5), an unknown key (4), a P-256 key (3)', async () => {
    const imported = await createKey();
    const file = keyFile('dev2.hex', DEV.privateKey);
    expect((await runScript(['--key-file', file, '--key-id', imported])).code).toBe(0);
    const again = await runScript(['--key-file', file, '--key-id', imported]);
    const kmsMade = await runScript(['--key-file', file, '--key-id', await createKey('AWS_KMS')]);
    const missing = await runScript(['--key-file', file, '--key-id', 'alias/missing']);
    const p256 = await runScript(['--key-file', keyFile('p256.pem', openssl(['ecparam', '-name', 'prime256v1', '-genkey'])), '--key-id', imported]);
    expect(again).toMatchObject({ code: 8, stderr: expect.stringMatching(/already holds imported key material/) });
    expect(kmsMade).toMatchObject({ code: 5, stderr: expect.stringMatching(/origin is AWS_KMS/) });
    expect(missing).toMatchObject({ code: 4, stderr: expect.stringMatching(/not found/) });
    expect(p256).toMatchObject({ code: 3, stderr: expect.stringMatching(/not on secp256k1/) });
  });

  it('refuses a key on the command line (2)', async () => {
    const result = await runScript([DEV.privateKey]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(DEV.privateKey);
  });
});
