// A key or mnemonic pasted where a file name goes is never echoed back, by any command.
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_HOME, REPO_ROOT, runProcess, runScript } from '../../helpers/cli-process';
import { secretKind } from '../../../scripts/import-key/secret-arguments';

jest.setTimeout(60_000);

const HEX = KNOWN_KEYS[0].privateKey; // 0x + 64 hex digits
const MNEMONIC = 'describe year grape fiscal laundry tuition liar blue cherry rotate drift garbage';
const PEM = '-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEIKwJdL7DmhfjbUxxxxxxxx\n-----END EC PRIVATE KEY-----';

describe('secretKind', () => {
  it.each([
    [HEX, 'a private key (hex)'],
    [HEX.slice(2), 'a private key (hex)'],
    [HEX.slice(0, 64), 'a private key (hex)'], // 62 digits: a key with a digit or two lost
    [`${HEX}ab`, 'a private key (hex)'],
    [PEM, 'a PEM key'],
    [MNEMONIC, 'a BIP-39 mnemonic'],
    ['abandon ability able', 'a BIP-39 mnemonic'],
  ])('recognises %j as %s', (value, kind) => {
    expect(secretKind(value)).toBe(kind);
  });

  it.each(['key.pem', '/home/me/keys/mm.hex', 'my key file.pem', 'alias/treasury', KNOWN_KEYS[0].address, '0x1234', `${HEX}abcd`, 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'])(
    'does not take %j for a secret',
    (value) => {
      expect(secretKind(value)).toBeUndefined();
    },
  );
});

describe('a secret given as an argument (child processes, as npm runs them)', () => {
  const cases: [string, string[]][] = [
    ['address.ts', ['--key-file', HEX]],
    ['address.ts', ['--key-file', HEX.slice(2, 64)]],
    ['address.ts', ['--mnemonic-file', MNEMONIC]],
    ['address.ts', [`--key-file=${PEM}`]],
    ['import-key.ts', ['--key-file', HEX, '--key-id', 'alias/x']],
    ['import-key.ts', ['--generate', MNEMONIC, '--key-id', 'alias/x']],
    ['import-key.ts', ['--key-file', 'k.pem', '--key-id', 'alias/x', '--backup-public-key', HEX, '--backup-dir', 'b']],
    ['import-key.ts', ['--key-file', 'k.pem', '--create', '--alias', MNEMONIC]],
    ['recover.ts', ['--backup', 'b.txt', '--recovery-private-key', HEX, '--out', 'x']],
    ['recover.ts', [HEX]],
    ['recovery-keypair.ts', ['--out-dir', MNEMONIC]],
  ];

  it.each(cases)('%s %j: exit 2, the value is not printed, and the user is told it is exposed and how to pass it', async (script, argv) => {
    const result = await runScript(script, argv);
    const output = result.stdout + result.stderr;
    expect(result.code).toBe(2);
    expect(output).not.toContain(HEX.slice(2, 30));
    expect(output).not.toContain('grape fiscal');
    expect(output).not.toContain('MHQCAQEE');
    expect(output).toMatch(/looks like (a private key|a PEM key|a BIP-39 mnemonic)/);
    expect(output).toMatch(/NOT used/);
    expect(output).toMatch(/EXPOSED/);
    expect(output).toMatch(/shell history/);
    expect(output).toMatch(/chmod 600/);
    expect(output).toMatch(/--key-file - /);
  });

  it('does not blame npm when npm did not start the command', async () => {
    const result = await runScript('import-key.ts', ['--key-file', HEX, '--key-id', 'alias/x']);
    expect(result.stderr).not.toMatch(/npm/);
  });
});

describe('a secret given as an argument through npm run (npm echoes and logs it before the command starts)', () => {
  // npm writes its debug log under HOME/.npm/_logs: the test's HOME is a fresh directory.
  const npmRun = (args: string[]) => runProcess(args[0] === 'tsx' ? 'npx' : 'npm', args[0] === 'tsx' ? args : ['run', ...args], REPO_ROOT, { env: { npm_config_update_notifier: 'false', npm_config_fund: 'false' }, timeoutMs: 60_000 });
  const logsDir = join(CLI_HOME, '.npm', '_logs');

  it.each([
    ['npm run import-key', ['import-key', '--', '--key-file', HEX, '--key-id', 'alias/x']],
    ['npm run --silent address', ['--silent', 'address', '--', `--key-file=${HEX.slice(2)}`]],
    ['npx tsx scripts/address.ts', ['tsx', 'scripts/address.ts', `--key-file=${HEX.slice(2)}`]],
  ])('%s: names the npm debug log that holds the key, and how to remove it, without printing the key', async (_name, args) => {
    const { stdout, stderr, code } = await npmRun(args);
    const holding = readdirSync(logsDir)
      .map((name) => join(logsDir, name))
      .filter((file) => readFileSync(file, 'utf8').includes(HEX.slice(2)));
    expect(code).not.toBe(0);
    expect(holding.length).toBeGreaterThan(0); // npm did log it: the warning is the truth
    for (const file of holding) expect(stderr).toContain(`'${file}'`);
    expect(stderr).toMatch(args[0] === 'tsx' ? /You ran it through npx \(npm exec\), which had already logged it/ : /You ran it through npm, which had already shown it/);
    expect(stderr).toMatch(/rm -- '/);
    expect(stderr).toMatch(/EXPOSED/);
    // npm's own banner (without --silent) repeats the command on stdout; the command itself never prints the key.
    expect(stderr).not.toContain(HEX.slice(2, 30));
    if (args[0] !== 'import-key') expect(stdout).not.toContain(HEX.slice(2, 30));
  });
});
