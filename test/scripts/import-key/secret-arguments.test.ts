// A key or mnemonic pasted where a file name goes is never echoed back, by any command.
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { runScript } from '../../helpers/cli-process';
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
    expect(output).toContain('~/.npm/_logs');
    expect(output).toMatch(/chmod 600/);
    expect(output).toMatch(/--key-file - /);
  });
});
