import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { KeyMode } from './context';

/** What the signing key needs to know. */
export interface SigningKeyProps {
  readonly mode: KeyMode;
  /** keyMode existing: the key ARN (possibly in another account). */
  readonly keyArn?: string;
  readonly alias: string;
  /** Key administrators: manage the key, never sign with it. */
  readonly adminPrincipalArns: string[];
  /** keyMode external: may import key material and prove it (GetPublicKey, one test Sign). */
  readonly importerPrincipalArns: string[];
}

// What administrators may do: manage the key's life and policy, never use it to sign.
const ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetPublicKey',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];
const IMPORT_ACTIONS = ['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:GetPublicKey'];
const SIGNING_ALGORITHM = { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } };

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
    const account = Stack.of(this).account;
    const admins = props.adminPrincipalArns.length > 0 ? props.adminPrincipalArns.map((arn) => new iam.ArnPrincipal(arn)) : [new iam.AccountRootPrincipal()];
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'KeyAdministratorsManageNeverSign',
          principals: admins,
          actions: [...ADMIN_ACTIONS, ...(props.mode === 'external' ? ['kms:GetParametersForImport', 'kms:DeleteImportedKeyMaterial'] : [])],
          resources: ['*'], // in a key policy, "*" means this key only
        }),
        ...(props.importerPrincipalArns.length > 0
          ? [
              new iam.PolicyStatement({
                sid: 'ImportersImportAndProve',
                principals: props.importerPrincipalArns.map((arn) => new iam.ArnPrincipal(arn)),
                actions: IMPORT_ACTIONS,
                resources: ['*'],
              }),
              new iam.PolicyStatement({
                sid: 'ImportersSignTheProofDigest',
                principals: props.importerPrincipalArns.map((arn) => new iam.ArnPrincipal(arn)),
                actions: ['kms:Sign'],
                resources: ['*'],
                conditions: SIGNING_ALGORITHM,
              }),
            ]
          : []),
      ],
    });
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
   * Lets a role sign with this key and read its public key: kms:Sign only with ECDSA_SHA_256, on this key
   * only, in the role's IAM policy and (for keys this stack owns) in the key policy.
   */
  grantSign(role: iam.IRole, label: string): void {
    const statements = [
      new iam.PolicyStatement({ sid: 'SignWithTheEthereumKeyOnly', actions: ['kms:Sign'], resources: [this.keyArn], conditions: SIGNING_ALGORITHM }),
      new iam.PolicyStatement({ sid: 'ReadItsPublicKey', actions: ['kms:GetPublicKey'], resources: [this.keyArn] }),
    ];
    statements.forEach((statement) => role.addToPrincipalPolicy(statement));
    if (!this.key) return; // an existing key's policy is its owner's to change (see docs/deploy.md)
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({ sid: `${label}Signs`, principals: [role], actions: ['kms:Sign'], resources: ['*'], conditions: SIGNING_ALGORITHM }),
    );
    this.key.addToResourcePolicy(new iam.PolicyStatement({ sid: `${label}ReadsPublicKey`, principals: [role], actions: ['kms:GetPublicKey'], resources: ['*'] }));
  }
}
