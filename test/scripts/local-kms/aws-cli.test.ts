// The real AWS CLI against the local KMS: what a user types with --endpoint-url works.
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';

const run = promisify(execFile);

describe('the AWS CLI against the local KMS', () => {
  let kms: LocalKms;
  // Asynchronous calls only: the local KMS runs in this process and must keep answering.
  const aws = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const { stdout } = await run('aws', ['kms', ...args, '--endpoint-url', kms.url, '--output', 'json'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1', AWS_PAGER: '' },
    });
    return JSON.parse(stdout) as T;
  };

  beforeAll(async () => {
    await run('aws', ['--version']).catch(() => {
      throw new Error('the AWS CLI (aws) is not installed: apt-get install awscli (.ci/run does this)');
    });
    kms = await startLocalKms();
  });
  afterAll(() => kms.close());

  it('creates a secp256k1 key and an alias, reads its public key and signs a digest that OpenSSL verifies', async () => {
    const { KeyMetadata: key } = await aws<{ KeyMetadata: { KeyId: string; KeySpec: string; KeyState: string } }>('create-key', '--key-spec', 'ECC_SECG_P256K1', '--key-usage', 'SIGN_VERIFY');
    expect(key).toMatchObject({ KeySpec: 'ECC_SECG_P256K1', KeyState: 'Enabled' });
    await run('aws', ['kms', 'create-alias', '--alias-name', 'alias/cli', '--target-key-id', key.KeyId, '--endpoint-url', kms.url], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1' },
    });
    const publicKey = await aws<{ PublicKey: string; KeySpec: string }>('get-public-key', '--key-id', 'alias/cli');
    expect(publicKey.KeySpec).toBe('ECC_SECG_P256K1');

    const message = Buffer.from('signed through the AWS CLI');
    const digestFile = join(mkdtempSync(join(tmpdir(), 'aws-cli-')), 'digest.bin');
    writeFileSync(digestFile, createHash('sha256').update(message).digest());
    const signed = await aws<{ Signature: string }>('sign', '--key-id', 'alias/cli', '--message', `fileb://${digestFile}`, '--message-type', 'DIGEST', '--signing-algorithm', 'ECDSA_SHA_256');
    const spki = createPublicKey({ key: Buffer.from(publicKey.PublicKey, 'base64'), format: 'der', type: 'spki' });
    expect(verify('sha256', message, spki, Buffer.from(signed.Signature, 'base64'))).toBe(true);
  }, 60_000);

  it('reports KMS errors by their exception name', async () => {
    await expect(aws('describe-key', '--key-id', 'alias/missing')).rejects.toMatchObject({ stderr: expect.stringContaining('NotFoundException') });
  }, 30_000);
});
