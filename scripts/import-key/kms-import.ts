import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { SignerError } from '../../lambdas/signer/errors';
import { KmsAccessDeniedError, KmsKeyNotFoundError, KmsKeyStateError, KmsKeyUsageError } from '../../lambdas/signer/kms-errors';
import { KmsSigner } from '../../lambdas/signer/kms-signer';
import { toAwsSetupError } from './aws-setup';
import type { WrappingAlgorithm, WrappingKeySpec } from './wrap';

/** A KMS key that is ready to receive secp256k1 key material. */
export interface ImportTarget {
  readonly keyArn: string;
  readonly keyId: string;
  /** True when this run created the key (and its alias). */
  readonly created: boolean;
  /** True when --create found the key an earlier, interrupted run of the same command had created. */
  readonly reused?: boolean;
}

/** What GetParametersForImport returns: the wrapping public key (DER SPKI) and the token that goes with it. */
export interface ImportParameters {
  readonly wrappingPublicKey: Uint8Array;
  readonly importToken: Uint8Array;
  readonly validTo?: Date;
}

/** What the proof after the import found. */
export interface ImportProof {
  readonly kmsAddress: string;
  readonly expectedAddress: string;
}

const KEY_SPEC = 'ECC_SECG_P256K1';
const KEY_USAGE = 'SIGN_VERIFY';

/**
 * Looks the key up (id, ARN, alias) and checks it can take secp256k1 key material: spec
 * ECC_SECG_P256K1, usage SIGN_VERIFY, origin EXTERNAL, state PendingImport. Every mismatch is reported.
 */
export async function describeImportTarget(client: KMSClient, keyId: string): Promise<ImportTarget> {
  const metadata = await describeKey(client, keyId);
  const problems: string[] = [];
  if (metadata.KeySpec !== KEY_SPEC) problems.push(`its key spec is ${metadata.KeySpec ?? 'unknown'}, not ${KEY_SPEC} (the spec of a key cannot change)`);
  if (metadata.KeyUsage !== KEY_USAGE) problems.push(`its key usage is ${metadata.KeyUsage ?? 'unknown'}, not ${KEY_USAGE}`);
  if (metadata.Origin !== 'EXTERNAL') {
    problems.push(`its origin is ${metadata.Origin ?? 'unknown'}, not EXTERNAL: KMS made its key material and it can never take imported material`);
  }
  const arn = metadata.Arn ?? keyId;
  if (problems.length === 0 && (metadata.KeyState === 'Enabled' || metadata.KeyState === 'Disabled')) {
    throw new KeyAlreadyImportedError(keyId, arn, metadata.KeyState);
  }
  if (metadata.KeyState !== 'PendingImport') {
    problems.push(
      metadata.KeyState === 'PendingDeletion'
        ? 'it is scheduled for deletion (aws kms cancel-key-deletion, if that was a mistake)'
        : `its state is ${metadata.KeyState ?? 'unknown'}, not PendingImport`,
    );
  }
  if (problems.length > 0) throw new WrongKeyError(keyId, problems);
  return { keyArn: arn, keyId: metadata.KeyId ?? keyId, created: false };
}

/**
 * Creates a secp256k1 signing key with origin EXTERNAL (state PendingImport) and points `alias` at it.
 * Refuses an alias that already exists; if the alias cannot be created, the new key is scheduled for deletion.
 */
export async function createImportTarget(client: KMSClient, alias: string, description: string, policy?: string): Promise<ImportTarget> {
  const aliasName = toAliasName(alias);
  const existing = await describeKey(client, aliasName).catch((error: unknown) => {
    if (error instanceof ImportKeyNotFoundError) return undefined;
    throw error;
  });
  if (existing) {
    const arn = existing.Arn ?? existing.KeyId ?? 'another key';
    // The same command run again after a failure: the key it created, with the description it gave it.
    const ours = existing.Description === description && existing.KeySpec === KEY_SPEC && existing.KeyUsage === KEY_USAGE && existing.Origin === 'EXTERNAL';
    if (ours && existing.KeyState === 'PendingImport') return { keyArn: arn, keyId: existing.KeyId ?? arn, created: false, reused: true };
    if (ours && (existing.KeyState === 'Enabled' || existing.KeyState === 'Disabled')) throw new KeyAlreadyImportedError(aliasName, arn, existing.KeyState);
    throw new AliasTakenError(aliasName, arn, existing.KeyState ?? 'unknown');
  }
  let metadata: KeyMetadata | undefined;
  try {
    ({ KeyMetadata: metadata } = await client.send(
      new CreateKeyCommand({ KeySpec: KEY_SPEC, KeyUsage: KEY_USAGE, Origin: 'EXTERNAL', Description: description, ...(policy && { Policy: policy }) }),
    ));
  } catch (error) {
    throw toImportError('CreateKey', aliasName, error);
  }
  const keyId = metadata?.KeyId;
  if (!keyId) throw new KmsCallError('CreateKey', aliasName, 'KMS returned no key id');
  try {
    await client.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: keyId }));
  } catch (error) {
    // A key nobody can find by name is a key nobody will delete: schedule it for deletion now (it holds no material).
    // 30 days: the key policy import-key gives new keys denies shorter windows.
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 30 })).catch(() => undefined);
    throw toImportError('CreateAlias', aliasName, error);
  }
  return { keyArn: metadata?.Arn ?? keyId, keyId, created: true };
}

