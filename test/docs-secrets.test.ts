// Following the docs must not put secrets in the git working tree: examples use paths outside the
// repository, and .gitignore catches what lands there anyway (npm runs scripts in the repository root).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];
const FILE_FLAGS = ['--key-file', '--mnemonic-file', '--generate', '--out-dir', '--out', '--backup-dir', '--backup-public-key', '--recovery-private-key'];

describe('doc examples with key files', () => {
  const examples = DOCS.flatMap((doc) =>
    [...readFileSync(join(ROOT, doc), 'utf8').matchAll(new RegExp(`(${FILE_FLAGS.join('|')})[ =](\\S+)`, 'g'))].map(
      (match) => [doc, match[1] as string, (match[2] as string).replace(/[`|)]+$/, '')] as const,
    ),
  );

  it('exist (the scan finds them)', () => {
    expect(examples.length).toBeGreaterThan(10);
  });

  it.each(examples)('%s: %s %s is outside the repository (absolute, ~, stdin) or a placeholder', (_doc, _flag, value) => {
    // Placeholders: FILE, NEW_FILE, DIR, <your key file>, $VAR, …
    expect(value).toMatch(/^(-|~\/|\/|\$|<|…|[A-Z_]+$)/);
  });
});

describe('.gitignore', () => {
  const ignored = (path: string) => {
    try {
      execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT });
      return true;
    } catch {
      return false;
    }
  };

  it.each(['key.pem', 'mm.hex', 'key.der', 'treasury.key', 'recovery/recovery-private.pem', 'recovery/recovery-public.hex', 'backups/0b1f/recovery_shard-0.txt', '.local-kms/state.json', 'recovered.hex'])(
    'ignores %s in the repository root',
    (path) => expect(ignored(path)).toBe(true),
  );

  it.each(['scripts/recovery/new-module.ts', 'test/scripts/recovery/new.test.ts', 'docs/backup.md', 'test/fixtures/backup-v2/recovery-private.pem'])('does not ignore source %s', (path) => {
    expect(ignored(path)).toBe(false);
  });
});
