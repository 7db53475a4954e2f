import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { KeyMode } from './context';
import { KEY_ADMIN_ACTIONS } from './key-admin-actions';

/** What the signing key needs to know. */
export interface SigningKeyProps {
  readonly mode: KeyMode;
  /** keyMode existing: the key ARN (possibly in another account). */
  readonly keyArn?: string;
  readonly alias: string;
  /** Key administrators: manage the key, never sign with it. */
  readonly adminPrincipalArns: string[];
  /** keyMode external: may import key material and prove it (GetPublicKey: the address must match). */
  readonly importerPrincipalArns: string[];
  /** The only principals that may rewrite the policy, schedule deletion or delete imported material. */
  readonly breakGlassPrincipalArns: string[];
  /** The role CloudFormation deploys with (the dedicated bootstrap qualifier's cfn-exec role, or deployRoleArn). */
  readonly deployRoleArn: string;
}

// What CloudFormation needs to keep managing the key. PutKeyPolicy is also what KMS's policy lockout check
// requires of the principal that creates or updates the policy: without it the deploy itself would fail.
// No EnableKey: the stack never disables its key, so a key disabled in an incident stays disabled until break-glass acts.
const DEPLOY_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:DisableKey',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
];
const IMPORT_ACTIONS = ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:GetPublicKey'];
/** The condition on every kms:Sign grant: ECDSA over a 32-byte digest the caller computed (never RAW). */
export const SIGN_CONDITIONS = { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } };
/** The shortest deletion window KMS allows anyone: a month to notice and cancel. */
export const MIN_DELETION_WINDOW_DAYS = 30;

/**
 * A key policy statement denying kms:CreateGrant to every principal unless the grant is for an AWS resource or
 * an AWS service asks (AWS Control Tower's CT.KMS.PR.3): a grant is a way to use a key that its key policy does
 * not show, so a wider grant of administration later (kms:* to someone) still cannot hand out kms:Sign by grant.
 */
export function grantsOnlyForAwsServices(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'NobodyCreatesGrantsButForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  });
}

/**
 * The secp256k1 signing key: a new key made in KMS, a new key with origin EXTERNAL for imported material,
 * or an existing key by ARN (also in another account). New keys are retained when the stack is deleted: a
 * key that controls funds must never disappear with a stack.
 */