/** Asks KMS for a wrapping public key and import token for the key. */
export async function getImportParameters(
  client: KMSClient,
  keyArn: string,
  algorithm: WrappingAlgorithm,
  spec: WrappingKeySpec,
): Promise<ImportParameters> {
  let response;
  try {
    response = await client.send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: algorithm, WrappingKeySpec: spec }));
  } catch (error) {
    throw toImportError('GetParametersForImport', keyArn, error);
  }
  if (!response.PublicKey || !response.ImportToken) {
    throw new KmsCallError('GetParametersForImport', keyArn, 'KMS returned no public key or import token');
  }
  return { wrappingPublicKey: response.PublicKey, importToken: response.ImportToken, validTo: response.ParametersValidTo };
}

/** Imports the wrapped key material with KEY_MATERIAL_DOES_NOT_EXPIRE. */
export async function importKeyMaterial(client: KMSClient, keyArn: string, importToken: Uint8Array, encrypted: Uint8Array): Promise<void> {
  try {
    await client.send(
      new ImportKeyMaterialCommand({
        KeyId: keyArn,
        ImportToken: importToken,
        EncryptedKeyMaterial: encrypted,
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      }),
    );
  } catch (error) {
    throw toImportError('ImportKeyMaterial', keyArn, error);
  }
}

/**
 * Proves the imported key is the expected one: the address of KMS's public key (which KMS derives from the
 * imported private key) must be the key file's. No signature is needed, so importers never hold kms:Sign.
 * Throws KeyAddressMismatchError with both addresses.
 */
export async function proveImport(
  client: KMSClient,
  keyArn: string,
  expected: { address: string },
): Promise<ImportProof> {
  const { address: kmsAddress } = await new KmsSigner({ keyId: keyArn, client }).getKey().catch((error: unknown) => {
    throw toImportError('GetPublicKey', keyArn, error);
  });
  if (kmsAddress !== expected.address) throw new KeyAddressMismatchError(keyArn, expected.address, kmsAddress);
  return { kmsAddress, expectedAddress: expected.address };
}

/** The address of a KMS key, from GetPublicKey (checked to be a secp256k1 signing key). */
export async function kmsKeyAddress(client: KMSClient, keyId: string, flag = '--key-id'): Promise<{ keyArn: string; address: string }> {
  const { keyArn, address } = await new KmsSigner({ keyId, client }).getKey().catch((error: unknown) => {
    throw toImportError('GetPublicKey', keyId, error, flag);
  });
  return { keyArn, address };
}

/** Adds the alias/ prefix when missing and checks the name is one KMS accepts for a customer alias. */
export function toAliasName(alias: string): string {
  const name = alias.startsWith('alias/') ? alias : `alias/${alias}`;
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith('alias/aws/')) {
    throw new InvalidAliasError(alias);
  }
  return name;
}

