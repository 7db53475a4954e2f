// The EthereumSigner construct's props: the CDK context keys of infra/context.ts as typed values, checked by the
// same readSettings, so a prop and a context value have one default, one rule and one message.
import { ContextError, readSettings, type KeyMode, type S3Location, type SignerSettings } from './context';

/** A log level of the functions (LOG_LEVEL); lower case is accepted too. */
export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL' | 'SILENT';

/** The two signer Lambdas, by the bundle each runs. */
export type SignerKind = 'eip1559' | 'legacy';

/**
 * What an EthereumSigner deploys. Each prop is the CDK context key of the same name in docs/deploy.md, with its
 * default; only `policyFile` is required. Invalid props fail the synth with an EthereumSignerPropsError.
 */
export interface EthereumSignerProps {
  /** The signing policy both functions enforce (absolute, or relative to the directory cdk runs in); validated at synth, shipped as policy.json. */
  readonly policyFile: string;
  /** `new` (default): a key generated in KMS; `external`: a key for your own key material; `existing`: the key named by keyArn. */
  readonly keyMode?: KeyMode;
  /** With keyMode `existing`: the key's ARN (a key in another account must be named by ARN). */
  readonly keyArn?: string;
  /** The alias of a key this construct creates. Default `alias/eth-signer`. */
  readonly keyAlias?: string;
  /** Chain name or decimal chain id the functions sign for (ETH_NETWORK). Default `sepolia`. */
  readonly ethNetwork?: string;
  /** Pins the key's address (EXPECTED_ADDRESS): the functions refuse to sign with any other key. */
  readonly expectedAddress?: string;
  /** The functions are named `<prefix>-eip1559` and `<prefix>-legacy` (1 to 56 letters, digits, - or _). Default `eth-signer`. */
  readonly functionNamePrefix?: string;
  /** LOG_LEVEL of the functions. Default `INFO`. */
  readonly logLevel?: LogLevel | Lowercase<LogLevel>;
  /** Retention of the functions' log groups (and the trail's logs), a CloudWatch Logs retention period. Default 365. */
  readonly logRetentionDays?: number;
  /** Reserved concurrent executions per function; `none` removes the reservation. Default 5. */
  readonly reservedConcurrency?: number | 'none';
  /** Principals (role or user ARNs) given lambda:InvokeFunction on both functions. Default none. */
  readonly invokerPrincipalArns?: readonly string[];
  /** Principals that administer the key (never sign, never rewrite its policy). Default: the deploying account. */
  readonly adminPrincipalArns?: readonly string[];
  /** Roles or users that alone may rewrite the key policy, schedule deletion or delete imported material. */
  readonly breakGlassPrincipalArns?: readonly string[];
  /**
   * The role CloudFormation deploys with (keeps kms:PutKeyPolicy; never a role of the default bootstrap `hnb659fds`).
   * Default: the execution role of bootstrapQualifier. One of the two is required.
   */
  readonly deployRoleArn?: string;
  /**
   * The dedicated CDK bootstrap qualifier (`cdk bootstrap --qualifier …`, 1 to 10 lower-case letters or digits, not
   * `hnb659fds`): its execution role is the only deployer the key policy, the table policy and the guard trust. Give
   * the holding stack a `DefaultStackSynthesizer({ qualifier })` with the same value. Required unless deployRoleArn is given.
   */
  readonly bootstrapQualifier?: string;
  /** With keyMode `external`: principals allowed to import key material and prove it (never sign). */
  readonly importerPrincipalArns?: readonly string[];
  /** A signing profile version ARN: the functions then run only code it signed (Enforce); needs signedCode. */
  readonly codeSigningProfileArn?: string;
  /** With codeSigningProfileArn: each bundle as AWS Signer signed it (an S3 object whose key ends in .zip). */
  readonly signedCode?: { readonly eip1559: S3Location; readonly legacy: S3Location };
  /** Lets the legacy function sign pre-EIP-155 transactions (a policy rule must allow them too). Default false. */
  readonly allowPreEip155?: boolean;
  /** An email address subscribed to the alarm topic (this or alarmTopicArn is required before mainnet). */
  readonly alarmEmail?: string;
  /** An existing SNS topic (e.g. the security team's) that also receives every alarm and alert. */
  readonly alarmTopicArn?: string;
  /** An existing log group receiving a trail of this Region's management events, instead of `trail: true` (one of the two before mainnet). */
  readonly managementTrailLogGroup?: string;
  /** Policy denials in 5 minutes above which the denial alarm fires. Default 10. */
  readonly denialAlarmThreshold?: number;
  /** Signatures in an hour above which the signing-rate alarm fires (at least 1). Default 100. */
  readonly signaturesPerHourAlarmThreshold?: number;
  /** Also deploy a CloudTrail trail of management events (delivered to CloudWatch Logs) and the functions' invocations (and the backup bucket's objects). Default false. */
  readonly trail?: boolean;
  /** Also deploy the S3 bucket for encrypted key backups (docs/backup.md). Default false. */
  readonly backupBucket?: boolean;
  /** With backupBucket: Object Lock COMPLIANCE retention in days, 0 (off, test stacks only) to 36500. Default 3650. */
  readonly backupObjectLockDays?: number;
  /** With backupBucket: an account whose importers write backups through a role that requires this External ID. */
  readonly backupWriter?: { readonly accountId: string; readonly externalId: string };
  /** Where the two Lambda bundles are. Default: the bundles shipped with the package (dist/eip1559, dist/legacy). */
  readonly codeDirectories?: { readonly eip1559: string; readonly legacy: string };
}

