import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SigningKey } from 'ethers';
import { fetchKmsKey } from '../../lambdas/signer/kms-key';
import { SignerError } from '../../lambdas/signer/errors';
import { loadBackup, readSmallFile } from './backup-store';
import { parseShareFile, sealShareForOperator } from './ceremony';
import { InvalidBackupError } from './errors';
import { recoverFromBackups, recoverFromShareFiles } from './recover-key';
import { parseRecoveryPublicKey } from './recovery-key';
import { openShard, SHARD_VERSION, type Backup } from './shards';
import type { CommandIo } from './keypair-command';

const USAGE = `Usage: npm run recover -- --backup FILE|s3://BUCKET/KEY_ID/recovery_shard-I.txt [--backup …]
         --recovery-private-key FILE [--recovery-private-key …] --out FILE [--format hex|pem] [--kms-key-id ID]
       npm run recover -- --decrypt-share --backup SHARD --recovery-private-key FILE --to OPERATOR_PUBLIC_KEY --out SHARE_FILE
       npm run recover -- --combine --share SHARE_FILE [--share …] --operator-private-key FILE --out FILE [--format hex|pem] [--kms-key-id ID]

Recovers a key backed up by npm run import-key --backup-public-key: from its single backup
(recovery_shard-0.txt), or from any M of the N shards of an M-of-N backup, each with its holder's recovery
private key (matched to its shard by fingerprint, in any order). Prints the address, checks the recovered key
against the backup's address (and against the KMS key's with --kms-key-id), and writes the key to a NEW file
(mode 0600): hex (as MetaMask's "Import account" takes it, the default) or PEM (PKCS#8).
Recovery ceremony (docs/backup.md): each holder runs --decrypt-share on their own machine, giving a share file
encrypted to the operator's one-time key (npm run recovery-keypair -- --ephemeral); the operator runs --combine.`;

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
        backup: { type: 'string', multiple: true },
        'recovery-private-key': { type: 'string', multiple: true },
        out: { type: 'string' },
        format: { type: 'string', default: 'hex' },
        'kms-key-id': { type: 'string' },
        'decrypt-share': { type: 'boolean', default: false },
        to: { type: 'string' },
        combine: { type: 'boolean', default: false },
        share: { type: 'string', multiple: true },
        'operator-private-key': { type: 'string' },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { out, format } = values;
  const backups = values.backup ?? [];
  const recoveryKeyFiles = values['recovery-private-key'] ?? [];
  const usage = (problem: string) => {
    io.stderr(`${problem}\n\n${USAGE}\n`);
    return 2;
  };
  if (values['decrypt-share'] && values.combine) return usage('--decrypt-share (a holder) and --combine (the operator) are separate steps; give one.');
  if (values['decrypt-share']) {
    if (backups.length !== 1 || recoveryKeyFiles.length !== 1 || !values.to || !out) {
      return usage('--decrypt-share needs one --backup SHARD, its holder\'s --recovery-private-key FILE, the operator\'s --to PUBLIC_KEY and --out SHARE_FILE.');
    }
    return decryptShare(backups[0]!, recoveryKeyFiles[0]!, values.to, out, io, deps);
  }
  if (format !== 'hex' && format !== 'pem') return usage('--format is hex or pem.');
  if (values.combine) {
    if ((values.share ?? []).length === 0 || !values['operator-private-key'] || !out) return usage('--combine needs the --share files, --operator-private-key FILE and --out FILE.');
  } else if (backups.length === 0 || recoveryKeyFiles.length === 0 || !out) {
    return usage('--backup, --recovery-private-key and --out are required; --format is hex or pem.');
  }

  let secret: Buffer | undefined;
  try {
    const recovered = values.combine
      ? await recoverFromShareFiles(await Promise.all((values.share ?? []).map(async (file) => named(file, async () => parseShareFile(await readSmallFile(file))))), await readPrivateKey(values['operator-private-key'] as string))
      : await recoverFromBackups(await loadBackups(backups, deps), await Promise.all(recoveryKeyFiles.map(readPrivateKey)));
    secret = recovered.secret;
    const quorum = recovered.shares > 1 ? ` from shards ${recovered.used.join(', ')} (${recovered.threshold} of ${recovered.shares} needed)` : '';
    io.stdout(`Backup of KMS key ${recovered.keyId}, created ${recovered.createdAt}${quorum}\nAddress: ${recovered.address} (the recovered key has this address)\n`);

    const kmsKeyId = values['kms-key-id'];
    if (kmsKeyId) {
      const kmsAddress = (await fetchKmsKey(deps.kms ?? new KMSClient({}), kmsKeyId)).address;
      if (kmsAddress !== recovered.address) {
        io.stderr(`ADDRESS MISMATCH: the backup holds ${recovered.address}, KMS key ${kmsKeyId} has ${kmsAddress}. Nothing was written.\n`);
        return 9;
      }
      io.stdout(`addresses match: backup ${recovered.address} = KMS ${kmsAddress}\n`);
    } else {
      io.stdout('Not compared with a KMS key (offline); give --kms-key-id KEY to compare with a key that still exists.\n');
    }

    await writeFile(out as string, format === 'hex' ? `0x${secret.toString('hex')}\n` : toPkcs8Pem(secret), { mode: 0o600, flag: 'wx' });
    io.stdout(
      `Private key written to ${out} (mode 0600, ${format}).\n` +
        'WARNING: this file can sign transactions for the address irrevocably. Import it where it is needed, then\n' +
        'delete it securely; never commit, email or paste it.\n',
    );
    return 0;
  } catch (error) {
    return failure(error, out, io);
  } finally {
    secret?.fill(0);
  }
}

