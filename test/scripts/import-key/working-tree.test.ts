// Commands that write key material refuse a path inside a git working tree that git does not ignore: npm runs
// them in the repository root, where `--out recovered-key.txt` would sit one `git add .` from a push.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runScript } from '../../helpers/cli-process';

jest.setTimeout(120_000);

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'backup-v1');
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
let base: string;
let repo: string; // a git working tree, as a clone of this project is
let outside: string; // a folder in no repository

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'working-tree-'));
  repo = join(base, 'clone');
  outside = join(base, 'keys');
  mkdirSync(repo);
  mkdirSync(outside);
  execFileSync('git', ['init', '-q', repo]);
  writeFileSync(join(repo, '.gitignore'), '*.hex\n/secrets/\n');
  cpSync(FIXTURE, join(repo, 'backup'), { recursive: true });
  cpSync(FIXTURE, join(outside, 'backup'), { recursive: true });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('import-key --generate', () => {
  it('refuses a file name git does not ignore inside a working tree: exit 2, no key generated, says where to put it', async () => {
    const result = await runScript('import-key.ts', ['--generate', 'treasury-key', '--create', '--alias', 'treasury'], { userDir: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`KeyFileInWorkingTreeError: --generate ${join(repo, 'treasury-key')}: refusing to write a private key inside the git working tree`);
    expect(result.stderr).toMatch(/outside any repository.*~\/keys/);
    expect(existsSync(join(repo, 'treasury-key'))).toBe(false);
  });

  it('refuses a new folder in the working tree as well (the path need not exist yet)', async () => {
    const result = await runScript('import-key.ts', ['--generate', 'keys/new/treasury-key', '--create', '--alias', 'treasury'], { userDir: repo });
    expect(result.code).toBe(2);
    expect(existsSync(join(repo, 'keys'))).toBe(false);
  });
});

describe('recovery-keypair --out-dir', () => {
  it('refuses a folder git does not ignore inside a working tree, before generating anything', async () => {
    const result = await runScript('recovery-keypair.ts', ['--out-dir', 'recovery'], { userDir: repo });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('refusing to write a recovery private key inside the git working tree');
    expect(files(join(repo, 'recovery'))).toEqual([]);
  });

  it('writes to a folder the working tree ignores', async () => {
    const result = await runScript('recovery-keypair.ts', ['--out-dir', 'secrets'], { userDir: repo });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(files(join(repo, 'secrets'))).toContain('recovery-private.pem');
  });
});

describe('recover --out', () => {
  const recover = (out: string, userDir: string) =>
    runScript('recover.ts', ['--backup', `backup/${KEY_ID}/recovery_shard-0.txt`, '--recovery-private-key', 'backup/recovery-private.pem', '--out', out], { userDir });

  it('refuses a file git does not ignore inside a working tree, before decrypting or printing anything', async () => {
    const result = await recover('recovered-key.txt', repo);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/KeyFileInWorkingTreeError: --out \S+recovered-key\.txt: refusing to write a private key/);
    expect(result.stderr).toMatch(/Nothing was written/);
    expect(result.stdout).toBe('');
    expect(existsSync(join(repo, 'recovered-key.txt'))).toBe(false);
  });

  it('writes a path the working tree ignores (*.hex), relative to the directory npm was run in', async () => {
    const result = await recover('recovered.hex', repo);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(join(repo, 'recovered.hex'))).toBe(true);
  });

  it('resolves --backup and --recovery-private-key against the directory npm was run in (INIT_CWD), outside any repository', async () => {
    const result = await recover('recovered-key.txt', outside);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Address: 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(existsSync(join(outside, 'recovered-key.txt'))).toBe(true);
  });

  it('refuses an existing --out before it decrypts the backup or prints the address', async () => {
    writeFileSync(join(outside, 'existing.txt'), 'keep');
    const result = await recover('existing.txt', outside);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/existing\.txt already exists; choose a new --out file/);
    expect(result.stdout).not.toMatch(/Address/);
  });
});