/** Every prop's name, checked against EthereumSignerProps by the type below: an unknown prop is refused, not ignored. */
export const PROP_NAMES = [
  'policyFile',
  'keyMode',
  'keyArn',
  'keyAlias',
  'ethNetwork',
  'expectedAddress',
  'functionNamePrefix',
  'logLevel',
  'logRetentionDays',
  'reservedConcurrency',
  'invokerPrincipalArns',
  'adminPrincipalArns',
  'breakGlassPrincipalArns',
  'deployRoleArn',
  'bootstrapQualifier',
  'importerPrincipalArns',
  'codeSigningProfileArn',
  'signedCode',
  'allowPreEip155',
  'alarmEmail',
  'alarmTopicArn',
  'managementTrailLogGroup',
  'denialAlarmThreshold',
  'signaturesPerHourAlarmThreshold',
  'trail',
  'backupBucket',
  'backupObjectLockDays',
  'backupWriter',
  'codeDirectories',
] as const satisfies ReadonlyArray<keyof EthereumSignerProps>;
// A prop added to the interface but not to the list fails the type check here.
const everyPropListed: Exclude<keyof EthereumSignerProps, (typeof PROP_NAMES)[number]> extends never ? true : never = true;
void everyPropListed;

/** Props whose context form is not one key of the same name: the context keys each stands for. */
const CONTEXT_FORMS: ReadonlyMap<string, (props: EthereumSignerProps) => Record<string, unknown>> = new Map<string, (props: EthereumSignerProps) => Record<string, unknown>>([
  ['signedCode', (props: EthereumSignerProps) => ({ signedCodeEip1559: s3Url(props.signedCode?.eip1559), signedCodeLegacy: s3Url(props.signedCode?.legacy) })],
  ['backupWriter', (props: EthereumSignerProps) => ({ backupWriterAccount: props.backupWriter?.accountId, backupWriterExternalId: props.backupWriter?.externalId })],
  ['codeDirectories', () => ({})],
]);

/** The context keys EthereumSignerProps covers: each prop, or the keys of its context form. */
export function contextKeysOfProps(): string[] {
  const empty = { policyFile: '' };
  return PROP_NAMES.flatMap((name) => Object.keys(CONTEXT_FORMS.get(name)?.(empty) ?? { [name]: undefined }));
}

/**
 * Checks the props and applies their defaults, with readSettings: the rules and messages of the CDK context.
 * Throws EthereumSignerPropsError naming every bad or unknown prop.
 */
export function settingsFromProps(props: EthereumSignerProps): SignerSettings {
  const known: ReadonlySet<string> = new Set(PROP_NAMES);
  const unknown = Object.keys(props).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((name) => `"${name.slice(0, 60)}"`);
    throw new EthereumSignerPropsError([`unknown prop${unknown.length > 1 ? 's' : ''} ${names.join(', ')}${unknown.length > 5 ? ', …' : ''} (EthereumSignerProps: ${PROP_NAMES.join(', ')})`]);
  }
  const context: Record<string, unknown> = {};
  for (const name of PROP_NAMES) {
    const form = CONTEXT_FORMS.get(name);
    Object.assign(context, form ? form(props) : { [name]: props[name] });
  }
  try {
    return readSettings((key) => (Object.hasOwn(context, key) ? context[key] : undefined));
  } catch (error) {
    if (error instanceof ContextError) throw new EthereumSignerPropsError(error.problems, { cause: error });
    throw error;
  }
}

/** The props that give these (already checked) settings: how the repository's own app hands its CDK context to the construct. */
export function propsFromSettings(settings: SignerSettings, codeDirectories?: EthereumSignerProps['codeDirectories']): EthereumSignerProps {
  // readSettings accepted only the log levels LogLevel names (upper-cased).
  const logLevel = settings.logLevel as LogLevel;
  // `production` is computed from ethNetwork, not a prop: the unknown-prop check would refuse it.
  const { production: _computed, ...props } = settings;
  void _computed;
  return { ...props, logLevel, reservedConcurrency: settings.reservedConcurrency ?? 'none', ...(codeDirectories && { codeDirectories }) };
}

function s3Url(location: (S3Location & { readonly version?: string }) | undefined): string | undefined {
  if (location === undefined) return undefined;
  return `s3://${location.bucket}/${location.key}${location.version ? `?versionId=${location.version}` : ''}`;
}

/** The EthereumSigner's props are invalid; `problems` names each bad prop, with the rule it broke. */
export class EthereumSignerPropsError extends Error {
  override readonly name = 'EthereumSignerPropsError';
  constructor(
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`Invalid EthereumSigner props: ${problems.join('; ')}. Fix them where the construct is created.`, options);
  }
}