// A holder's step of the ceremony: their shard, decrypted on their machine, re-encrypted to the operator.
async function decryptShare(backup: string, recoveryKeyFile: string, operatorKeyFile: string, out: string, io: CommandIo, deps: RecoverDeps): Promise<number> {
  let share: Buffer | undefined;
  try {
    const operatorKey = parseRecoveryPublicKey(await readFile(operatorKeyFile), operatorKeyFile);
    const [shard] = await loadBackups([backup], deps);
    if (shard?.version !== SHARD_VERSION) throw new InvalidBackupError('--decrypt-share takes one shard of an M-of-N backup; a single-key backup (version 1) is recovered directly, without a ceremony');
    share = openShard(shard, await readPrivateKey(recoveryKeyFile));
    const file = sealShareForOperator(shard, share, operatorKey.key);
    await writeFile(out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    io.stdout(
      `Share ${shard.index} of ${shard.shares} (${shard.threshold} needed) of KMS key ${shard.keyId} (${shard.address}) written to ${out},\n` +
        `encrypted to the operator key sha256:${file.operatorKeySha256}. Compare this fingerprint with the operator's\n` +
        'before you hand the file over; only that one-time key opens it.\n',
    );
    return 0;
  } catch (error) {
    return failure(error, out, io);
  } finally {
    share?.fill(0);
  }
}

async function loadBackups(locations: readonly string[], deps: RecoverDeps): Promise<Backup[]> {
  const s3 = locations.some((l) => l.startsWith('s3://')) ? (deps.s3 ?? new S3Client({})) : undefined;
  return Promise.all(locations.map((location) => named(location, () => loadBackup(location, s3))));
}

// Names the file in a parse error: with several shards, "the backup cannot be used" alone does not say which.
async function named<T>(location: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidBackupError) throw new (error.constructor as typeof InvalidBackupError)(`${location}: ${error.message.replace(/^The backup cannot be used: /, '')}`, error);
    throw error;
  }
}

async function readPrivateKey(file: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(file));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== undefined) throw cause;
    throw new InvalidBackupError(`${file} is not a PEM or DER private key (give the RSA recovery PRIVATE key file)`, cause);
  }
}

function failure(error: unknown, out: string | undefined, io: CommandIo): number {
  const e = error as NodeJS.ErrnoException;
  const message = e.code === 'EEXIST' ? `${out} already exists; choose a new --out file (it is never overwritten).` : error instanceof SignerError ? `${error.name}: ${error.message}` : `Recovery failed: ${e.message}`;
  io.stderr(`${message} Nothing was written.\n`);
  return 1;
}

/** PKCS#8 PEM of a secp256k1 scalar, through node's crypto (OpenSSL) via JWK. */
function toPkcs8Pem(secret: Buffer): string {
  const point = Buffer.from(SigningKey.computePublicKey(secret, false).slice(4), 'hex');
  const jwk = { kty: 'EC', crv: 'secp256k1', d: secret.toString('base64url'), x: point.subarray(0, 32).toString('base64url'), y: point.subarray(32).toString('base64url') };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
}
