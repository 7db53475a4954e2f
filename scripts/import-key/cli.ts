import { getAddress } from 'ethers';
import type { KMSClient } from '@aws-sdk/client-kms';
import { KmsThrottledError, KmsUnavailableError } from '../../lambdas/signer/kms-errors';
import { newKeyCreatorArn } from './caller-identity';
import { createKmsClient, processIo, userPath, type CliIo } from './cli-io';
import { importedKeyPolicy, keyCreatorFromCallerArn } from './key-policy';
import { EXIT, exitCodeFor } from './exit-codes';
import { generateKeyFile } from './generate';
import { addressLabel, KEY_FORMAT_DESCRIPTIONS, METAMASK_FIRST_ACCOUNT_PATH, type KeyInput } from './key-input';
import {
  createImportTarget,
  describeImportTarget,
  ExpectedAddressMismatchError,
  getImportParameters,
  importKeyMaterial,
  KeyAddressMismatchError,
  ImportAccessDeniedError,
  ImportTokenError,
  KeyAlreadyImportedError,
  KmsCallError,
  kmsKeyAddress,
  proveImport,
  type ImportTarget,
} from './kms-import';
import { AwsSetupError } from './aws-setup';
import { BackupFailedError, createS3Client, makeBackup, planBackup, type BackupPlan } from './backup';
import { fingerprint } from '../recovery/envelope';
import { encodePkcs8 } from './pkcs8';
import { destroyPrivateKey, type PrivateKey } from './private-key';
import { hasKeySource, readKeySource } from './key-source';
import { parseCommandLine, UsageError } from './usage';
import { WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, wrapKeyMaterial } from './wrap';
import { refuseUnignoredKeyFile } from './working-tree';

/** The --help text of npm run import-key. */
export const IMPORT_KEY_USAGE = `Usage: npm run import-key -- KEY TARGET [options]

Imports a secp256k1 private key into an AWS KMS key (origin EXTERNAL), then proves the KMS key has the
key file's address. Keys are never read from the command line: an argument that looks like a key or a
mnemonic is refused unread. With - at a terminal, the key is prompted for and read without echo.
Relative paths are relative to the directory you ran npm in. After a failure of the network, AWS
credentials or the backup target, running the same command again continues where it stopped.

KEY (exactly one):
  --key-file FILE|-         PEM (SEC1 or PKCS#8), DER, or 64 hex digits as MetaMask exports them; - reads stdin
  --mnemonic-file FILE      BIP-39 mnemonic in a file
  --mnemonic -              BIP-39 mnemonic from stdin
  --path PATH               derivation path for a mnemonic (default ${METAMASK_FIRST_ACCOUNT_PATH}, MetaMask's first account)
  --generate NEW_FILE       generate a fresh key and write it to NEW_FILE (mode 0600, never overwritten; inside
                            a git working tree only where git ignores it)

TARGET (exactly one):
  --key-id ID               key id, key ARN, alias/NAME or alias ARN of a key with origin EXTERNAL,
                            spec ECC_SECG_P256K1, usage SIGN_VERIFY, state PendingImport
  --create --alias NAME     create such a key and give it the alias NAME
  --description TEXT        description for --create (default names the address)

Options:
  --expect-address 0x…      refuse (exit 9) unless the key's address is this one, before anything is sent
  --wrapping-algorithm ALG  ${WRAPPING_ALGORITHMS.join(', ')} (default RSAES_OAEP_SHA_256)
  --wrapping-key-spec SPEC  ${WRAPPING_KEY_SPECS.join(', ')} (default RSA_2048)
  --backup-public-key FILE  before importing, keep an encrypted backup that only this RSA-4096 recovery key
                            opens (npm run recovery-keypair); DER, hex or PEM (docs/backup.md). Repeat it (or
                            give a directory, one key file per holder) to split the key into M-of-N shards
  --threshold M             with N recovery keys: any M of the N shards recover the key (2 <= M <= N)
  --backup-dir DIR          ...stored as DIR/<key id>/recovery_shard-I.txt (mode 0600), or
  --backup-bucket NAME      ...in S3 as <key id>/recovery_shard-I.txt (I = 0 for one key, 1..N for shards)
  --backup-kms-key-arn ARN  encrypt the objects with this KMS key (SSE-KMS; default: the bucket's encryption)
  --backup-profile NAME     write to the bucket with this AWS profile (a cross-account writer role, docs/backup.md)
  --endpoint-url URL        KMS endpoint (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, or AWS)
  --region REGION           AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS config)
  --help                    this text

Exit codes: 0 ok, 1 other error, 2 usage, 3 bad key input, 4 key not found, 5 wrong key (spec, usage,
origin, state, alias taken), 6 access denied, 7 import token expired or invalid, 8 key material already
imported or refused, 9 address mismatch, 10 backup failed (nothing imported), 11 AWS region or credentials
missing. See docs/import-key.md.
`;