export class SigningKey extends Construct {
  readonly keyArn: string;
  readonly aliasName?: string;
  private readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    if (props.mode === 'existing') {
      if (!props.keyArn) throw new Error('SigningKey: keyArn is required for an existing key');
      this.keyArn = props.keyArn;
      return;
    }
    const stack = Stack.of(this);
    const account = stack.account;
    const arns = (list: string[]) => list.map((arn) => new iam.ArnPrincipal(arn));
    const admins = props.adminPrincipalArns.length > 0 ? arns(props.adminPrincipalArns) : [new iam.AccountRootPrincipal()];
    const deployRole = new iam.ArnPrincipal(props.deployRoleArn);
    const withMfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } };
    const external = props.mode === 'external';
    const statements = [
      new iam.PolicyStatement({
        sid: 'KeyAdministratorsManageNeverSign',
        principals: admins,
        actions: [...KEY_ADMIN_ACTIONS, ...(external ? ['kms:GetParametersForImport'] : [])],
        resources: ['*'], // in a key policy, "*" means this key only
      }),
      new iam.PolicyStatement({ sid: 'DeployRoleKeepsThePolicyUpdatable', principals: [deployRole], actions: DEPLOY_ACTIONS, resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'NobodyBypassesThePolicyLockoutCheck',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:PutKeyPolicy'],
        resources: ['*'],
        conditions: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
      }),
      new iam.PolicyStatement({
        sid: 'NobodySchedulesDeletionInUnder30Days',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:ScheduleKeyDeletion'],
        resources: ['*'],
        conditions: { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': String(MIN_DELETION_WINDOW_DAYS) } },
      }),
      grantsOnlyForAwsServices(),
    ];
    if (props.breakGlassPrincipalArns.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'BreakGlassRewritesThePolicy',
          principals: arns(props.breakGlassPrincipalArns),
          actions: ['kms:PutKeyPolicy', 'kms:EnableKey', ...(external ? ['kms:DeleteImportedKeyMaterial'] : [])],
          resources: ['*'],
          conditions: withMfa,
        }),
        new iam.PolicyStatement({
          sid: 'BreakGlassSchedulesDeletionWith30DaysToCancel',
          principals: arns(props.breakGlassPrincipalArns),
          actions: ['kms:ScheduleKeyDeletion'],
          resources: ['*'],
          conditions: { NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': String(MIN_DELETION_WINDOW_DAYS) }, ...withMfa },
        }),
      );
    }
    if (props.importerPrincipalArns.length > 0) {
      // No kms:Sign: import-key proves the import by comparing the address of KMS's public key with the key file's.
      statements.push(
        new iam.PolicyStatement({ sid: 'ImportersProve', principals: arns(props.importerPrincipalArns), actions: IMPORT_ACTIONS.filter((a) => a !== 'kms:ImportKeyMaterial'), resources: ['*'] }),
        // Key material that expires would stop the signer on a date nobody chose (and an importer could choose it).
        new iam.PolicyStatement({
          sid: 'ImportersImportNonExpiringMaterial',
          principals: arns(props.importerPrincipalArns),
          actions: ['kms:ImportKeyMaterial'],
          resources: ['*'],
          conditions: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } },
        }),
      );
    }
    const policy = new iam.PolicyDocument({ statements });
    this.key = new kms.Key(this, 'Key', {
      keySpec: kms.KeySpec.ECC_SECG_P256K1,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      description: `Ethereum signing key for kms-eth-signer (${props.mode === 'external' ? 'imported key material' : 'generated in KMS'}) in ${account}`,
      policy,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (props.mode === 'external') (this.key.node.defaultChild as kms.CfnKey).origin = 'EXTERNAL';
    this.keyArn = this.key.keyArn;
    this.aliasName = new kms.Alias(this, 'Alias', { aliasName: props.alias, targetKey: this.key, removalPolicy: RemovalPolicy.RETAIN }).aliasName;
  }

  /**
   * Lets a role sign with this key and read its public key: kms:Sign only with ECDSA_SHA_256 over a digest, on this key
   * only, in the role's IAM policy and (for keys this stack owns) in the key policy; and denies kms:Sign to the role
   * unless the call comes from `functionArn` (lambda:SourceFunctionArn), so the role's credentials taken out of the
   * function, or the role passed to another function, cannot sign.
   */
  grantSign(role: iam.IRole, label: string, functionArn: string): void {
    const statements = [
      new iam.PolicyStatement({ sid: 'SignWithTheEthereumKeyOnly', actions: ['kms:Sign'], resources: [this.keyArn], conditions: SIGN_CONDITIONS }),
      new iam.PolicyStatement({
        sid: 'SignOnlyFromItsOwnFunction',
        effect: iam.Effect.DENY,
        actions: ['kms:Sign'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'lambda:SourceFunctionArn': functionArn } },
      }),
      new iam.PolicyStatement({ sid: 'ReadItsPublicKey', actions: ['kms:GetPublicKey'], resources: [this.keyArn] }),
    ];
    statements.forEach((statement) => role.addToPrincipalPolicy(statement));
    if (!this.key) return; // an existing key's policy is its owner's to change (see docs/deploy.md)
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({ sid: `${label}Signs`, principals: [role], actions: ['kms:Sign'], resources: ['*'], conditions: SIGN_CONDITIONS }),
    );
    this.key.addToResourcePolicy(new iam.PolicyStatement({ sid: `${label}ReadsPublicKey`, principals: [role], actions: ['kms:GetPublicKey'], resources: ['*'] }));
  }
}

/** The role CloudFormation deploys with under a CDK bootstrap qualifier: cdk-QUALIFIER-cfn-exec-role-ACCOUNT-REGION. */
export function bootstrapDeployRoleArn(scope: Construct, qualifier: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:iam::${stack.account}:role/${bootstrapExecRoleName(qualifier, stack.account, stack.region)}`;
}

/** The name of a bootstrap qualifier's CloudFormation execution role. */
export function bootstrapExecRoleName(qualifier: string, account: string, region: string): string {
  return `cdk-${qualifier}-cfn-exec-role-${account}-${region}`;
}