async function describeKey(client: KMSClient, keyId: string): Promise<KeyMetadata> {
  try {
    const { KeyMetadata: metadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    if (!metadata) throw new KmsCallError('DescribeKey', keyId, 'KMS returned no key metadata');
    return metadata;
  } catch (error) {
    throw toImportError('DescribeKey', keyId, error);
  }
}

/** The fields of an AWS SDK v3 error that we read. */
interface AwsError {
  name?: string;
  message?: string;
}

/**
 * Turns an error from a KMS call in the import flow into a typed error that says what to do; the SDK
 * error is kept as the cause. Errors from the signing core (GetPublicKey, Sign) are mapped the same way.
 */
export function toImportError(operation: string, keyId: string, error: unknown, flag = '--key-id'): SignerError {
  const setup = toAwsSetupError(error);
  if (setup) return setup;
  if (error instanceof KmsKeyNotFoundError) return new ImportKeyNotFoundError(keyId, error.message, error, flag);
  if (error instanceof KmsAccessDeniedError) return new ImportAccessDeniedError(keyId, operation, error.message, error);
  if (error instanceof KmsKeyStateError || error instanceof KmsKeyUsageError) return new WrongKeyError(keyId, [error.message], error);
  if (error instanceof SignerError) return error;
  const { name = 'Error', message = String(error) } = (error ?? {}) as AwsError;
  const detail = `${name}: ${message}`;
  switch (name) {
    case 'NotFoundException':
    case 'InvalidArnException':
      return new ImportKeyNotFoundError(keyId, detail, error, flag);
    case 'AccessDeniedException':
    case 'MalformedPolicyDocumentException': // CreateKey's lockout check: the creator's IAM policy lacks kms:PutKeyPolicy
      return new ImportAccessDeniedError(keyId, operation, detail, error);
    case 'ExpiredImportTokenException':
    case 'InvalidImportTokenException':
    case 'InvalidCiphertextException':
      return new ImportTokenError(keyId, name, detail, error);
    case 'IncorrectKeyMaterialException':
      return new IncorrectKeyMaterialError(keyId, detail, error);
    case 'KMSInvalidStateException':
    case 'InvalidKeyUsageException':
    case 'UnsupportedOperationException':
      return new WrongKeyError(keyId, [detail], error);
    case 'AlreadyExistsException':
      return new AliasTakenError(keyId, 'an existing key', 'unknown', error);
    default:
      return new KmsCallError(operation, keyId, detail, error);
  }
}

/** No such key or alias in this account and region. */
export class ImportKeyNotFoundError extends SignerError {
  override readonly name = 'ImportKeyNotFoundError';
  constructor(keyId: string, detail: string, cause?: unknown, flag = '--key-id') {
    super(
      `KMS key ${keyId} was not found (${detail}). Check ${flag} (key id, key ARN or alias/NAME) and the region ` +
        `(--region or AWS_REGION)${flag === '--key-id' ? '; to create a key, use --create --alias NAME' : ''}.`,
      { cause },
    );
  }
}

/** The key cannot take this import: wrong spec, usage, origin or state. */
export class WrongKeyError extends SignerError {
  override readonly name = 'WrongKeyError';
  constructor(keyId: string, readonly problems: string[], cause?: unknown) {
    super(
      `KMS key ${keyId} cannot be used here: ${problems.join('; ')}. ` +
        `An import needs a key with key spec ${KEY_SPEC}, key usage ${KEY_USAGE}, origin EXTERNAL and state PendingImport ` +
        '(create one with --create --alias NAME); reading an address needs a key that holds key material.',
      { cause },
    );
  }
}

/** The key already holds key material. */
export class KeyAlreadyImportedError extends SignerError {
  override readonly name = 'KeyAlreadyImportedError';
  constructor(readonly keyId: string, readonly keyArn: string, readonly state: string, holds?: { kmsAddress: string; fileAddress: string }) {
    super(
      holds
        ? `KMS key ${keyId} (${keyArn}) already holds ANOTHER key (state ${state}): its address is ${holds.kmsAddress}, not your key's ` +
            `${holds.fileAddress}; nothing was sent. A key takes only the material it was first given: import your key into a new KMS key ` +
            '(--create --alias NEW_NAME), or check that --key-id names the key you meant.'
        : `KMS key ${keyId} (${keyArn}) already holds imported key material (state ${state}); nothing was sent. ` +
            `Check which address it has with: npm run address -- --kms-key-id ${keyArn} --key-file FILE. ` +
            'A key takes only the material it was first given; to import another key, create a new KMS key (--create --alias NAME).',
    );
  }
}

/** KMS refused the material: it is not the material this key had before. */
export class IncorrectKeyMaterialError extends SignerError {
  override readonly name = 'IncorrectKeyMaterialError';
  constructor(keyId: string, detail: string, cause?: unknown) {
    super(
      `KMS refused the key material for ${keyId} (${detail}). A KMS key whose material was deleted accepts only the same ` +
        'material again: use the original key file, or import this key into a new KMS key (--create --alias NAME).',
      { cause },
    );
  }
}

/** The import token expired, belongs to another key, or does not match the wrapped material. */
export class ImportTokenError extends SignerError {
  override readonly name = 'ImportTokenError';
  constructor(keyId: string, readonly kmsError: string, detail: string, cause?: unknown) {
    super(
      `KMS did not accept the import token or wrapped key material for ${keyId} (${detail}). ` +
        (kmsError === 'ExpiredImportTokenException'
          ? 'The import token expired (it is valid for 24 hours): run the import again to get a new one.'
          : 'Run the import again: it fetches a new wrapping key and token and wraps the material with them.'),
      { cause },
    );
  }
}

/** IAM or the key policy denied a call (or there are no credentials). */
export class ImportAccessDeniedError extends SignerError {
  override readonly name = 'ImportAccessDeniedError';
  constructor(keyId: string, operation: string, detail: string, cause?: unknown) {
    super(
      `Access denied: kms:${operation} on ${keyId} (${detail}). The importing identity needs kms:DescribeKey, ` +
        'kms:GetParametersForImport, kms:ImportKeyMaterial and kms:GetPublicKey on the key ' +
        '(and kms:CreateKey, kms:CreateAlias, kms:PutKeyPolicy for --create), in its IAM policy and in the key policy.',
      { cause },
    );
  }
}

/** The alias for --create already exists. */
export class AliasTakenError extends SignerError {
  override readonly name = 'AliasTakenError';
  constructor(alias: string, target: string, state: string, cause?: unknown) {
    const advice: Record<string, string> = {
      PendingImport: `To import into that key (it is waiting for key material), use --key-id ${alias}; otherwise choose another alias.`,
      Enabled: `That key already holds key material and cannot take another key. To see whether it holds this one: npm run address -- --kms-key-id ${alias} --key-file FILE. Otherwise choose another alias.`,
      Disabled: `That key already holds key material (and is disabled). To see whether it holds this one: aws kms enable-key, then npm run address -- --kms-key-id ${alias} --key-file FILE. Otherwise choose another alias.`,
      PendingDeletion: `That key is scheduled for deletion: choose another alias, or free this one with aws kms delete-alias --alias-name ${alias}.`,
    };
    super(
      `The alias ${alias} already exists (it names ${target}, state ${state}); nothing was created. ` +
        (Object.hasOwn(advice, state) ? advice[state] : 'Choose another alias.'),
      { cause },
    );
  }
}

/** The alias is not a valid KMS customer alias name. */
export class InvalidAliasError extends SignerError {
  override readonly name = 'InvalidAliasError';
  constructor(alias: string) {
    super(`The alias "${alias}" is not valid: use letters, digits, "/", "_" and "-" (optionally after "alias/"), not starting with alias/aws/.`);
  }
}

/** The key in KMS is not the key from the file: the loudest failure, since funds sent to it could be lost. */
export class KeyAddressMismatchError extends SignerError {
  override readonly name = 'KeyAddressMismatchError';
  constructor(keyId: string, readonly expected: string, readonly actual: string, flag = '--key-id') {
    super(
      `ADDRESS MISMATCH: the key file gives ${expected}, but the KMS public key gives ${actual} (KMS key ${keyId}). ` +
        `Do not send funds to ${actual} or use this KMS key until you know why; check that ${flag} names the key you imported into.`,
    );
  }
}

/** The key file's address is not the one --expect-address names: the wrong file, or the wrong --path. Nothing was sent. */
export class ExpectedAddressMismatchError extends SignerError {
  override readonly name = 'ExpectedAddressMismatchError';
  constructor(readonly fileAddress: string, readonly expectedAddress: string, path: string | undefined) {
    super(
      `The key gives ${fileAddress}, but --expect-address is ${expectedAddress}; nothing was sent to KMS. ` +
        (path === undefined
          ? 'The key file holds another account\'s key: check you exported the account you meant (MetaMask: Account details > Show private key).'
          : `The mnemonic at ${path} is another account: MetaMask account N is m/44'/60'/0'/0/N-1 (give --path), or the phrase is another wallet's.`),
    );
  }
}

/** Any other KMS or network failure. */
export class KmsCallError extends SignerError {
  override readonly name = 'KmsCallError';
  constructor(operation: string, keyId: string, detail: string, cause?: unknown) {
    super(`The call to kms:${operation} for ${keyId} failed (${detail}). Check the region, endpoint and network, then retry.`, { cause });
  }
}