const OPTIONS = {
  'key-file': { type: 'string' },
  'mnemonic-file': { type: 'string' },
  mnemonic: { type: 'string' },
  path: { type: 'string' },
  generate: { type: 'string' },
  'key-id': { type: 'string' },
  create: { type: 'boolean' },
  alias: { type: 'string' },
  description: { type: 'string' },
  'expect-address': { type: 'string' },
  'wrapping-algorithm': { type: 'string' },
  'wrapping-key-spec': { type: 'string' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  'backup-public-key': { type: 'string', multiple: true },
  threshold: { type: 'string' },
  'backup-dir': { type: 'string' },
  'backup-bucket': { type: 'string' },
  'backup-kms-key-arn': { type: 'string' },
  'backup-profile': { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Runs `npm run import-key` with the given arguments; resolves to the process exit code, never throws. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    await importKey(argv, io);
    return EXIT.ok;
  } catch (error) {
    reportError(error, io);
    if (RERUNNABLE.some((type) => error instanceof type)) {
      io.stderr.write(`Nothing is lost: once that is fixed, run this (it continues where this run stopped, reusing the KMS key and backup it made):\n  ${rerunCommand(argv)}\n`);
    }
    return exitCodeFor(error);
  }
}

// Failures of the environment (network, throttling, credentials, permissions, the backup target), after the
// key was read: the same command, run again, finishes the job.
const RERUNNABLE: (abstract new (...args: never[]) => Error)[] = [BackupFailedError, AwsSetupError, ImportAccessDeniedError, ImportTokenError, KmsCallError, KmsThrottledError, KmsUnavailableError];

/** The command that re-runs this import: --generate becomes --key-file (the key now exists), values shell-quoted. */
export function rerunCommand(argv: readonly string[]): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  const args = argv.map((arg, i) => (arg === '--generate' ? '--key-file' : i > 0 && argv[i - 1] === '--generate' ? userPath(arg) : arg));
  const stdin = args.some((arg, i) => arg === '-' && (args[i - 1] === '--key-file' || args[i - 1] === '--mnemonic'));
  return `${stdin ? '<the same input> | ' : ''}npm run import-key -- ${args.map(quote).join(' ')}`;
}

/** Writes an error for a person: its name and message (never a stack trace, never key material). */
export function reportError(error: unknown, io: CliIo): void {
  // Read name and message structurally: an Error from another realm fails instanceof Error.
  const { name = 'Error', message = String(error) } = (typeof error === 'object' && error !== null ? error : {}) as { name?: string; message?: string };
  if (error instanceof KeyAddressMismatchError) {
    io.stderr.write(`\n!!! ADDRESS MISMATCH !!!\n  key file: ${error.expected}\n  KMS key:  ${error.actual}\n\n`);
  }
  io.stderr.write(`error: ${name}: ${message}\n`);
}

