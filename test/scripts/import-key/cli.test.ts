import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExpiredImportTokenException,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  IncorrectKeyMaterialException,
  CreateKeyCommand,
  InvalidImportTokenException,
  SignCommand,
} from '@aws-sdk/client-kms';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { main } from '../../../scripts/import-key/cli';
import { parseKeyFile } from '../../../scripts/import-key/key-input';
import { captureIo } from './cli-io';
import { fakeClient, fakeImportKms, type FakeImportKms } from './fake-import-kms';

const DEV = KNOWN_KEYS[0];
const MNEMONIC = 'test test test test test test test test test test test junk';

let kms: FakeImportKms;
let dir: string;
beforeEach(() => {
  kms = fakeImportKms();
  dir = mkdtempSync(join(tmpdir(), 'import-key-test-'));
});
afterEach(() => {
  kms.stub.restore();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a test key file with mode 0600 and returns its path. */
function keyFile(contents: string, name = 'key'): string {
  const path = join(dir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

async function run(argv: string[], stdin = '') {
  const captured = captureIo(stdin, fakeClient);
  const code = await main(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe('npm run import-key (against a mocked KMS that really unwraps)', () => {
  it('imports a MetaMask hex key, prints its address first, and ends with "addresses match"', async () => {
    const key = kms.addKey({}, 'alias/treasury');
    const result = await run(['--key-file', keyFile(`${DEV.privateKey}\n`), '--key-id', 'alias/treasury']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[1]).toBe(`Address (as MetaMask shows it): ${DEV.address}`);
    expect(result.stdout).toContain(`addresses match: key file ${DEV.address} = KMS key ${DEV.address}`);
    expect(key.privateKey).toBe(DEV.privateKey);
    expect(key.wrappingAlgorithm).toBe('RSAES_OAEP_SHA_256');
  });

  it('proves the import by the GetPublicKey address alone: it never calls kms:Sign (importers hold no Sign grant)', async () => {
    kms.addKey({}, 'alias/treasury');
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', 'alias/treasury']);
    expect(result.code).toBe(0);
    expect(kms.stub.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('sends RSAES_OAEP_SHA_256 / RSA_2048 and KEY_MATERIAL_DOES_NOT_EXPIRE by default, to the key ARN', async () => {
    const key = kms.addKey({}, 'alias/treasury');
    await run(['--key-file', keyFile(DEV.privateKey), '--key-id', 'alias/treasury']);
    expect(kms.stub.commandCalls(GetParametersForImportCommand)[0]?.args[0].input).toEqual({
      KeyId: key.metadata.Arn,
      WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      WrappingKeySpec: 'RSA_2048',
    });
    expect(kms.stub.commandCalls(ImportKeyMaterialCommand)[0]?.args[0].input).toMatchObject({
      KeyId: key.metadata.Arn,
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });
  });

  it('sends the PKCS#8 DER as the key material, also with RSA_AES_KEY_WRAP_SHA_256', async () => {
    const key = kms.addKey();
    const result = await run([
      '--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string,
      '--wrapping-algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-key-spec', 'RSA_2048',
    ]);
    expect(result.code).toBe(0);
    expect(key.wrappingAlgorithm).toBe('RSA_AES_KEY_WRAP_SHA_256');
    expect(key.material?.toString('hex')).toMatch(/^308184020100301006072a8648ce3d020106052b8104000a046d306b0201010420ac0974be/);
  });

  it('reads a mnemonic from stdin with --mnemonic - and imports the key at --path', async () => {
    const key = kms.addKey();
    const result = await run(['--mnemonic', '-', '--path', "m/44'/60'/0'/0/1", '--key-id', key.metadata.Arn as string], MNEMONIC);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Address (as MetaMask shows account 2): ${KNOWN_KEYS[1].address}`);
    expect(key.privateKey).toBe(KNOWN_KEYS[1].privateKey);
  });

  it('--create --alias creates an EXTERNAL secp256k1 signing key, names it, and imports into it', async () => {
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--create', '--alias', 'treasury']);
    const keyId = kms.aliases.get('alias/treasury') as string;
    expect(result.code).toBe(0);
    expect(kms.keys.get(keyId)?.metadata).toMatchObject({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL', KeyState: 'Enabled' });
    expect(kms.keys.get(keyId)?.metadata.Description).toContain(DEV.address);
    expect(result.stdout).toContain('Created KMS key');
  });

  it("--create gives the key the stack's kind of policy, not KMS's default: no kms:*, nobody signs, only its creator rewrites the policy or deletes", async () => {
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--create', '--alias', 'treasury']);
    expect(result.code).toBe(0);
    const policy = JSON.parse(kms.stub.commandCalls(CreateKeyCommand)[0]!.args[0].input.Policy as string) as { Statement: Array<Record<string, any>> };
    const actions = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]);
    expect(actions).not.toContain('kms:*');
    expect(actions).not.toContain('kms:Sign');
    const creatorOnly = { ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/AWSReservedSSO_KeyAdmin_0123456789abcdef', 'arn:aws:iam::111122223333:role/*/AWSReservedSSO_KeyAdmin_0123456789abcdef'] } };
    for (const sensitive of ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DeleteImportedKeyMaterial', 'kms:ImportKeyMaterial']) {
      const granting = policy.Statement.filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(sensitive));
      expect(granting).toHaveLength(1);
      expect(granting[0]!.Condition).toMatchObject(creatorOnly);
    }
  });

  it('--generate writes a new 0600 key file, warns it is the only copy, and imports that key', async () => {
    const key = kms.addKey();
    const path = join(dir, 'new.pem');
    const result = await run(['--generate', path, '--key-id', key.metadata.KeyId as string]);
    expect(result.code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(result.stderr).toMatch(/ONLY copy/);
    const written = parseKeyFile(readFileSync(path));
    expect(written.format).toBe('sec1-pem');
    expect(result.stdout).toContain(`addresses match: key file ${written.key.address}`);
  });

  it('--generate never overwrites an existing file (exit 2, nothing sent)', async () => {
    const path = keyFile('precious');
    const result = await run(['--generate', path, '--key-id', kms.addKey().metadata.KeyId as string]);
    expect(result.code).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe('precious');
    expect(kms.stub.calls()).toHaveLength(0);
  });

  describe('checks the target before anything is sent', () => {
    it.each([
      [{ KeySpec: 'ECC_NIST_P256' }, /key spec is ECC_NIST_P256, not ECC_SECG_P256K1/],
      [{ KeyUsage: 'ENCRYPT_DECRYPT' }, /key usage is ENCRYPT_DECRYPT, not SIGN_VERIFY/],
      [{ Origin: 'AWS_KMS', KeyState: 'Enabled' }, /origin is AWS_KMS, not EXTERNAL/],
      [{ KeyState: 'PendingDeletion' }, /scheduled for deletion/],
    ] as const)('%o: exit 5 with what is wrong', async (overrides, message) => {
      const key = kms.addKey(overrides);
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(message);
      expect(kms.stub.commandCalls(GetParametersForImportCommand)).toHaveLength(0);
    });

    it('lists every mismatch at once', async () => {
      const key = kms.addKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'AWS_KMS', KeyState: 'Enabled' });
      const { stderr } = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
      expect(stderr).toMatch(/key spec is RSA_2048.*key usage is ENCRYPT_DECRYPT.*origin is AWS_KMS/s);
    });

    it('a key that already holds another key: exit 8, naming both addresses, nothing imported', async () => {
      const key = kms.addKey({ KeyState: 'Enabled' });
      key.privateKey = KNOWN_KEYS[2].privateKey;
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
      expect(result.code).toBe(8);
      expect(result.stderr).toContain(`already holds ANOTHER key (state Enabled): its address is ${KNOWN_KEYS[2].address}, not your key's ${DEV.address}`);
      expect(kms.stub.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
    });

    it('a key that already holds this very key (a re-run): exit 0, confirms the addresses match, imports nothing (item 9)', async () => {
      const key = kms.addKey({ KeyState: 'Enabled' });
      key.privateKey = DEV.privateKey;
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/already holds this key \(an earlier run imported it\)/);
      expect(result.stdout).toContain(`addresses match: key file ${DEV.address} = KMS key ${DEV.address}`);
      expect(kms.stub.commandCalls(ImportKeyMaterialCommand)).toHaveLength(0);
      expect(kms.stub.commandCalls(GetParametersForImportCommand)).toHaveLength(0);
    });

    it('an unknown key: exit 4', async () => {
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', 'alias/nope']);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/KMS key alias\/nope was not found/);
    });

    it('--create with an alias that names another pending key: exit 5, suggests --key-id, nothing created', async () => {
      kms.addKey({}, 'alias/taken');
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--create', '--alias', 'alias/taken']);
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/alias\/taken already exists.*use --key-id alias\/taken/);
      expect(kms.keys.size).toBe(1);
    });

    it('--create with an alias whose key already holds material: does not suggest --key-id, says how to check (item 9)', async () => {
      const key = kms.addKey({ KeyState: 'Enabled' }, 'alias/taken');
      key.privateKey = KNOWN_KEYS[2].privateKey;
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--create', '--alias', 'alias/taken']);
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/already holds key material and cannot take another key.*npm run address -- --kms-key-id alias\/taken/);
      expect(result.stderr).not.toMatch(/use --key-id/);
    });
  });

  describe('maps each KMS refusal to its message and exit code, leaving the key pending import', () => {
    it.each([
      ['GetParametersForImport', Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $metadata: {} }), 6, /Access denied: kms:GetParametersForImport/],
      ['ImportKeyMaterial', new ExpiredImportTokenException({ message: 'expired', $metadata: {} }), 7, /import token expired.*run the import again/],
      ['ImportKeyMaterial', new InvalidImportTokenException({ message: 'bad token', $metadata: {} }), 7, /Run the import again/],
      ['ImportKeyMaterial', new IncorrectKeyMaterialException({ message: 'different', $metadata: {} }), 8, /accepts only the same material/],
    ] as const)('%s throws %p: exit %i', async (operation, error, code, message) => {
      const key = kms.addKey();
      if (operation === 'ImportKeyMaterial') kms.stub.on(ImportKeyMaterialCommand).rejects(error);
      else kms.stub.on(GetParametersForImportCommand).rejects(error);
      const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(key.metadata.KeyState).toBe('PendingImport');
    });
  });

  it('fails loudly with exit 9 and both addresses when the KMS key is not the file key', async () => {
    const key = kms.addKey();
    // A broken KMS: it stores a different key than the one it was sent.
    kms.stub.on(ImportKeyMaterialCommand).callsFake(() => {
      key.privateKey = KNOWN_KEYS[2].privateKey;
      key.metadata.KeyState = 'Enabled';
      return {};
    });
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', key.metadata.KeyId as string]);
    expect(result.code).toBe(9);
    expect(result.stderr).toContain('ADDRESS MISMATCH');
    expect(result.stderr).toContain(DEV.address);
    expect(result.stderr).toContain(KNOWN_KEYS[2].address);
    expect(result.stdout).not.toContain('addresses match');
  });

  it('--expect-address refuses a different key with exit 9 before calling KMS', async () => {
    const result = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', 'alias/x', '--expect-address', KNOWN_KEYS[1].address]);
    expect(result.code).toBe(9);
    expect(kms.stub.calls()).toHaveLength(0);
  });

  describe('usage errors (exit 2, nothing sent)', () => {
    it.each([
      [[DEV.privateKey, '--key-id', 'k'], /looks like a private key.*NOT used.*EXPOSED/],
      [['--mnemonic', MNEMONIC, '--key-id', 'k'], /--mnemonic looks like a BIP-39 mnemonic.*NOT used.*EXPOSED/],
      [['--mnemonic', 'mine', '--key-id', 'k'], /--mnemonic takes only "-".*treat it as exposed/],
      [['--key-file', 'f', '--key-id', 'k', '--create', '--alias', 'a'], /exactly one target/],
      [['--key-file', 'f', '--create'], /--create needs --alias/],
      [['--key-id', 'k'], /exactly one key/],
      [['--key-file', 'f', '--key-id', 'k', '--wrapping-algorithm', 'RSAES_PKCS1_V1_5'], /--wrapping-algorithm must be one of/],
      [['--key-file', 'f', '--key-id', 'k', '--private-key', 'x'], /Unknown option '--private-key'/],
      [['--mnemonic-file', 'f', '--path', 'm/44/x', '--key-id', 'k'], /not a BIP-32 derivation path/],
    ])('%j', async (argv, message) => {
      const result = await run(argv as string[]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(DEV.privateKey.slice(2));
      expect(kms.stub.calls()).toHaveLength(0);
    });
  });

  it('bad key input: exit 3, nothing sent', async () => {
    const result = await run(['--key-file', keyFile('0x1234'), '--key-id', 'k']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/UnsupportedKeyFormatError/);
    expect(kms.stub.calls()).toHaveLength(0);
  });

  it('warns when the key file is readable by other users', async () => {
    const path = keyFile(DEV.privateKey);
    const { chmodSync } = await import('node:fs');
    chmodSync(path, 0o644);
    const result = await run(['--key-file', path, '--key-id', kms.addKey().metadata.KeyId as string]);
    expect(result.stderr).toMatch(/can be read by other users \(mode 644\).*chmod 600/);
  });

  it('never writes the private key or mnemonic to stdout or stderr', async () => {
    const ok = await run(['--key-file', keyFile(DEV.privateKey), '--key-id', kms.addKey().metadata.KeyId as string]);
    const bad = await run(['--mnemonic', '-', '--key-id', 'x'], MNEMONIC.replace('junk', 'test'));
    for (const text of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) {
      expect(text).not.toContain(DEV.privateKey.slice(2, 20));
      expect(text).not.toContain('test test');
    }
  });
});
