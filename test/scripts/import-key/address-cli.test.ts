import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { main } from '../../../scripts/import-key/address-cli';
import { captureIo } from './cli-io';
import { fakeClient, fakeImportKms, type FakeImportKms } from './fake-import-kms';

const [DEV, OTHER] = KNOWN_KEYS;
const MNEMONIC = 'test test test test test test test test test test test junk';

let kms: FakeImportKms;
let dir: string;
beforeEach(() => {
  kms = fakeImportKms();
  dir = mkdtempSync(join(tmpdir(), 'address-test-'));
});
afterEach(() => {
  kms.stub.restore();
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], stdin = '') {
  const captured = captureIo(stdin, fakeClient);
  const code = await main(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

function keyFile(contents: string): string {
  const path = join(dir, 'key');
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

describe('npm run address', () => {
  it('prints the address MetaMask shows for a key file', async () => {
    const result = await run(['--key-file', keyFile(DEV.privateKey)]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(`Address (as MetaMask shows it): ${DEV.address}`) });
  });

  it("derives from a mnemonic on stdin at MetaMask's first account by default", async () => {
    const result = await run(['--mnemonic', '-'], MNEMONIC);
    expect(result.stdout).toContain(`at m/44'/60'/0'/0/0`);
    expect(result.stdout).toContain(DEV.address);
  });

  it('says "addresses match" and exits 0 when the KMS key holds the same key', async () => {
    const key = kms.addKey({ KeyState: 'Enabled' }, 'alias/treasury');
    key.privateKey = DEV.privateKey;
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--kms-key-id', 'alias/treasury']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`addresses match: key file ${DEV.address} = KMS key ${DEV.address}`);
  });

  it('exits 9 with both addresses when the KMS key holds another key', async () => {
    const key = kms.addKey({ KeyState: 'Enabled' });
    key.privateKey = OTHER.privateKey;
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--kms-key-id', key.metadata.KeyId as string]);
    expect(result.code).toBe(9);
    expect(result.stderr).toContain('ADDRESS MISMATCH');
    expect(result.stderr).toContain(DEV.address);
    expect(result.stderr).toContain(OTHER.address);
  });

  it('prints just the KMS key address when no key file is given', async () => {
    const key = kms.addKey({ KeyState: 'Enabled' });
    key.privateKey = OTHER.privateKey;
    const result = await run(['--kms-key-id', key.metadata.Arn as string]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`KMS key ${key.metadata.Arn}: ${OTHER.address}`);
  });

  it('exits 4 for an unknown KMS key and 2 with no input at all', async () => {
    expect((await run(['--kms-key-id', 'alias/none'])).code).toBe(4);
    expect((await run([])).code).toBe(2);
  });
});
