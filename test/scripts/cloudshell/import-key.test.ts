// scripts/cloudshell/import-key.sh with the real AWS CLI and openssl against the local KMS over HTTP.
import { execFileSync, spawn } from 'node:child_process';
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

const SCRIPT = join(process.cwd(), 'scripts/cloudshell/import-key.sh');
const shellQuote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`;

/** Runs the script as CloudShell would, with only the AWS CLI's usual environment; `stdin` is piped in. */
function runScript(args: string[], stdin = '', commandLine?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const allArgs = [...args, '--endpoint-url', kms.url, '--region', 'us-east-1'];
    // With `commandLine`, bash -c runs it as a user types it (for process substitution), followed by `args`.
    const child = spawn('bash', commandLine ? ['-c', `${commandLine} ${allArgs.map(shellQuote).join(' ')}`] : [SCRIPT, ...allArgs], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}

/** Runs the script on a pseudo-terminal (util-linux script), answering each prompt that matches with its reply. */
function runOnTerminal(args: string[], replies: [RegExp, string][]): Promise<{ code: number | null; screen: string; prompts: number }> {
  const command = [SCRIPT, ...args, '--endpoint-url', kms.url, '--region', 'us-east-1'].map(shellQuote).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: dir, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' },
    });
    let screen = '';
    let prompts = 0;
    let answered = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      const pending = replies.filter(([prompt]) => prompt.test(screen)).length;
      for (; answered < pending; answered++) {
        prompts++;
        child.stdin.write(replies[answered]?.[1] ?? '');
      }
    });
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code, screen, prompts });
    });
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
    expect(result.stdout).toContain(`public keys match: key ${point} = KMS key ${point}`);
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
    expect(p256).toMatchObject({ code: 3, stderr: expect.stringMatching(/it is on prime256v1, not secp256k1/) });
  });

  it('refuses a key on the command line (2)', async () => {
    const result = await runScript([DEV.privateKey]);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(DEV.privateKey);
  });

  it('refuses a key, a PEM or a mnemonic given where a file name goes (2), without echoing it', async () => {
    for (const value of [DEV.privateKey, DEV.privateKey.slice(2, 64), 'describe year grape fiscal laundry tuition liar blue cherry rotate drift garbage']) {
      const result = await runScript(['--key-file', value, '--key-id', 'alias/x']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the value given to --key-file looks like key material.*NOT used.*EXPOSED.*shell history.*--key-file -/s);
      expect(result.stderr + result.stdout).not.toContain(value.slice(2, 30));
    }
  });

  it('gives each bad input its own message (3), before anything is sent', async () => {
    const pubPem = openssl(['ec', '-pubout'], opensslSecp256k1Pem()).toString();
    const cases: [string, string, RegExp][] = [
      ['62.hex', DEV.privateKey.slice(2, 64), /has 62 hex digits; a private key has exactly 64/],
      ['pub.pem', pubPem, /it is a PUBLIC key; the private key is needed/],
      ['address.txt', KNOWN_KEYS[1].address, /40 hex digits: that is an Ethereum address/],
      ['pub.hex', `04${'ab'.repeat(64)}`, /130 hex digits: that is a public key/],
      ['phrase.txt', 'test test test test test test test test test test test junk\n', /looks like a mnemonic.*npm run import-key -- --mnemonic -/],
      ['zero.hex', '0'.repeat(64), /it is zero/],
      ['n.hex', 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', /not below the curve order n/],
      ['keystore.json', '{"version":3,"crypto":{}}', /JSON keystore/],
    ];
    for (const [name, contents, message] of cases) {
      const result = await runScript(['--key-file', keyFile(name, contents), '--key-id', 'alias/never-called']);
      expect({ name, code: result.code }).toEqual({ name, code: 3 });
      expect(result.stderr).toMatch(message);
    }
  });

  it('reads the key from a pipe (--key-file -): an explicit-parameters secp256k1 PEM is accepted', async () => {
    const explicit = openssl(['ec', '-param_enc', 'explicit'], openssl(['ec'], opensslSecp256k1Pem()));
    expect(explicit.toString()).toMatch(/BEGIN EC PRIVATE KEY/);
    const arn = await createKey();
    const result = await runScript(['--key-file', '-', '--key-id', arn], explicit.toString());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/shred/); // nothing to delete: the key was never in a file
  });

  it('reads the key through process substitution, prints the public key and a cast command that gives the address', async () => {
    const arn = await createKey();
    const file = keyFile('substituted.hex', DEV.privateKey);
    const result = await runScript(['--key-id', arn], '', `${shellQuote(SCRIPT)} --key-file <(cat ${shellQuote(file)})`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const command = /^ {2}(npx cast to-check-sum-address .*)$/m.exec(result.stdout)?.[1];
    expect(command).toBeDefined();
    expect(execFileSync('bash', ['-c', command as string], { encoding: 'utf8' }).trim()).toBe(DEV.address);
    expect(result.stdout).toContain(`npm run address -- --kms-key-id ${arn}`);
  });

  it('at a terminal, --key-file - prompts and reads the pasted key without echo', async () => {
    const arn = await createKey();
    const { code, screen } = await runOnTerminal(['--key-file', '-', '--key-id', arn], [[/input is hidden/, `${DEV.privateKey}\r`]]);
    expect(screen).not.toContain(DEV.privateKey.slice(2, 20));
    expect(code).toBe(0);
    expect(await new KmsSigner({ keyId: arn, client }).getAddress()).toBe(DEV.address);
  });

  it.each([
    ['traditional encrypted EC PEM', ['ec', '-aes256', '-passout', 'pass:open sesame']],
    ['PKCS#8 ENCRYPTED PRIVATE KEY', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:open sesame']],
  ])('without a terminal, a passphrase-protected %s: says a passphrase is needed and there is no terminal to ask for it (3)', async (_name, encrypt) => {
    const encrypted = keyFile(`no-tty-${encrypt[0]}.pem`, openssl(encrypt, openssl(['ec'], opensslSecp256k1Pem())));
    // setsid: a new session with no controlling terminal, as in a CI job or a pipeline run by cron.
    const result = await runScript(['--key-file', encrypted, '--key-id', 'alias/never-called'], '', `setsid ${shellQuote(SCRIPT)}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/is encrypted with a passphrase, and there is no terminal to ask for it/);
    expect(result.stderr).not.toMatch(/not an EC key/);
  });

  it('asks for the passphrase of an encrypted PEM once, and says to delete the key file afterwards', async () => {
    const arn = await createKey();
    const encrypted = keyFile('encrypted.pem', openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:open sesame'], opensslSecp256k1Pem()));
    const { code, screen, prompts } = await runOnTerminal(['--key-file', encrypted, '--key-id', arn], [[/pass phrase/i, 'open sesame\r']]);
    expect(code).toBe(0);
    expect(prompts).toBe(1);
    expect(screen.match(/pass phrase/gi)).toHaveLength(1);
    expect(screen).toContain(`shred -u ${encrypted}`);
  });
});
