import { createHash, createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { KmsError, kmsErrors } from './errors';
import { validateInput } from './api-model';
import { OPERATION_INPUTS } from './api-model.generated';
import { generatePrivateKey, messageDigest, publicKeySpki, signDigest, verifyDigest, type EccKeySpec } from './ecdsa';
import { generateWrappingKey, privateScalarFromPkcs8, unwrapKeyMaterial, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type WrappingAlgorithm, type WrappingKeySpec } from './key-import';
import type { AliasRecord, KeyRecord, KeyStore } from './store';

/** The fake AWS account every emulated key belongs to. */
export const ACCOUNT_ID = '111122223333';
const KEY_SPECS: readonly EccKeySpec[] = ['ECC_SECG_P256K1', 'ECC_NIST_P256'];
const IMPORT_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
const MAX_RAW_MESSAGE_BYTES = 4096;
const MAX_VALID_TO_SECONDS = 365 * 24 * 60 * 60; // ImportKeyMaterial: ValidTo at most 365 days ahead
// Operations that change no state: no need to rewrite the state file (Sign is the hot path).
const READ_ONLY_OPERATIONS = new Set(['DescribeKey', 'ListKeys', 'ListAliases', 'GetPublicKey', 'Sign', 'Verify']);

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/** What each request carries besides its body: the region from its SigV4 credential scope, and the time. */
export interface RequestContext {
  readonly region: string;
  readonly now: Date;
}

/** The KMS operations the emulator implements, each taking the request body and returning the response body. */
export class KmsOperations {
  constructor(private readonly store: KeyStore) {}

  /** Runs one operation by its KMS name (the part after `TrentService.`). */
  async run(operation: string, input: Input, context: RequestContext): Promise<Output> {
    // A Map: X-Amz-Target TrentService.constructor must be an unknown operation, not Object.prototype.constructor.
    const handler = this.handlers.get(operation);
    const shape = Object.hasOwn(OPERATION_INPUTS, operation) ? OPERATION_INPUTS[operation] : undefined;
    if (!handler || !shape) throw new KmsError('UnknownOperationException', `The local KMS does not implement ${operation}.`);
    validateInput(shape, input);
    if (shape.members && Object.hasOwn(shape.members, 'DryRun') && input.DryRun === true) {
      // KMS checks the request and the key, then signs (or verifies) nothing.
      this.usableKey(input, context);
      throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun parameter was set.', 412);
    }
    const output = await handler(input, context);
    if (!READ_ONLY_OPERATIONS.has(operation)) this.store.save();
    return output;
  }

  private readonly handlers = new Map<string, (input: Input, context: RequestContext) => Output | Promise<Output>>(Object.entries({
    CreateKey: (input, { region, now }) => {
      const keySpec = optionalString(input, 'KeySpec') ?? optionalString(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
      if (!KEY_SPECS.includes(keySpec as EccKeySpec)) {
        throw kmsErrors.unsupported(`The local KMS emulates only asymmetric signing keys (${KEY_SPECS.join(', ')}); KeySpec ${keySpec} is not supported.`);
      }
      const keyUsage = optionalString(input, 'KeyUsage');
      if (keyUsage !== 'SIGN_VERIFY') {
        throw kmsErrors.validation(`KeyUsage must be SIGN_VERIFY for a ${keySpec} key in the local KMS (got ${keyUsage ?? 'the default, ENCRYPT_DECRYPT'}).`);
      }
      const origin = optionalString(input, 'Origin') ?? 'AWS_KMS';
      if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') {
        throw kmsErrors.unsupported(`Origin ${origin} is not supported by the local KMS (AWS_KMS or EXTERNAL).`);
      }
      const keyId = randomUUID();
      const key: KeyRecord = {
        keyId,
        arn: `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${keyId}`,
        region,
        keySpec: keySpec as EccKeySpec,
        origin,
        description: optionalString(input, 'Description') ?? '',
        creationDate: epochSeconds(now),
        state: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
        ...(origin === 'AWS_KMS' && { privateKey: Buffer.from(generatePrivateKey(keySpec as EccKeySpec)).toString('hex') }),
      };
      this.store.keys.set(keyId, key);
      return { KeyMetadata: metadata(key) };
    },

    DescribeKey: (input, context) => ({ KeyMetadata: metadata(this.key(input, context, true)) }),

    ListKeys: (input, { region }) => {
      const keys = [...this.store.keys.values()].filter((key) => key.region === region);
      return page(keys.map((key) => ({ KeyId: key.keyId, KeyArn: key.arn })), input, 'Keys');
    },

    CreateAlias: (input, context) => {
      const aliasName = aliasNameOf(input);
      const target = this.key({ KeyId: requiredString(input, 'TargetKeyId') }, context, false);
      const id = `${context.region}/${aliasName}`;
      if (this.store.aliases.has(id)) throw kmsErrors.alreadyExists(`An alias with the name ${this.aliasArn(aliasName, context.region)} already exists`);
      const now = epochSeconds(context.now);
      this.store.aliases.set(id, { aliasName, region: context.region, targetKeyId: target.keyId, creationDate: now, lastUpdatedDate: now });
      return {};
    },

    ListAliases: (input, context) => {
      const keyId = optionalString(input, 'KeyId');
      const target = keyId === undefined ? undefined : this.key({ KeyId: keyId }, context, false).keyId;
      const aliases = [...this.store.aliases.values()].filter((a) => a.region === context.region && (target === undefined || a.targetKeyId === target));
      return page(aliases.map((a) => this.aliasEntry(a)), input, 'Aliases');
    },

    DeleteAlias: (input, { region }) => {
      const aliasName = aliasNameOf(input);
      if (!this.store.aliases.delete(`${region}/${aliasName}`)) throw kmsErrors.notFound(`Alias ${this.aliasArn(aliasName, region)} is not found.`);
      return {};
    },

    GetPublicKey: (input, context) => {
      const key = this.usableKey(input, context);
      return {
        KeyId: key.arn,
        PublicKey: publicKeySpki(key.keySpec, material(key)).toString('base64'),
        KeySpec: key.keySpec,
        CustomerMasterKeySpec: key.keySpec,
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ['ECDSA_SHA_256'],
      };
    },

    Sign: (input, context) => {
      const key = this.usableKey(input, context);
      const digest = signingDigest(input);
      return { KeyId: key.arn, Signature: signDigest(key.keySpec, material(key), digest).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
    },

    Verify: (input, context) => {
      const key = this.usableKey(input, context);
      const digest = signingDigest(input);
      if (!verifyDigest(key.keySpec, material(key), digest, requiredBlob(input, 'Signature'))) {
        throw kmsErrors.invalidSignature('The signature is not valid for this key, message and signing algorithm.');
      }
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: 'ECDSA_SHA_256' };
    },

    GetParametersForImport: async (input, context) => {
      const key = this.externalKey(input, context);
      if (key.state === 'PendingDeletion') throw kmsErrors.invalidState(`${key.arn} is pending deletion.`);
      const algorithm = requiredString(input, 'WrappingAlgorithm');
      if (!(WRAPPING_ALGORITHMS as readonly string[]).includes(algorithm)) {
        throw kmsErrors.validation(`WrappingAlgorithm ${algorithm} is not supported for ${key.keySpec} key material; use one of ${WRAPPING_ALGORITHMS.join(', ')}.`);
      }
      const spec = requiredString(input, 'WrappingKeySpec');
      if (!Object.hasOwn(WRAPPING_KEY_SPECS, spec)) throw kmsErrors.validation(`WrappingKeySpec ${spec} is not one of ${Object.keys(WRAPPING_KEY_SPECS).join(', ')}.`);
      const { publicKey, privateKey } = await generateWrappingKey(spec as WrappingKeySpec);
      const validTo = epochSeconds(context.now) + IMPORT_TOKEN_LIFETIME_SECONDS;
      // A new call supersedes the previous token of this key, as in KMS.
      key.importParameters = {
        token: randomBytes(48).toString('hex'),
        wrappingPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: algorithm as WrappingAlgorithm,
        validTo,
      };
      return {
        KeyId: key.arn,
        ImportToken: Buffer.from(key.importParameters.token, 'hex').toString('base64'),
        PublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        ParametersValidTo: validTo,
      };
    },

    ImportKeyMaterial: (input, context) => {
      const key = this.externalKey(input, context);
      if (key.state === 'PendingDeletion') throw kmsErrors.invalidState(`${key.arn} is pending deletion.`);
      const token = requiredBlob(input, 'ImportToken').toString('hex');
      const encrypted = requiredBlob(input, 'EncryptedKeyMaterial');
      const params = key.importParameters;
      if (!params || params.token !== token) {
        throw kmsErrors.invalidImportToken('The import token is not valid for this KMS key: it belongs to another key or was superseded by a later GetParametersForImport.');
      }
      if (epochSeconds(context.now) > params.validTo) throw kmsErrors.expiredImportToken('The import token has expired (tokens are valid for 24 hours); call GetParametersForImport again.');
      const expirationModel = optionalString(input, 'ExpirationModel') ?? 'KEY_MATERIAL_EXPIRES';
      const validTo = input.ValidTo === undefined ? undefined : Math.floor(Number(input.ValidTo));
      if (expirationModel === 'KEY_MATERIAL_EXPIRES' && validTo === undefined) {
        throw kmsErrors.validation('ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES (the default); use KEY_MATERIAL_DOES_NOT_EXPIRE for material that never expires.');
      }
      if (expirationModel !== 'KEY_MATERIAL_EXPIRES' && expirationModel !== 'KEY_MATERIAL_DOES_NOT_EXPIRE') throw kmsErrors.validation(`ExpirationModel ${expirationModel} is not valid.`);
      if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE' && validTo !== undefined) throw kmsErrors.validation('ValidTo must be absent when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
      if (validTo !== undefined && !(validTo > epochSeconds(context.now))) throw kmsErrors.validation('ValidTo must be a time in the future.');
      if (validTo !== undefined && validTo > epochSeconds(context.now) + MAX_VALID_TO_SECONDS) throw kmsErrors.validation('ValidTo must be at most 365 days from now.');

      const wrappingKey = createPrivateKey(params.wrappingPrivateKeyPem);
      const plaintext = unwrapKeyMaterial(encrypted, wrappingKey, params.algorithm);
      let scalar: Uint8Array;
      try {
        scalar = privateScalarFromPkcs8(plaintext, key.keySpec);
      } finally {
        plaintext.fill(0);
      }
      const publicKey = publicKeySpki(key.keySpec, scalar).toString('hex');
      if (key.importedPublicKey !== undefined && key.importedPublicKey !== publicKey) {
        throw kmsErrors.incorrectKeyMaterial('The key material is not the material that was previously imported into this KMS key; only the same material can be reimported.');
      }
      // Reimporting the same material is allowed in any state but PendingDeletion: it sets a new expiration and
      // leaves an Enabled or Disabled key as it was; a key pending import becomes Enabled.
      key.privateKey = Buffer.from(scalar).toString('hex');
      key.importedPublicKey = publicKey;
      key.expirationModel = expirationModel;
      key.validTo = validTo;
      if (key.state === 'PendingImport') key.state = 'Enabled';
      delete key.importParameters; // a token imports once
      return { KeyId: key.arn, KeyMaterialId: createHash('sha256').update(publicKey).digest('hex') };
    },

    DeleteImportedKeyMaterial: (input, context) => {
      const key = this.externalKey(input, context);
      delete key.privateKey;
      delete key.expirationModel;
      delete key.validTo;
      // A key pending deletion stays so (KMS allows this); CancelKeyDeletion then leaves it PendingImport.
      if (key.state !== 'PendingDeletion') key.state = 'PendingImport';
      return { KeyId: key.arn };
    },

    EnableKey: (input, context) => this.setEnabled(input, context, true),
    DisableKey: (input, context) => this.setEnabled(input, context, false),

    ScheduleKeyDeletion: (input, context) => {
      const key = this.key(input, context, false);
      if (key.state === 'PendingDeletion') throw kmsErrors.invalidState(`${key.arn} is already pending deletion.`);
      const days = input.PendingWindowInDays === undefined ? 30 : Number(input.PendingWindowInDays);
      if (!Number.isInteger(days) || days < 7 || days > 30) throw kmsErrors.validation(`PendingWindowInDays must be an integer from 7 to 30, got ${String(input.PendingWindowInDays)}.`);
      key.state = 'PendingDeletion';
      key.pendingWindowInDays = days;
      key.deletionDate = epochSeconds(context.now) + days * 24 * 60 * 60;
      return { KeyId: key.arn, DeletionDate: key.deletionDate, KeyState: key.state, PendingWindowInDays: days };
    },

    CancelKeyDeletion: (input, context) => {
      const key = this.key(input, context, false);
      if (key.state !== 'PendingDeletion') throw kmsErrors.invalidState(`${key.arn} is not pending deletion (state ${key.state}).`);
      // KMS leaves a key whose deletion was cancelled disabled (or pending import, without material).
      key.state = key.privateKey === undefined ? 'PendingImport' : 'Disabled';
      delete key.deletionDate;
      delete key.pendingWindowInDays;
      return { KeyId: key.arn };
    },
  } satisfies Record<string, (input: Input, context: RequestContext) => Output | Promise<Output>>));

  private setEnabled(input: Input, context: RequestContext, enabled: boolean): Output {
    const key = this.key(input, context, false);
    if (key.state === 'PendingDeletion' || key.state === 'PendingImport') throw kmsErrors.invalidState(`${key.arn} is ${key.state}.`);
    key.state = enabled ? 'Enabled' : 'Disabled';
    return {};
  }

  /** Resolves KeyId (key id or key ARN; alias name or alias ARN where `allowAlias`) in the request's region. */
  private key(input: Input, { region }: RequestContext, allowAlias: boolean): KeyRecord {
    const keyId = requiredString(input, 'KeyId');
    const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(keyId);
    if (keyId.startsWith('arn:') && !arn) throw kmsErrors.invalidArn(`${keyId} is not a valid KMS ARN.`);
    const [keyRegion, account, kind, name] = arn ? [arn[1]!, arn[2]!, arn[3]!, arn[4]!] : [region, ACCOUNT_ID, keyId.startsWith('alias/') ? 'alias' : 'key', keyId.replace(/^alias\//, '')];
    if (kind === 'alias') {
      if (!allowAlias) throw kmsErrors.notFound(`Invalid keyId ${keyId}: this operation takes a key id or key ARN, not an alias.`);
      const alias = account === ACCOUNT_ID ? this.store.aliases.get(`${keyRegion}/alias/${name}`) : undefined;
      if (!alias) throw kmsErrors.notFound(`Alias ${this.aliasArn(`alias/${name}`, keyRegion)} is not found.`);
      return this.store.keys.get(alias.targetKeyId)!;
    }
    const key = this.store.keys.get(name);
    if (!key || key.region !== keyRegion || account !== ACCOUNT_ID) throw kmsErrors.notFound(`Key 'arn:aws:kms:${keyRegion}:${account}:key/${name}' does not exist`);
    return key;
  }

  /** A key that can sign now: enabled, with key material. */
  private usableKey(input: Input, context: RequestContext): KeyRecord {
    const key = this.key(input, context, true);
    if (key.state === 'Disabled') throw kmsErrors.disabled(`${key.arn} is disabled.`);
    if (key.state !== 'Enabled') throw kmsErrors.invalidState(`${key.arn} is ${key.state}.`);
    return key;
  }

  private externalKey(input: Input, context: RequestContext): KeyRecord {
    const key = this.key(input, context, false);
    if (key.origin !== 'EXTERNAL') throw kmsErrors.unsupported(`${key.arn} has origin ${key.origin}; key material can be imported only into keys with origin EXTERNAL.`);
    return key;
  }

  private aliasArn(aliasName: string, region: string): string {
    return `arn:aws:kms:${region}:${ACCOUNT_ID}:${aliasName}`;
  }

  private aliasEntry(alias: AliasRecord): Output {
    return { AliasName: alias.aliasName, AliasArn: this.aliasArn(alias.aliasName, alias.region), TargetKeyId: alias.targetKeyId, CreationDate: alias.creationDate, LastUpdatedDate: alias.lastUpdatedDate };
  }
}

function metadata(key: KeyRecord): Output {
  return {
    AWSAccountId: ACCOUNT_ID,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.creationDate,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'SIGN_VERIFY',
    KeyState: key.state,
    Origin: key.origin,
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    SigningAlgorithms: ['ECDSA_SHA_256'],
    MultiRegion: false,
    ...(key.expirationModel && { ExpirationModel: key.expirationModel }),
    ...(key.validTo !== undefined && { ValidTo: key.validTo }),
    ...(key.deletionDate !== undefined && { DeletionDate: key.deletionDate, PendingDeletionWindowInDays: key.pendingWindowInDays }),
  };
}

function material(key: KeyRecord): Uint8Array {
  return Buffer.from(key.privateKey ?? '', 'hex');
}

/** The digest a Sign or Verify request asks for, after checking message type, size and algorithm. */
function signingDigest(input: Input): Uint8Array {
  const message = requiredBlob(input, 'Message');
  const messageType = optionalString(input, 'MessageType') ?? 'RAW';
  if (messageType !== 'RAW' && messageType !== 'DIGEST') throw kmsErrors.validation(`MessageType must be RAW or DIGEST, got ${messageType}.`);
  const algorithm = requiredString(input, 'SigningAlgorithm');
  if (algorithm !== 'ECDSA_SHA_256') {
    throw kmsErrors.invalidKeyUsage(`SigningAlgorithm ${algorithm} is not supported by this key; its signing algorithms are [ECDSA_SHA_256].`);
  }
  if (messageType === 'DIGEST' && message.length !== 32) {
    throw kmsErrors.validation(`Digest is invalid length for algorithm ECDSA_SHA_256: a DIGEST message must be 32 bytes, got ${message.length}.`);
  }
  if (message.length > MAX_RAW_MESSAGE_BYTES) throw kmsErrors.validation(`Message must be at most ${MAX_RAW_MESSAGE_BYTES} bytes.`);
  return messageDigest(message, messageType);
}

function aliasNameOf(input: Input): string {
  const aliasName = requiredString(input, 'AliasName');
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName)) throw kmsErrors.validation(`AliasName ${aliasName} must start with alias/ followed by letters, digits, /, _ or -.`);
  if (aliasName.startsWith('alias/aws/')) throw kmsErrors.validation('Alias names beginning with alias/aws/ are reserved for AWS managed keys.');
  return aliasName;
}

/** One page of a list: `Limit` 1 to 1000 (default 100), `Marker` the `NextMarker` of the previous page. */
function page(items: Output[], input: Input, field: string): Output {
  const start = input.Marker === undefined ? 0 : Number(input.Marker);
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new KmsError('InvalidMarkerException', `Marker ${String(input.Marker)} is not a NextMarker this list returned.`);
  const limit = input.Limit === undefined ? 100 : Number(input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw kmsErrors.validation(`1 validation error detected: Value '${String(input.Limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000`);
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  return { [field]: slice, Truncated: truncated, ...(truncated && { NextMarker: String(start + limit) }) };
}

function requiredString(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw kmsErrors.validation(`1 validation error detected: Value at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  return input[field] === undefined ? undefined : requiredString(input, field);
}

function requiredBlob(input: Input, field: string): Buffer {
  const value = requiredString(input, field);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) throw kmsErrors.validation(`${field} is not valid base64.`);
  return bytes;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
