// Statements in the docs that were false once (issue 11 item 17), checked by doing what they say.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalKms, type LocalKms } from '../scripts/local-kms';
import { KNOWN_KEYS } from './fixtures/known-keys';
import { REPO_ROOT, runProcess } from './helpers/cli-process';

jest.setTimeout(60_000);

const doc = (name: string) => readFileSync(join(REPO_ROOT, 'docs', name), 'utf8');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'docs-statements-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('import-key.md: decrypting a passphrase-protected key into a pipe', () => {
  const command = /`(openssl pkcs8 -in \S+ [^|`]*)\| npm run import-key -- --key-file - …`/.exec(doc('import-key.md'));

  it('is documented with the flags that work for an encrypted EC key (-nocrypt -topk8)', () => {
    expect(command?.[1]).toMatch(/-nocrypt -topk8/);
  });

  it.each([
    ['traditional encrypted EC PEM (openssl ec -aes256)', ['ec', '-aes256', '-passout', 'pass:secret words']],
    ['PKCS#8 ENCRYPTED PRIVATE KEY', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:secret words']],
  ])('works for a %s, as the doc writes it', async (_name, encrypt) => {
    const plain = execFileSync('openssl', ['ec'], { input: `-----BEGIN EC PRIVATE KEY-----\n${Buffer.concat([Buffer.from('302e0201010420', 'hex'), Buffer.from(KNOWN_KEYS[0].privateKey.slice(2), 'hex'), Buffer.from('a00706052b8104000a', 'hex')]).toString('base64')}\n-----END EC PRIVATE KEY-----\n`, stdio: ['pipe', 'pipe', 'ignore'] });
    const encrypted = join(dir, `${encrypt[0]}.pem`);
    writeFileSync(encrypted, execFileSync('openssl', encrypt, { input: plain, stdio: ['pipe', 'pipe', 'ignore'] }), { mode: 0o600 });
    const pipeline = (command?.[1] as string).replace(/-in \S+/, `-in '${encrypted}'`) + ` -passin 'pass:secret words' | npm run --silent address -- --key-file -`;
    const result = await runProcess('bash', ['-o', 'pipefail', '-c', pipeline], REPO_ROOT);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Address (as MetaMask shows it): ${KNOWN_KEYS[0].address}`);
  });
});

describe('deploy.md: cancelling a key deletion', () => {
  let kms: LocalKms;
  beforeAll(async () => {
    kms = await startLocalKms();
  });
  afterAll(() => kms?.close());

  it('says the key stays Disabled until enable-key, which is what KMS does (AWS CLI, local KMS)', async () => {
    const cleanUp = doc('deploy.md').split('## Clean up')[1] ?? '';
    expect(cleanUp).toMatch(/cancel-key-deletion[^\n]*Disabled\n[^\n]*enable-key/);
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const aws = async (args: string) => {
      const result = await runProcess('bash', ['-c', `aws kms ${args} --endpoint-url ${kms.url}`], REPO_ROOT, { env });
      expect(result.stderr).toBe('');
      return result.stdout.trim();
    };
    const keyId = await aws('create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text');
    const state = () => aws(`describe-key --key-id ${keyId} --query KeyMetadata.KeyState --output text`);
    await aws(`schedule-key-deletion --key-id ${keyId} --pending-window-in-days 7`);
    await aws(`cancel-key-deletion --key-id ${keyId}`);
    expect(await state()).toBe('Disabled');
    await aws(`enable-key --key-id ${keyId}`);
    expect(await state()).toBe('Enabled');
  });
});

describe('performance.md and README: no unmeasured duration for npm run bench', () => {
  it.each(['docs/performance.md', 'README.md'])('%s makes no "about a minute" claim', (file) => {
    expect(readFileSync(join(REPO_ROOT, file), 'utf8')).not.toMatch(/about a minute/);
  });
});
