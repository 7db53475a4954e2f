import { getAddress } from 'ethers';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chainIdFromNetwork } from '../lambdas/runtime/chains';
import { loadPolicy, PolicyValidationError } from '../lambdas/policy';

/** An object in S3 (with the version to deploy, so a rewritten object is never picked up unreviewed). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly version?: string;
}

/** The default CDK bootstrap qualifier: its roles are shared by every CDK app in the account and Region. */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';

/** Chains whose coins are worth nothing: everything else is held to the before-mainnet checklist (docs/deploy.md). */
export const TEST_CHAIN_IDS: ReadonlySet<bigint> = new Set([11155111n, 17000n, 560048n, 31337n]);

/** How the stack gets its signing key. */
export type KeyMode = 'new' | 'external' | 'existing';

/** Everything the stack can be told through CDK context (`cdk deploy -c name=value`, or cdk.json). */
export interface SignerSettings {
  readonly keyMode: KeyMode;
  /** The existing key's ARN (keyMode existing): a key ARN, which a key in another account requires. */
  readonly keyArn?: string;
  readonly keyAlias: string;
  readonly ethNetwork: string;
  readonly expectedAddress?: string;
  readonly logLevel: string;
  readonly logRetentionDays: number;
  readonly reservedConcurrency?: number;
  /** Principals that administer the key (never sign); default: the deploying account, so IAM can delegate. */
  readonly adminPrincipalArns: string[];
  /** Principals allowed to import key material and prove it (keyMode external); remove them after the import. */
  readonly importerPrincipalArns: string[];
  /** Also deploy the S3 bucket for encrypted backups of imported key material (off by default). */
  readonly backupBucket: boolean;
  /** With backupBucket: Object Lock COMPLIANCE retention in days (default 3650; 0: no Object Lock, for test stacks). */
  readonly backupObjectLockDays?: number;
  /** With backupBucket: an account whose importers write backups through a role that requires this External ID. */
  readonly backupWriter?: { readonly accountId: string; readonly externalId: string };
  /** The signing policy shipped in both functions' packages (absolute path; validated here, at synth). */
  readonly policyFile: string;
  /** The functions are named `<prefix>-eip1559` and `<prefix>-legacy`, so callers can name them. */
  readonly functionNamePrefix: string;
  /** Principals allowed to invoke the functions (resource-based permissions); none by default. */
  readonly invokerPrincipalArns: string[];
  /** A signing profile version ARN: the functions then run only code signed by it (code signing, Enforce). */
  readonly codeSigningProfileArn?: string;
  /** With code signing: the signed bundles (zip files AWS Signer wrote), which CDK cannot sign itself. */
  readonly signedCode?: { readonly eip1559: S3Location; readonly legacy: S3Location };
  /** The only principals that may rewrite the key policy, schedule the key's deletion or delete imported material. */
  readonly breakGlassPrincipalArns: string[];
  /** The role CloudFormation deploys with; keeps kms:PutKeyPolicy so the stack can update the key policy. */
  readonly deployRoleArn?: string;
  /** The dedicated CDK bootstrap qualifier (cdk bootstrap --qualifier): the stack deploys with its roles only. */
  readonly bootstrapQualifier?: string;
  /** An existing SNS topic that also receives every alarm and alert (e.g. the security team's). */
  readonly alarmTopicArn?: string;
  /** An existing log group into which a trail of management events in this Region is delivered (instead of trail=true). */
  readonly managementTrailLogGroup?: string;
  /** Whether the network's coins are real (not a test chain): the before-mainnet checklist applies. */
  readonly production: boolean;
  /** Signs pre-EIP-155 (chain-less, replayable) legacy transactions only when true. */
  readonly allowPreEip155: boolean;
  /** Email subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Alarm when more policy denials than this happen in 5 minutes. */
  readonly denialAlarmThreshold: number;
  /** Alarm when more signatures than this happen in an hour. */
  readonly signaturesPerHourAlarmThreshold: number;
  /** Also deploy a CloudTrail trail of management events (delivered to CloudWatch Logs) and Lambda Invoke data events (and S3 data events for the backup bucket). */
  readonly trail: boolean;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
// Lambda code signing configs take signing profile *version* ARNs.
const SIGNING_PROFILE_VERSION_ARN = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,64}\/[a-zA-Z0-9]{10}$/;
// Lambda function names are up to 64 letters, digits, - and _; the longest suffix is "-eip1559" (8).
const FUNCTION_NAME_PREFIX = /^[a-zA-Z0-9_-]{1,56}$/;
// A qualifier as cdk bootstrap accepts it (letters and digits, at most 10 characters).
const QUALIFIER = /^[a-z0-9]{1,10}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
const LOG_GROUP_NAME = /^[\w/.#-]{1,512}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
// CloudWatch Logs accepts only these retention periods.
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Reads and checks the context values; every problem names its context key. */
export function readSettings(context: (key: string) => unknown): SignerSettings {
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push(`${key} must be a string`);
      return undefined;
    }
    return String(value).trim();
  };
  const list = (key: string): string[] | undefined => {
    const value = context(key);
    if (value === undefined || value === '') return undefined;
    const items = Array.isArray(value) ? value.map(String) : String(value).split(',').map((item) => item.trim()).filter(Boolean);
    for (const item of items) if (!PRINCIPAL_ARN.test(item)) problems.push(`${key}: "${item}" is not an IAM principal ARN (arn:aws:iam::ACCOUNT:root, :role/NAME or :user/NAME)`);
    return items;
  };
  const integer = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^[0-9]+$/.test(value)) {
      problems.push(`${key} must be a whole number, got "${value}"`);
      return undefined;
    }
    return Number(value);
  };

  const keyMode = (text('keyMode') ?? 'new') as KeyMode;
  if (!['new', 'external', 'existing'].includes(keyMode)) problems.push(`keyMode must be new, external or existing, got "${keyMode}"`);
  const keyArn = text('keyArn');
  if (keyMode === 'existing' && !keyArn) problems.push('keyArn is required with keyMode=existing (the key ARN; a key id or alias cannot be granted across accounts)');
  if (keyArn && !KEY_ARN.test(keyArn)) problems.push(`keyArn "${keyArn}" is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias ARN)`);
  if (keyArn && keyMode !== 'existing') problems.push('keyArn is only used with keyMode=existing');

  const keyAlias = text('keyAlias') ?? 'alias/eth-signer';
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(keyAlias) || keyAlias.startsWith('alias/aws/')) {
    problems.push(`keyAlias "${keyAlias}" must be alias/ followed by letters, digits, /, _ or - (alias/aws/ is reserved)`);
  }

  const ethNetwork = text('ethNetwork') ?? 'sepolia';
  if (chainIdFromNetwork(ethNetwork) === undefined) problems.push(`ethNetwork "${ethNetwork}" is neither a known chain name (mainnet, sepolia, holesky, hoodi, …) nor a decimal chain id`);

  let expectedAddress = text('expectedAddress');
  if (expectedAddress) {
    try {
      expectedAddress = getAddress(expectedAddress);
    } catch {
      problems.push(`expectedAddress "${expectedAddress}" is not an address with a valid EIP-55 checksum`);
    }
  }

  const logLevel = (text('logLevel') ?? 'INFO').toUpperCase();
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const logRetentionDays = integer('logRetentionDays') ?? 365;
  if (!RETENTION_DAYS.includes(logRetentionDays)) problems.push(`logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}, got ${logRetentionDays}`);
  const concurrency = text('reservedConcurrency');
  // Default 5 per function (about 100 warm signatures a second each): below the account's shared ECC Sign quota, so a flood
  // of invocations cannot starve every other signer in the account. "none" removes the reservation.
  const reservedConcurrency = concurrency === 'none' ? undefined : (integer('reservedConcurrency') ?? 5);
  if (reservedConcurrency === 0) problems.push('reservedConcurrency must be at least 1 (0 would stop the functions), or none');

  const adminPrincipalArns = list('adminPrincipalArns') ?? [];
  const importerPrincipalArns = list('importerPrincipalArns') ?? [];
  const invokerPrincipalArns = list('invokerPrincipalArns') ?? [];
  if (invokerPrincipalArns.some((arn) => arn.endsWith(':root'))) {
    problems.push('invokerPrincipalArns must name roles or users, not an account root (a root ARN lets every principal that account allows invoke the signers)');
  }
  const breakGlassPrincipalArns = list('breakGlassPrincipalArns') ?? [];
  if (breakGlassPrincipalArns.some((arn) => arn.endsWith(':root'))) {
    problems.push('breakGlassPrincipalArns must name roles or users, not an account root (the root would let any IAM policy in the account rewrite the key policy)');
  }
  if (breakGlassPrincipalArns.length > 0 && keyMode === 'existing') problems.push('breakGlassPrincipalArns is only used for a key this stack creates (keyMode new or external)');
  const deployRoleArn = text('deployRoleArn');
  if (deployRoleArn && !ROLE_ARN.test(deployRoleArn)) problems.push(`deployRoleArn "${deployRoleArn}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  if (deployRoleArn && /role\/cdk-hnb659fds-/.test(deployRoleArn)) problems.push(`deployRoleArn "${deployRoleArn}" is a role of the default CDK bootstrap, which every CDK app in the account uses: ${BOOTSTRAP_HOW_TO}`);
  const bootstrapQualifier = text('bootstrapQualifier');
  if (bootstrapQualifier !== undefined && !QUALIFIER.test(bootstrapQualifier)) problems.push(`bootstrapQualifier "${bootstrapQualifier.slice(0, 40)}" must be 1 to 10 lower-case letters or digits`);
  if (bootstrapQualifier === DEFAULT_BOOTSTRAP_QUALIFIER) problems.push(`bootstrapQualifier ${DEFAULT_BOOTSTRAP_QUALIFIER} is the default CDK bootstrap, whose roles every CDK app in the account uses: ${BOOTSTRAP_HOW_TO}`);
  if (bootstrapQualifier === undefined && deployRoleArn === undefined) problems.push(`bootstrapQualifier is required (or deployRoleArn): ${BOOTSTRAP_HOW_TO}`);

  const functionNamePrefix = text('functionNamePrefix') ?? 'eth-signer';
  if (!FUNCTION_NAME_PREFIX.test(functionNamePrefix)) problems.push(`functionNamePrefix "${functionNamePrefix}" must be 1 to 56 letters, digits, - or _`);
  const codeSigningProfileArn = text('codeSigningProfileArn');
  if (codeSigningProfileArn && !SIGNING_PROFILE_VERSION_ARN.test(codeSigningProfileArn)) {
    problems.push(
      `codeSigningProfileArn "${codeSigningProfileArn}" is not a signing profile version ARN (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME/VERSION; ` +
        'aws signer get-signing-profile --profile-name NAME --query profileVersionArn prints it)',
    );
  }
  const s3Location = (key: string): S3Location | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+\.zip)(?:\?versionId=([\w.-]{1,1024}))?$/.exec(value);
    if (!match) problems.push(`${key} "${value.slice(0, 200)}" must be s3://BUCKET/KEY.zip?versionId=VERSION (the signed object AWS Signer wrote, and its version)`);
    return match ? { bucket: match[1]!, key: match[2]!, ...(match[3] !== undefined && { version: match[3] }) } : undefined;
  };
  const signedEip1559 = s3Location('signedCodeEip1559');
  const signedLegacy = s3Location('signedCodeLegacy');
  if (codeSigningProfileArn && (!signedEip1559 || !signedLegacy)) {
    problems.push(
      'codeSigningProfileArn needs signedCodeEip1559 and signedCodeLegacy (s3://BUCKET/KEY.zip of each bundle signed by AWS Signer): ' +
        'Lambda rejects the unsigned bundles CDK would upload (docs/deploy.md, Code signing)',
    );
  }
  if (!codeSigningProfileArn && (signedEip1559 || signedLegacy)) problems.push('signedCodeEip1559 and signedCodeLegacy are only used with codeSigningProfileArn');
  const flag = (key: string): boolean => {
    const value = text(key) ?? 'false';
    if (!['true', 'false'].includes(value)) problems.push(`${key} must be true or false, got "${value}"`);
    return value === 'true';
  };
  const allowPreEip155 = flag('allowPreEip155');
  const trail = flag('trail');
  const alarmEmail = text('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.push(`alarmEmail "${alarmEmail}" is not an email address`);
  const alarmTopicArn = text('alarmTopicArn');
  if (alarmTopicArn && !TOPIC_ARN.test(alarmTopicArn)) problems.push(`alarmTopicArn "${alarmTopicArn.slice(0, 200)}" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)`);
  const managementTrailLogGroup = text('managementTrailLogGroup');
  if (managementTrailLogGroup && !LOG_GROUP_NAME.test(managementTrailLogGroup)) problems.push(`managementTrailLogGroup "${managementTrailLogGroup.slice(0, 200)}" is not a log group name`);
  if (managementTrailLogGroup && trail) problems.push('managementTrailLogGroup and trail=true exclude each other: trail=true delivers its own management events to a log group of this stack');
  const denialAlarmThreshold = integer('denialAlarmThreshold') ?? 10;
  const signaturesPerHourAlarmThreshold = integer('signaturesPerHourAlarmThreshold') ?? 100;
  if (signaturesPerHourAlarmThreshold === 0) problems.push('signaturesPerHourAlarmThreshold must be at least 1');
  if (importerPrincipalArns.length > 0 && keyMode !== 'external') problems.push('importerPrincipalArns is only used with keyMode=external');

  const backupBucket = flag('backupBucket');
  const backupObjectLockDays = integer('backupObjectLockDays');
  if (backupObjectLockDays !== undefined && !backupBucket) problems.push('backupObjectLockDays is only used with backupBucket=true');
  if (backupObjectLockDays !== undefined && backupObjectLockDays > 36500) problems.push(`backupObjectLockDays must be 0 (off) to 36500, got ${backupObjectLockDays}`);
  const backupWriterAccount = text('backupWriterAccount');
  const backupWriterExternalId = text('backupWriterExternalId');
  if (backupWriterAccount !== undefined && !/^\d{12}$/.test(backupWriterAccount)) problems.push(`backupWriterAccount must be a 12-digit AWS account id, got "${backupWriterAccount.slice(0, 40)}"`);
  if ((backupWriterAccount === undefined) !== (backupWriterExternalId === undefined)) problems.push('backupWriterAccount and backupWriterExternalId go together (the role\'s trust policy requires the External ID)');
  if (backupWriterExternalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(backupWriterExternalId)) {
    problems.push('backupWriterExternalId must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (use a long random value, e.g. uuidgen)');
  }
  if (backupWriterAccount !== undefined && !backupBucket) problems.push('backupWriterAccount is only used with backupBucket=true');
  const backupWriter = backupWriterAccount !== undefined && backupWriterExternalId !== undefined ? { accountId: backupWriterAccount, externalId: backupWriterExternalId } : undefined;

  const policyFile = readPolicyFile(text('policyFile'), problems);
  const chainId = chainIdFromNetwork(ethNetwork);
  if (policyFile && chainId !== undefined) {
    const chains = policyChainIds(policyFile);
    if (chains.length > 0 && !chains.includes(chainId)) {
      problems.push(`ethNetwork ${ethNetwork} is chain ${chainId}, but every allow rule of policyFile that names a chain names ${chains.join(', ')}: set -c ethNetwork to the policy's chain, or fix the policy`);
    }
  }
  // The before-mainnet checklist (docs/deploy.md): what a synth can check, it checks.
  const production = chainId !== undefined && !TEST_CHAIN_IDS.has(chainId);
  if (production) {
    const before = `ethNetwork ${ethNetwork} holds real funds, so (docs/deploy.md, Before mainnet)`;
    if (!alarmEmail && !alarmTopicArn) problems.push(`${before} alarmEmail or alarmTopicArn is required: alarms nobody receives protect nothing`);
    if (!expectedAddress) problems.push(`${before} expectedAddress is required: pin the key's address so a retargeted key or alias signs nothing`);
    if (!trail && !managementTrailLogGroup) problems.push(`${before} trail=true or managementTrailLogGroup=NAME is required: the key-event and function-change alerts need a trail of management events in this Region`);
    if ((signedEip1559 && !signedEip1559.version) || (signedLegacy && !signedLegacy.version)) problems.push(`${before} signedCodeEip1559 and signedCodeLegacy need ?versionId=VERSION: a rewritten object must not be deployed unreviewed`);
  }

  if (problems.length > 0 || !policyFile) throw new ContextError(problems);
  return {
    policyFile,
    keyMode,
    keyAlias,
    ethNetwork,
    logLevel,
    logRetentionDays,
    adminPrincipalArns,
    importerPrincipalArns,
    backupBucket,
    functionNamePrefix,
    invokerPrincipalArns,
    breakGlassPrincipalArns,
    allowPreEip155,
    denialAlarmThreshold,
    signaturesPerHourAlarmThreshold,
    trail,
    production,
    ...(bootstrapQualifier && { bootstrapQualifier }),
    ...(alarmTopicArn && { alarmTopicArn }),
    ...(managementTrailLogGroup && { managementTrailLogGroup }),
    ...(codeSigningProfileArn && { codeSigningProfileArn }),
    ...(codeSigningProfileArn && signedEip1559 && signedLegacy && { signedCode: { eip1559: signedEip1559, legacy: signedLegacy } }),
    ...(deployRoleArn && { deployRoleArn }),
    ...(alarmEmail && { alarmEmail }),
    ...(backupObjectLockDays !== undefined && { backupObjectLockDays }),
    ...(backupWriter && { backupWriter }),
    ...(keyArn && { keyArn }),
    ...(expectedAddress && { expectedAddress }),
    ...(reservedConcurrency !== undefined && { reservedConcurrency }),
  };
}

const BOOTSTRAP_HOW_TO =
  'bootstrap a qualifier for this stack alone (cdk bootstrap --qualifier ethsigner --cloudformation-execution-policies <the policy from infra/bootstrap/execution-policy.json> --trust <release pipeline account>) and deploy with -c bootstrapQualifier=ethsigner (docs/deploy.md, Deployment identity)';

/** The chain ids the policy's allow rules name (empty: no allow rule names one). */
function policyChainIds(file: string): bigint[] {
  const document = JSON.parse(readFileSync(file, 'utf8')) as { rules?: Array<{ effect?: string; chainId?: number | number[] }> };
  const allows = (document.rules ?? []).filter((rule) => rule.effect === 'allow');
  const ids = allows.flatMap((rule) => (rule.chainId === undefined ? [] : Array.isArray(rule.chainId) ? rule.chainId : [rule.chainId]));
  return [...new Set(ids.map((id) => BigInt(id)))];
}

/** The policy file's absolute path if it holds a valid signing policy; otherwise adds the problems (with their JSON paths). */
function readPolicyFile(file: string | undefined, problems: string[]): string | undefined {
  if (!file) {
    problems.push('policyFile is required: the signing policy the functions enforce, e.g. -c policyFile=examples/policies/relayer.json for the default ethNetwork sepolia, or examples/policies/treasury-payouts.json with -c ethNetwork=mainnet (see the README, "Signing policy"; examples/policies/allow-all.json signs anything)');
    return undefined;
  }
  const path = resolve(file);
  try {
    loadPolicy(readFileSync(path, 'utf8'));
    return path;
  } catch (error) {
    if (error instanceof PolicyValidationError) problems.push(`policyFile ${file} is not a valid signing policy: ${error.issues.map((issue) => `${issue.path} ${issue.problem}`).join('; ')}`);
    else problems.push(`policyFile ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** The CDK context is invalid; the message names each bad context key. */
export class ContextError extends Error {
  override readonly name = 'ContextError';
  constructor(readonly problems: string[]) {
    super(`Invalid CDK context: ${problems.join('; ')}. Set it with cdk deploy -c key=value or in cdk.json.`);
  }
}
