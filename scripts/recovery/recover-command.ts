import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { SigningKey } from 'ethers';
import { fetchKmsKey } from '../../lambdas/signer/kms-key';
import { SignerError } from '../../lambdas/signer/errors';
import { toAwsSetupError } from '../import-key/aws-setup';
import { createS3Client } from '../import-key/backup';
import { capped, createKmsClient, userPath } from '../import-key/cli-io';
import { toImportError } from '../import-key/kms-import';
import { KeyFileInWorkingTreeError, refuseUnignoredKeyFile } from '../import-key/working-tree';
import { loadBackup, readSmallFile } from './backup-store';
import { parseShareFile, sealShareForOperator } from './ceremony';
import { atLocation, InvalidBackupError, InvalidRecoveryKeyError } from './errors';
import { recoverFromBackups, recoverFromShareFiles } from './recover-key';
import { parseRecoveryPublicKey } from './recovery-key';
import { openShard, SHARD_VERSION, type Backup } from './shards';
import { parseCommandArgs, type CommandIo } from './command-line';

const USAGE = `Usage: npm run recover -- --backup FILE|s3://BUCKET/KEY_ID/recovery_shard-I.txt [--backup …]
         --recovery-private-key FILE|- [--recovery-private-key …] --out FILE [--format hex|pem] [--kms-key-id ID]
         [--region REGION] [--endpoint-url URL]
       npm run recover -- --decrypt-share --backup SHARD --recovery-private-key FILE --to OPERATOR_PUBLIC_KEY --out SHARE_FILE
       npm run recover -- --combine --share SHARE_FILE [--share …] --operator-private-key FILE --out FILE [--format hex|pem] [--kms-key-id ID]

Recovers a key backed up by npm run import-key --backup-public-key: from its single backup
(recovery_shard-0.txt), or from any M of the N shards of an M-of-N backup, each with its holder's recovery
private key (matched to its shard by fingerprint, in any order). Prints the address, checks the recovered key
against the backup's address (and against the KMS key's with --kms-key-id), and writes the key to a NEW file
(mode 0600): hex (as MetaMask's "Import account" takes it, the default) or PEM (PKCS#8). Inside a git working
tree, --out must be a path git ignores.
Recovery ceremony (docs/backup.md): each holder runs --decrypt-share on their own machine, giving a share file
encrypted to the operator's one-time key (npm run recovery-keypair -- --ephemeral); the operator runs --combine.

  s3://BUCKET/KEY_ID/…        KEY_ID is the bare KMS key id, never an alias (aws kms describe-key --key-id alias/NAME)
  --recovery-private-key -    read the recovery private key from stdin, e.g. one protected by a passphrase:
                              openssl pkey -in recovery-private.pem | npm run recover -- --recovery-private-key - …
  --region REGION             AWS region for S3 and KMS (default: AWS_REGION, AWS_DEFAULT_REGION, profile)
  --endpoint-url URL          KMS endpoint (default: AWS_ENDPOINT_URL_KMS); S3 uses AWS_ENDPOINT_URL_S3
  --help                      this text
Relative paths are relative to the directory you ran npm in.
Exit codes: 0 ok, 1 failure (nothing written), 2 usage, 9 address mismatch, 11 AWS region or credentials missing.`;