async function importKey(argv: string[], io: CliIo): Promise<void> {
  const options = parseCommandLine(argv, OPTIONS);
  const backUp = async (plan: BackupPlan, key: PrivateKey, keyId: string) => {
    const { locations, reused } = await makeBackup(plan, key, keyId, io.s3Client ?? ((profile?: string) => createS3Client(profile, options.region)));
    if (reused) {
      io.stdout.write(`Backup already stored by an earlier run of this import (same key id, address and recovery keys), kept as it is:\n`);
      locations.forEach((location) => io.stdout.write(`  ${location}\n`));
    } else if (plan.recoveryKeys.length === 1) {
      io.stdout.write(`Backup encrypted to the recovery key ${plan.recoveryKeys[0]!.file}, stored and read back: ${locations[0]}\n`);
    } else {
      io.stdout.write(`Backup split into ${plan.recoveryKeys.length} shards, any ${plan.threshold} of which recover the key; each stored and read back:\n`);
      plan.recoveryKeys.forEach((r, i) => io.stdout.write(`  shard ${i + 1} for ${r.file}: ${locations[i]}\n`));
    }
  };
  if (options.help) {
    io.stdout.write(IMPORT_KEY_USAGE);
    return;
  }
  const algorithm = oneOf(options['wrapping-algorithm'] ?? 'RSAES_OAEP_SHA_256', WRAPPING_ALGORITHMS, '--wrapping-algorithm');
  const spec = oneOf(options['wrapping-key-spec'] ?? 'RSA_2048', WRAPPING_KEY_SPECS, '--wrapping-key-spec');
  checkTargetOptions(options);
  if ((options.generate !== undefined) === hasKeySource(options)) {
    throw new UsageError('Give exactly one key: --key-file FILE, --key-file - (stdin), --mnemonic-file FILE, --mnemonic -, or --generate NEW_FILE');
  }
  const expectAddress = options['expect-address'] === undefined ? undefined : parseAddress(options['expect-address']);
  if (options.generate !== undefined) refuseUnignoredKeyFile(userPath(options.generate), '--generate');
  const backup = await planBackup(options);
  for (const { key: { format, key: recoveryKey }, file } of backup?.recoveryKeys ?? []) {
    const read = format === 'der' ? 'DER' : `${format === 'pem' ? 'PEM' : 'hex text'}, converted to DER`;
    io.stdout.write(`Recovery public key ${file}: RSA-4096 (${read}), fingerprint sha256:${fingerprint(recoveryKey)}\n`);
  }

  const input: KeyInput = options.generate !== undefined
    ? { key: await generateKeyFile(userPath(options.generate)), format: 'sec1-pem' }
    : await readKeySource(options, io);
  const { key } = input;
  try {
    if (options.generate !== undefined) {
      io.stderr.write(
        `WARNING: ${userPath(options.generate)} is the ONLY copy of this private key (mode 0600). Back it up offline before you fund ` +
          'its address: once imported, KMS never exports it, and deleting the KMS key loses it.\n',
      );
    }
    io.stdout.write(`Key: ${KEY_FORMAT_DESCRIPTIONS[input.format]}${input.path ? ` at ${input.path}` : ''}\n`);
    io.stdout.write(`${addressLabel(input)}: ${key.address}\n`);
    if (expectAddress && expectAddress !== key.address) throw new ExpectedAddressMismatchError(key.address, expectAddress, input.path);

    const client = (io.kmsClient ?? createKmsClient)({ endpoint: options['endpoint-url'], region: options.region });
    const description = options.description ?? `Ethereum signing key ${key.address} (imported secp256k1 key material)`;
    let target: ImportTarget;
    try {
      target = options.create
        ? await createImportTarget(client, options.alias as string, description, await newKeyPolicy(client, io))
        : await describeImportTarget(client, options['key-id'] as string);
    } catch (error) {
      // A re-run after an import whose last steps failed: the key may already hold exactly this material.
      if (!(error instanceof KeyAlreadyImportedError)) throw error;
      const kms = await kmsKeyAddress(client, error.keyArn);
      if (kms.address !== key.address) throw new KeyAlreadyImportedError(error.keyId, error.keyArn, error.state, { kmsAddress: kms.address, fileAddress: key.address });
      io.stdout.write(`KMS key ${error.keyArn} already holds this key (an earlier run imported it); nothing is imported again\n`);
      if (backup) await backUp(backup, key, kms.keyArn.split('/').pop() as string);
      const proof = await proveImport(client, error.keyArn, { address: key.address });
      io.stdout.write(`addresses match: key file ${proof.expectedAddress} = KMS key ${proof.kmsAddress} (${error.keyArn})\n`);
      return;
    }
    io.stdout.write(
      target.created
        ? `Created KMS key ${target.keyArn} with alias ${options.alias} (ECC_SECG_P256K1, SIGN_VERIFY, origin EXTERNAL, PendingImport)\n`
        : `KMS key: ${target.keyArn} (ECC_SECG_P256K1, SIGN_VERIFY, origin EXTERNAL, PendingImport)${target.reused ? `, named ${options.alias} by an earlier run of this command` : ''}\n`,
    );

    if (backup) await backUp(backup, key, target.keyId);

    const parameters = await getImportParameters(client, target.keyArn, algorithm, spec);
    io.stdout.write(
      `Wrapping with ${algorithm} and an ${spec} wrapping key` +
        `${parameters.validTo ? ` (import token valid until ${parameters.validTo.toISOString()})` : ''}\n`,
    );
    const material = encodePkcs8(key);
    let encrypted: Buffer;
    try {
      encrypted = wrapKeyMaterial(material, parameters.wrappingPublicKey, algorithm);
    } finally {
      material.fill(0);
    }
    destroyPrivateKey(key); // from here on only the address is needed
    await importKeyMaterial(client, target.keyArn, parameters.importToken, encrypted);
    io.stdout.write('Imported the key material (expiration model KEY_MATERIAL_DOES_NOT_EXPIRE)\n');

    const proof = await proveImport(client, target.keyArn, { address: key.address });
    io.stdout.write(`addresses match: key file ${proof.expectedAddress} = KMS key ${proof.kmsAddress} (${target.keyArn})\n`);
  } finally {
    destroyPrivateKey(key);
  }
}

/** The stack-like policy for a key --create makes, naming the caller as its creator (none for a local KMS). */
async function newKeyPolicy(client: KMSClient, io: CliIo): Promise<string | undefined> {
  const creator = await (io.creatorArn ?? newKeyCreatorArn)(client);
  return creator === undefined ? undefined : importedKeyPolicy(keyCreatorFromCallerArn(creator));
}

function checkTargetOptions(options: { 'key-id'?: string; create?: boolean; alias?: string; description?: string }): void {
  if ((options['key-id'] !== undefined) === (options.create === true)) {
    throw new UsageError('Give exactly one target: --key-id ID (an existing key pending import) or --create --alias NAME');
  }
  if (options.create && !options.alias) throw new UsageError('--create needs --alias NAME, so that the new key can be found again');
  if (!options.create && options.alias !== undefined) throw new UsageError('--alias goes with --create; to name an existing key, use --key-id alias/NAME');
  if (!options.create && options.description !== undefined) throw new UsageError('--description goes with --create');
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

/** Parses an address in any case; an all-lowercase address has no checksum to check. */
export function parseAddress(value: string): string {
  try {
    return getAddress(value);
  } catch (cause) {
    throw new UsageError(`"${value}" is not an Ethereum address (or its mixed-case checksum is wrong)`, cause);
  }
}
