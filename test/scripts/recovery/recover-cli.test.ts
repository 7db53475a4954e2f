// npm run recover as a user runs it (child process): --help, region and endpoint flags, and a message that
// says what to do for each mistake: an encrypted or public recovery key, a missing object, an alias in the
// s3:// path, an endpoint that is not S3, and S3 refusing the credentials.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ImportKeyMaterialCommand, CreateKeyCommand, GetParametersForImportCommand, KMSClient } from '@aws-sdk/client-kms';
import { generateRecoveryKeyPair } from '../../../scripts/recovery/recovery-key';
import { sealPrivateKey } from '../../../scripts/recovery/envelope';
import { encodePkcs8 } from '../../../scripts/import-key/pkcs8';
import { privateKeyFromScalar } from '../../../scripts/import-key/private-key';
import { wrapKeyMaterial } from '../../../scripts/import-key/wrap';
import { startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { startLocalS3, type LocalS3 } from '../../helpers/s3-server';
import { runScript } from '../../helpers/cli-process';

jest.setTimeout(60_000);

const KEY = KNOWN_KEYS[1];
const BUCKET = 'eth-key-backups';
let dir: string;
let s3: LocalS3;
let kms: LocalKms;
let keyId: string;
let keyArn: string;
let privatePem: string;
let publicPem: string;
let backupFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'recover-cli-'));
  const recovery = await generateRecoveryKeyPair();
  [s3, kms] = await Promise.all([startLocalS3([BUCKET]), startLocalKms()]);
  // A KMS key that holds KEY, imported the way import-key does it.
  const client = new KMSClient({ endpoint: kms.url, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
  keyId = KeyMetadata?.KeyId as string;
  keyArn = KeyMetadata?.Arn as string;
  const parameters = await client.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
  const material = encodePkcs8(privateKeyFromScalar(Buffer.from(KEY.privateKey.slice(2), 'hex')));
  await client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: parameters.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(material, parameters.PublicKey as Uint8Array, 'RSAES_OAEP_SHA_256'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  client.destroy();

  const envelope = sealPrivateKey(Buffer.from(KEY.privateKey.slice(2), 'hex'), recovery.publicKey, keyId);
  const body = `${JSON.stringify(envelope, null, 2)}\n`;
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${keyId}/recovery_shard-0.txt`, Body: body }));
  backupFile = join(dir, 'recovery_shard-0.txt');
  writeFileSync(backupFile, body);
  privatePem = recovery.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicPem = recovery.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(dir, 'recovery-private.pem'), privatePem, { mode: 0o600 });
  writeFileSync(join(dir, 'recovery-public.pem'), publicPem);
  writeFileSync(join(dir, 'recovery-public.der'), recovery.publicKey.export({ type: 'spki', format: 'der' }));
  writeFileSync(join(dir, 'encrypted.pem'), execFileSync('openssl', ['pkey', '-aes256', '-passout', 'pass:correct horse'], { input: privatePem }), { mode: 0o600 });
});
afterAll(async () => {
  await Promise.all([s3?.close(), kms?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const s3Env = () => ({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.endpoint });
let outputs = 0;
const newOut = () => join(dir, `out-${++outputs}.hex`);

describe('npm run recover (child process)', () => {
  it('--help prints the usage, with --region and --endpoint-url, and exits 0', async () => {
    const result = await runScript('recover.ts', ['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/Usage: npm run recover/);
    expect(result.stdout).toMatch(/--region REGION/);
    expect(result.stdout).toMatch(/--endpoint-url URL/);
  });

  it('reads the backup from s3:// through AWS_ENDPOINT_URL_S3 (a local S3) and checks the KMS key given with --region and --endpoint-url', async () => {
    const out = newOut();
    const result = await runScript('recover.ts', [
      '--backup', `s3://${BUCKET}/${keyId}/recovery_shard-0.txt`, '--recovery-private-key', join(dir, 'recovery-private.pem'), '--out', out,
      '--kms-key-id', keyArn, '--region', 'eu-west-1', '--endpoint-url', kms.url,
    ], { env: { ...s3Env(), AWS_REGION: undefined } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`addresses match: backup ${KEY.address} = KMS ${KEY.address}`);
  });

  it('a passphrase-protected recovery key: says so and how to decrypt it into a pipe; that pipe then works', async () => {
    const refused = await runScript('recover.ts', ['--backup', backupFile, '--recovery-private-key', join(dir, 'encrypted.pem'), '--out', newOut()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/encrypted with a passphrase.*openssl pkey -in .*encrypted\.pem \| npm run recover -- --recovery-private-key -/);
    expect(refused.stderr).not.toMatch(/interrupted or cancelled/);
    const decrypted = execFileSync('openssl', ['pkey', '-in', join(dir, 'encrypted.pem'), '-passin', 'pass:correct horse']);
    const piped = await runScript('recover.ts', ['--backup', backupFile, '--recovery-private-key', '-', '--out', newOut()], { stdin: decrypted });
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toContain(`Address: ${KEY.address}`);
  });

  it.each(['recovery-public.pem', 'recovery-public.der'])('the public key (%s) given by mistake: says the PRIVATE key is needed', async (name) => {
    const result = await runScript('recover.ts', ['--backup', backupFile, '--recovery-private-key', join(dir, name), '--out', newOut()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/recovery PUBLIC key; recovery needs the PRIVATE key/);
    expect(result.stderr).not.toMatch(/DECODER/);
  });

  it('an alias in the s3:// path: says backups are stored under the key id, and how to find it', async () => {
    const result = await runScript('recover.ts', ['--backup', `s3://${BUCKET}/alias/treasury/recovery_shard-0.txt`, '--recovery-private-key', join(dir, 'recovery-private.pem'), '--out', newOut()], { env: s3Env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no backup object at s3:\/\/eth-key-backups\/alias\/treasury.*"alias" is not a bare KMS key id.*aws kms describe-key --key-id alias\/NAME --query KeyMetadata.KeyId/);
  });

  it('an endpoint that is not S3 (the local KMS): says to check AWS_ENDPOINT_URL_S3, not "XML parse error"', async () => {
    const result = await runScript('recover.ts', ['--backup', `s3://${BUCKET}/${keyId}/recovery_shard-0.txt`, '--recovery-private-key', join(dir, 'recovery-private.pem'), '--out', newOut()], { env: { ...s3Env(), AWS_ENDPOINT_URL_S3: kms.url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/did not answer like S3.*AWS_ENDPOINT_URL_S3/);
  });

  it('S3 refusing the credentials (HTTP 403): says which permissions are needed, not "UnknownError"', async () => {
    const result = await runScript('recover.ts', ['--backup', `s3://${BUCKET}/${keyId}/recovery_shard-0.txt`, '--recovery-private-key', join(dir, 'recovery-private.pem'), '--out', newOut()], { env: { ...s3Env(), AWS_ACCESS_KEY_ID: 'someone-else' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/S3 denied s3:GetObject on s3:\/\/eth-key-backups\/.*HTTP 403.*s3:GetObject.*kms:Decrypt.*aws sts get-caller-identity/);
  });

  it('import-key --backup-bucket with credentials S3 refuses: exit 10 with the S3 advice (HeadObject 403 has no body)', async () => {
    const client = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
    client.destroy();
    writeFileSync(join(dir, 'k.hex'), KEY.privateKey, { mode: 0o600 });
    const result = await runScript('import-key.ts', ['--key-file', join(dir, 'k.hex'), '--key-id', KeyMetadata?.Arn as string, '--backup-public-key', join(dir, 'recovery-public.der'), '--backup-bucket', BUCKET], {
      env: { ...s3Env(), AWS_ACCESS_KEY_ID: 'someone-else', AWS_ENDPOINT_URL_KMS: kms.url },
    });
    expect(result.code).toBe(10);
    expect(result.stderr).toMatch(/S3 denied s3:HeadObject.*HTTP 403/);
    expect(result.stderr).not.toMatch(/UnknownError/);
  });
});