/** Clients the command uses; tests inject clients pointed at local servers. */
export interface RecoverDeps {
  readonly kms?: KMSClient;
  readonly s3?: S3Client;
  /** Where `--recovery-private-key -` is read from; defaults to the process's stdin. */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

/** Runs `npm run recover`; returns the exit code (0 ok, 1 failure, 2 usage, 9 address mismatch). */
export async function recoverCommand(argv: string[], io: CommandIo, deps: RecoverDeps = {}): Promise<number> {
  const options = {
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
    region: { type: 'string' },
    'endpoint-url': { type: 'string' },
    help: { type: 'boolean', default: false },
  } as const;
  const values = parseCommandArgs(argv, options, USAGE, io);
  if (typeof values === 'number') return values;
  const { format, region } = values;
  const out = values.out === undefined ? undefined : userPath(values.out);
  const backups = (values.backup ?? []).map((location) => (location.startsWith('s3://') ? location : userPath(location)));
  const recoveryKeyFiles = (values['recovery-private-key'] ?? []).map((file) => (file === '-' ? file : userPath(file)));
  if (recoveryKeyFiles.filter((file) => file === '-').length > 1) {
    io.stderr(`Only one --recovery-private-key can be - (stdin).\n\n${USAGE}\n`);
    return 2;
  }
  deps = { ...deps, s3: deps.s3 ?? (backups.some((location) => location.startsWith('s3://')) ? createS3Client(undefined, region) : undefined) };
  const readPrivateKey = (file: string) => readRecoveryPrivateKey(file, deps.stdin);
  const usage = (problem: string) => {
    io.stderr(`${problem}\n\n${USAGE}\n`);
    return 2;
  };
  if (values['decrypt-share'] && values.combine) return usage('--decrypt-share (a holder) and --combine (the operator) are separate steps; give one.');
  if (values['decrypt-share']) {
    if (backups.length !== 1 || recoveryKeyFiles.length !== 1 || !values.to || !out) {
      return usage('--decrypt-share needs one --backup SHARD, its holder\'s --recovery-private-key FILE, the operator\'s --to PUBLIC_KEY and --out SHARE_FILE.');
    }
    return decryptShare(backups[0]!, recoveryKeyFiles[0]!, userPath(values.to), out, io, deps);
  }
  if (format !== 'hex' && format !== 'pem') return usage('--format is hex or pem.');
  if (values.combine) {
    if ((values.share ?? []).length === 0 || !values['operator-private-key'] || !out) return usage('--combine needs the --share files, --operator-private-key FILE and --out FILE.');
  } else if (backups.length === 0 || recoveryKeyFiles.length === 0 || !out) {
    return usage('--backup, --recovery-private-key and --out are required; --format is hex or pem.');
  }
  // Before anything is decrypted or printed: a run that cannot write its result reveals nothing.
  const unwritable = await outProblem(out as string);
  if (unwritable) {
    io.stderr(`${unwritable.message} Nothing was written.\n`);
    return unwritable.exitCode;
  }

  let secret: Buffer | undefined;
  try {
    const locations = new Map<object, string>();
    const located = <T extends object>(items: T[], names: readonly string[]): T[] => {
      items.forEach((item, i) => locations.set(item, names[i]!));
      return items;
    };
    const shareFiles = (values.share ?? []).map(userPath);
    const recovered = values.combine
      ? await recoverFromShareFiles(located(await Promise.all(shareFiles.map(async (file) => named(file, async () => parseShareFile(await readSmallFile(file))))), shareFiles), await readPrivateKey(userPath(values['operator-private-key'] as string)), locations)
      : await recoverFromBackups(located(await loadBackups(backups, deps), backups), await Promise.all(recoveryKeyFiles.map(readPrivateKey)), locations);
    secret = recovered.secret;
    const quorum = recovered.shares > 1 ? ` from shards ${recovered.used.join(', ')} (${recovered.threshold} of ${recovered.shares} needed)` : '';
    io.stdout(`Backup of KMS key ${recovered.keyId}, created ${recovered.createdAt}${quorum}\nAddress: ${recovered.address} (the recovered key has this address)\n`);

    const kmsKeyId = values['kms-key-id'];
    if (kmsKeyId) {
      const client = deps.kms ?? createKmsClient({ endpoint: values['endpoint-url'], region });
      const kmsAddress = (
        await fetchKmsKey(client, kmsKeyId).catch((error: unknown) => {
          throw toImportError('GetPublicKey', kmsKeyId, error, '--kms-key-id');
        })
      ).address;
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
    const recoveryKey = await readRecoveryPrivateKey(recoveryKeyFile, deps.stdin);
    try {
      share = openShard(shard, recoveryKey);
    } catch (error) {
      throw error instanceof InvalidBackupError ? atLocation(error, backup) : error;
    }
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

// Why the recovered key could not be written to --out, found before recovery starts: the file exists (it is
// never overwritten) or it lies unignored in a git working tree.
async function outProblem(out: string): Promise<{ message: string; exitCode: number } | undefined> {
  try {
    refuseUnignoredKeyFile(out, '--out');
  } catch (error) {
    if (error instanceof KeyFileInWorkingTreeError) return { message: `error: ${error.name}: ${error.message}`, exitCode: 2 };
    throw error;
  }
  return (await pathExists(out)) ? { message: `${out} already exists; choose a new --out file (it is never overwritten).`, exitCode: 1 } : undefined;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function loadBackups(locations: readonly string[], deps: RecoverDeps): Promise<Backup[]> {
  const s3 = locations.some((l) => l.startsWith('s3://')) ? (deps.s3 ?? createS3Client()) : undefined;
  return Promise.all(locations.map((location) => named(location, () => loadBackup(location, s3))));
}

// Names the file in a parse error: with several shards, "the backup cannot be used" alone does not say which.
async function named<T>(location: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof InvalidBackupError) throw atLocation(error, location);
    throw error;
  }
}

/**
 * Reads an RSA recovery (or operator) private key, PEM or DER, from a file or stdin (-), giving each common
 * mistake its own message instead of OpenSSL's ("interrupted or cancelled" for a passphrase, "DECODER
 * routines::unsupported" for a public key).
 */
export async function readRecoveryPrivateKey(file: string, stdin: AsyncIterable<Uint8Array | string> = process.stdin): Promise<KeyObject> {
  const where = file === '-' ? 'stdin' : capped(file);
  let content: Buffer;
  try {
    content = file === '-' ? await readAll(stdin) : await readFile(file);
  } catch (cause) {
    throw new InvalidRecoveryKeyError(where, `cannot read it (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}); give the path of the recovery private key (recovery-private.pem), or - for stdin`, cause);
  }
  try {
    const text = content.toString('latin1');
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
      throw new InvalidRecoveryKeyError(
        where,
        'the recovery private key is encrypted with a passphrase. Decrypt it into a pipe (openssl asks for the passphrase), so ' +
          `that the plaintext never touches a disk: openssl pkey -in ${file === '-' ? 'recovery-private.pem' : where} | npm run recover -- --recovery-private-key - …`,
      );
    }
    if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text) || (!text.includes('-----BEGIN') && isPublicKey(content))) {
      throw new InvalidRecoveryKeyError(where, 'this is the recovery PUBLIC key; recovery needs the PRIVATE key (recovery-private.pem, kept offline)');
    }
    let key: KeyObject;
    try {
      key = text.includes('-----BEGIN') ? createPrivateKey({ key: text, format: 'pem' }) : createPrivateKey({ key: content, format: 'der', type: 'pkcs8' });
    } catch (cause) {
      throw new InvalidRecoveryKeyError(where, 'it is not a private key in PEM or PKCS#8 DER (give recovery-private.pem from npm run recovery-keypair)', cause);
    }
    if (key.asymmetricKeyType !== 'rsa') {
      throw new InvalidRecoveryKeyError(where, `it is an ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key, not an RSA recovery key (is it the Ethereum key itself?)`);
    }
    return key;
  } finally {
    content.fill(0);
  }
}

async function readAll(stdin: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// A public key as binary DER, or as the hex text recovery-keypair writes (recovery-public.hex).
function isPublicKey(content: Buffer): boolean {
  const text = content.toString('latin1').trim();
  const der = /^[0-9a-fA-F\s]+$/.test(text) ? Buffer.from(text.replace(/\s+/g, ''), 'hex') : content;
  try {
    createPublicKey({ key: der, format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

function failure(error: unknown, out: string | undefined, io: CommandIo): number {
  const setup = toAwsSetupError(error);
  if (setup) {
    io.stderr(`error: ${setup.message} Nothing was written.\n`);
    return 11;
  }
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
