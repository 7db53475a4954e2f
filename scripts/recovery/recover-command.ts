import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SigningKey } from 'ethers';
import { fetchKmsKey } from '../../lambdas/signer/kms-key';
import { SignerError } from '../../lambdas/signer/errors';
import { loadBackup } from './backup-store';
import { openEnvelope } from './envelope';
import type { CommandIo } from './keypair-command';

const USAGE = `Usage: npm run recover -- --backup FILE|s3://BUCKET/KEY_ID/recovery_shard-0.txt
         --recovery-private-key FILE --out FILE [--format hex|pem] [--kms-key-id ID]

Decrypts a backup made by npm run import-key --backup-public-key, prints the address, checks it against
the KMS key's address with --kms-key-id, and writes the private key to a NEW file (mode 0600):
hex (as MetaMask's "Import account" takes it, the default) or PEM (PKCS#8).`;

/** Clients the command uses; tests inject clients pointed at local servers. */
export interface RecoverDeps {
  readonly kms?: KMSClient;
  readonly s3?: S3Client;
}

/** Runs `npm run recover`; returns the exit code (0 ok, 1 failure, 2 usage, 9 address mismatch). */
export async function recoverCommand(argv: string[], io: CommandIo, deps: RecoverDeps = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        backup: { type: 'string' },
        'recovery-private-key': { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string', default: 'hex' },
        'kms-key-id': { type: 'string' },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { backup, out, format } = values;
  const recoveryKeyFile = values['recovery-private-key'];
  if (!backup || !recoveryKeyFile || !out || (format !== 'hex' && format !== 'pem')) {
    io.stderr(`--backup, --recovery-private-key and --out are required; --format is hex or pem.\n\n${USAGE}\n`);
    return 2;
  }

  let secret: Buffer | undefined;
  try {
    const envelope = await loadBackup(backup, backup.startsWith('s3://') ? (deps.s3 ?? new S3Client({})) : undefined);
    const recoveryKey = createPrivateKey(await readFile(recoveryKeyFile));
    secret = openEnvelope(envelope, recoveryKey);
    io.stdout(`Backup of KMS key ${envelope.keyId}, created ${envelope.createdAt}\nAddress: ${envelope.address}\n`);

    const kmsKeyId = values['kms-key-id'];
    if (kmsKeyId) {
      const kmsAddress = (await fetchKmsKey(deps.kms ?? new KMSClient({}), kmsKeyId)).address;
      if (kmsAddress !== envelope.address) {
        io.stderr(`ADDRESS MISMATCH: the backup holds ${envelope.address}, KMS key ${kmsKeyId} has ${kmsAddress}. Nothing was written.\n`);
        return 9;
      }
      io.stdout(`addresses match: backup ${envelope.address} = KMS ${kmsAddress}\n`);
    }

    await writeFile(out, format === 'hex' ? `0x${secret.toString('hex')}\n` : toPkcs8Pem(secret), { mode: 0o600, flag: 'wx' });
    io.stdout(
      `Private key written to ${out} (mode 0600, ${format}).\n` +
        'WARNING: this file can sign transactions for the address irrevocably. Import it where it is needed, then\n' +
        'delete it securely; never commit, email or paste it.\n',
    );
    return 0;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    io.stderr(`${e.code === 'EEXIST' ? `${out} already exists; choose a new --out file (it is never overwritten).` : error instanceof SignerError ? error.message : `Recovery failed: ${e.message}`}\n`);
    return 1;
  } finally {
    secret?.fill(0);
  }
}

/** PKCS#8 PEM of a secp256k1 scalar, through node's crypto (OpenSSL) via JWK. */
function toPkcs8Pem(secret: Buffer): string {
  const point = Buffer.from(SigningKey.computePublicKey(secret, false).slice(4), 'hex');
  const jwk = { kty: 'EC', crv: 'secp256k1', d: secret.toString('base64url'), x: point.subarray(0, 32).toString('base64url'), y: point.subarray(32).toString('base64url') };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}
