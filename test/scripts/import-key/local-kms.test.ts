// End to end against the local KMS over HTTP and anvil: every input format is imported, then a
// transaction signed through KMS is mined from the expected address.
import { spawn as spawnChild } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  KMSClient,
  type KeySpec,
  type OriginType,
} from '@aws-sdk/client-kms';
import { JsonRpcProvider, Wallet } from 'ethers';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { main as importKey } from '../../../scripts/import-key/cli';
import { main as address } from '../../../scripts/import-key/address-cli';
import { encodePem } from '../../../scripts/import-key/pem';
import { encodeSec1 } from '../../../scripts/import-key/pkcs8';
import { privateKeyFromScalar } from '../../../scripts/import-key/private-key';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { captureIo } from './cli-io';
import { openssl, opensslSecp256k1Pem } from './openssl';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { startAnvil, type Anvil } from '../../../scripts/local-chain';

jest.setTimeout(60_000);

const DEV = KNOWN_KEYS[0];
const MNEMONIC = 'test test test test test test test test test test test junk';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

let kms: LocalKms;
let chain: Anvil;
let client: KMSClient;
let provider: JsonRpcProvider;
let funder: Wallet;
let dir: string;

beforeAll(async () => {
  [kms, chain] = await Promise.all([startLocalKms(), startAnvil()]);
  client = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: CREDENTIALS });
  provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  funder = new Wallet(KNOWN_KEYS[1].privateKey, provider); // anvil's dev account 1 pays for the other keys
  dir = mkdtempSync(join(tmpdir(), 'import-key-e2e-'));
});
afterAll(async () => {
  provider?.destroy();
  client?.destroy();
  await Promise.all([kms?.close(), chain?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Creates a KMS key ready for import (or, with overrides, one that is not). */
async function createKey(spec: KeySpec = 'ECC_SECG_P256K1', origin: OriginType = 'EXTERNAL'): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY', Origin: origin }));
  return KeyMetadata?.Arn as string;
}

async function keyState(keyId: string): Promise<string | undefined> {
  return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;
}

/** Runs import-key in-process against the local KMS. */
async function runImport(argv: string[], stdin: string | Buffer = '') {
  const captured = captureIo(stdin, () => client);
  const code = await importKey(argv, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

function keyFile(name: string, contents: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, contents, { mode: 0o600 });
  return path;
}

/** Signs a transfer through KMS and has anvil mine it; returns the sender anvil recorded. */
async function minedSender(keyArn: string, from: string): Promise<string> {
  if ((await provider.getBalance(from)) === 0n) {
    await (await funder.sendTransaction({ to: from, value: 10n ** 17n })).wait();
  }
  const signer = new KmsSigner({ keyId: keyArn, client, chainId: BigInt(chain.chainId) }, provider);
  const tx = await signer.sendTransaction({ to: KNOWN_KEYS[3].address, value: 1n });
  const receipt = await tx.wait();
  expect(receipt?.status).toBe(1);
  return receipt?.from as string;
}

const opensslPem = opensslSecp256k1Pem();
const devSec1 = encodeSec1(privateKeyFromScalar(Buffer.from(DEV.privateKey.slice(2), 'hex')));

describe('import-key against the local KMS, proven on anvil', () => {
  it('imports the dev key 0xac09…ff80 (MetaMask hex) as 0xf39F…2266, and anvil accepts its transactions', async () => {
    const arn = await createKey();
    const result = await runImport(['--key-file', keyFile('dev.hex', `${DEV.privateKey}\n`), '--key-id', arn]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`addresses match: key file ${DEV.address} = KMS key ${DEV.address}`);
    expect(await minedSender(arn, DEV.address)).toBe(DEV.address);
  });

  it("imports the mnemonic \"test … junk\" at m/44'/60'/0'/0/0 as that same address", async () => {
    const arn = await createKey();
    const result = await runImport(['--mnemonic', '-', '--key-id', arn], MNEMONIC);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`addresses match: key file ${DEV.address}`);
    expect(await minedSender(arn, DEV.address)).toBe(DEV.address);
  });

  it.each([
    ['SEC1 PEM with the EC PARAMETERS block', () => opensslPem],
    ['SEC1 PEM without it', () => openssl(['ec'], opensslPem)],
    ['PKCS#8 PEM', () => openssl(['pkcs8', '-topk8', '-nocrypt'], opensslPem)],
    ['PKCS#8 DER', () => openssl(['pkcs8', '-topk8', '-nocrypt', '-outform', 'der'], opensslPem)],
    ['SEC1 DER', () => openssl(['ec', '-outform', 'der'], opensslPem)],
  ])('imports an openssl key given as %s; anvil mines its transaction from the expected address', async (name, contents) => {
    const arn = await createKey();
    const expected = new Wallet(`0x${openssl(['ec', '-outform', 'der'], opensslPem).subarray(7, 39).toString('hex')}`).address;
    const result = await runImport(['--key-file', keyFile(name.replace(/\W/g, '_'), contents()), '--key-id', arn]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`addresses match: key file ${expected} = KMS key ${expected}`);
    expect(await minedSender(arn, expected)).toBe(expected);
  });

  it('imports with RSA_AES_KEY_WRAP_SHA_256 and an RSA_4096 wrapping key into a key made by --create', async () => {
    const result = await runImport(
      ['--key-file', '-', '--create', '--alias', 'e2e-key-wrap', '--wrapping-algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-key-spec', 'RSA_4096'],
      encodePem('EC PRIVATE KEY', devSec1),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Wrapping with RSA_AES_KEY_WRAP_SHA_256 and an RSA_4096 wrapping key');
    expect(await minedSender('alias/e2e-key-wrap', DEV.address)).toBe(DEV.address);
  });

  describe('failures: message, exit code, and the key left in PendingImport', () => {
    it('key not found: exit 4', async () => {
      const result = await runImport(['--key-file', keyFile('nf.hex', DEV.privateKey), '--key-id', 'alias/does-not-exist']);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/was not found/);
    });

    it('wrong spec (P-256) and wrong origin (AWS_KMS): exit 5, naming what is wrong', async () => {
      const p256 = await createKey('ECC_NIST_P256');
      const kmsMade = await createKey('ECC_SECG_P256K1', 'AWS_KMS');
      const wrongSpec = await runImport(['--key-file', keyFile('ws.hex', DEV.privateKey), '--key-id', p256]);
      const wrongOrigin = await runImport(['--key-file', keyFile('wo.hex', DEV.privateKey), '--key-id', kmsMade]);
      expect(wrongSpec).toMatchObject({ code: 5, stderr: expect.stringMatching(/key spec is ECC_NIST_P256/) });
      expect(wrongOrigin).toMatchObject({ code: 5, stderr: expect.stringMatching(/origin is AWS_KMS/) });
      expect(await keyState(p256)).toBe('PendingImport');
    });

    it('key already imported: exit 8; other material after DeleteImportedKeyMaterial: exit 8 and still PendingImport', async () => {
      const arn = await createKey();
      expect((await runImport(['--key-file', keyFile('a.hex', DEV.privateKey), '--key-id', arn])).code).toBe(0);
      const again = await runImport(['--key-file', keyFile('b.hex', KNOWN_KEYS[2].privateKey), '--key-id', arn]);
      expect(again).toMatchObject({ code: 8, stderr: expect.stringMatching(/already holds ANOTHER key \(state Enabled\): its address is 0xf39F/) });

      await client.send(new DeleteImportedKeyMaterialCommand({ KeyId: arn }));
      const other = await runImport(['--key-file', keyFile('c.hex', KNOWN_KEYS[2].privateKey), '--key-id', arn]);
      expect(other).toMatchObject({ code: 8, stderr: expect.stringMatching(/IncorrectKeyMaterialException/) });
      expect(await keyState(arn)).toBe('PendingImport');
    });

    it('expired import token: exit 7, key still PendingImport', async () => {
      // A KMS whose clock moves 25 hours per request: the token from GetParametersForImport (valid 24 hours)
      // has expired by the time ImportKeyMaterial arrives.
      let hours = 0;
      const slowKms = await startLocalKms({ now: () => new Date(Date.now() + (hours += 25) * 3_600_000) });
      const slowClient = new KMSClient({ endpoint: slowKms.url, region: 'us-east-1', credentials: CREDENTIALS });
      try {
        const { KeyMetadata } = await slowClient.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
        const captured = captureIo('', () => slowClient);
        const code = await importKey(['--key-file', keyFile('expired.hex', DEV.privateKey), '--key-id', KeyMetadata!.Arn!], captured.io);
        expect(code).toBe(7);
        expect(captured.stderr()).toMatch(/expired/i);
        expect((await slowClient.send(new DescribeKeyCommand({ KeyId: KeyMetadata!.Arn! }))).KeyMetadata?.KeyState).toBe('PendingImport');
      } finally {
        slowClient.destroy();
        await slowKms.close();
      }
    });

    it('bad key input: exit 3 before anything is sent, key still PendingImport', async () => {
      const arn = await createKey();
      const result = await runImport(['--key-file', '-', '--key-id', arn], openssl(['ecparam', '-name', 'prime256v1', '-genkey']));
      expect(result).toMatchObject({ code: 3, stderr: expect.stringMatching(/NIST P-256/) });
      expect(await keyState(arn)).toBe('PendingImport');
    });
  });

  describe('the real CLI (npx tsx), key on stdin', () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    // Asynchronous: the local KMS runs in this process and must keep answering while the CLI runs.
    const spawn = (script: string, args: string[], input: string | Buffer) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawnChild('npx', ['tsx', script, ...args], { cwd: process.cwd(), env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(input);
      });

    it('npm run import-key imports from stdin and exits 0 with "addresses match"', async () => {
      const arn = await createKey();
      const result = await spawn('scripts/import-key.ts', ['--key-file', '-', '--key-id', arn, '--endpoint-url', kms.url], DEV.privateKey);
      expect(result.stdout).toContain(`addresses match: key file ${DEV.address}`);
      expect(result.status).toBe(0);

      const check = await spawn('scripts/address.ts', ['--mnemonic', '-', '--kms-key-id', arn, '--endpoint-url', kms.url], MNEMONIC);
      expect(check.status).toBe(0);
      expect(check.stdout).toContain('addresses match');
    });

    it('npm run address exits 9 with both addresses for another key', async () => {
      const arn = await createKey();
      expect((await runImport(['--key-file', keyFile('m.hex', KNOWN_KEYS[2].privateKey), '--key-id', arn])).code).toBe(0);
      const result = await spawn('scripts/address.ts', ['--key-file', '-', '--kms-key-id', arn, '--endpoint-url', kms.url], DEV.privateKey);
      expect(result.status).toBe(9);
      expect(result.stderr).toContain(DEV.address);
      expect(result.stderr).toContain(KNOWN_KEYS[2].address);
    });
  });

  it('address (in-process) reads a key file', async () => {
    const captured = captureIo('', () => client);
    expect(await address(['--key-file', keyFile('addr.hex', DEV.privateKey)], captured.io)).toBe(0);
  });
});
