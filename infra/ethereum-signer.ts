import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AuditTrail } from './audit-trail';
import { BackupBucket } from './backup-bucket';
import { guardPolicy } from './guard-policy';
import { Monitoring } from './monitoring';
import { PolicyTable } from './policy-table';
import { SignerFunction } from './signer-function';
import { settingsFromProps, type EthereumSignerProps } from './signer-props';
import { SigningKey, bootstrapDeployRoleArn } from './signing-key';

/**
 * The signing key and the two signer Lambdas, with least-privilege access between them; who may invoke them;
 * alarms, key-event alerts, a dashboard and an optional audit trail: the whole signer as one construct, for a
 * stack of your own CDK app. Its props are validated at synth (EthereumSignerPropsError names each bad prop);
 * the Lambdas are the bundles shipped with the package, with `policyFile` added to each as policy.json.
 * Turn on termination protection on the stack that holds it (the repository's SignerStack does).
 */
export class EthereumSigner extends Construct {
  /** The secp256k1 signing key (created, created for import, or the existing key named by keyArn). */
  readonly key: SigningKey;
  /** The two signer Lambdas: EIP-1559 (type 2, and messages) and legacy (type 0 and 1). */
  readonly functions: Record<'eip1559' | 'legacy', SignerFunction>;
  /** The bucket for encrypted key backups (backupBucket: true). */
  readonly backup?: BackupBucket;
  /** The alarm topic, alarms, key-event alerts and dashboard. */
  readonly monitoring: Monitoring;
  /** The CloudTrail trail of the functions' invocations (trail: true). */
  readonly trail?: AuditTrail;
  /** The DynamoDB table of spending limits and idempotency records. */
  readonly policyTable: PolicyTable;

  constructor(scope: Construct, id: string, props: EthereumSignerProps) {
    super(scope, id);
    // S3 server access logs are delivered under a bucket policy, never ACLs (must be set before any bucket exists).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const settings = settingsFromProps(props);
    const deployRoleArn = settings.deployRoleArn ?? bootstrapDeployRoleArn(this);
    this.key = new SigningKey(this, 'SigningKey', {
      mode: settings.keyMode,
      keyArn: settings.keyArn,
      alias: settings.keyAlias,
      adminPrincipalArns: settings.adminPrincipalArns,
      importerPrincipalArns: settings.importerPrincipalArns,
      breakGlassPrincipalArns: settings.breakGlassPrincipalArns,
      deployRoleArn,
    });
    const codeSigningConfig = settings.codeSigningProfileArn
      ? lambda.CodeSigningConfig.fromCodeSigningConfigArn(
          this,
          'CodeSigning',
          new lambda.CfnCodeSigningConfig(this, 'CodeSigningConfig', {
            description: 'kms-eth-signer: run only code signed by the named profile',
            allowedPublishers: { signingProfileVersionArns: [settings.codeSigningProfileArn] },
            codeSigningPolicies: { untrustedArtifactOnDeployment: 'Enforce' },
          }).attrCodeSigningConfigArn,
        )
      : undefined;
    this.policyTable = new PolicyTable(this, 'PolicyState');
    const make = (kind: 'eip1559' | 'legacy', id: string) => {
      const signer = new SignerFunction(this, id, {
        kind,
        functionName: `${settings.functionNamePrefix}-${kind}`,
        keyArn: this.key.keyArn,
        ethNetwork: settings.ethNetwork,
        logLevel: settings.logLevel,
        expectedAddress: settings.expectedAddress,
        logRetentionDays: settings.logRetentionDays,
        reservedConcurrency: settings.reservedConcurrency,
        allowPreEip155: settings.allowPreEip155,
        metricsService: settings.functionNamePrefix,
        codeSigningConfig,
        codeDirectory: props.codeDirectories?.[kind],
        policyFile: settings.policyFile,
        signedCode: settings.signedCode?.[kind],
      });
      this.key.grantSign(signer.role, id);
      settings.invokerPrincipalArns.forEach((arn, index) => {
        signer.function.addPermission(`Invoker${index}`, { principal: new iam.ArnPrincipal(arn), action: 'lambda:InvokeFunction' });
      });
      this.policyTable.grantKeyItems(signer.role, this.key.keyArn);
      signer.function.addEnvironment('POLICY_TABLE_NAME', this.policyTable.table.tableName);
      return signer;
    };
    this.functions = { eip1559: make('eip1559', 'Eip1559Signer'), legacy: make('legacy', 'LegacySigner') };

    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn, description: 'The signing key (KMS_KEY_ID of both functions)' });
    if (this.key.aliasName) new CfnOutput(this, 'KeyAlias', { value: this.key.aliasName });
    for (const [kind, signer] of Object.entries(this.functions)) {
      const name = kind === 'eip1559' ? 'Eip1559' : 'Legacy';
      new CfnOutput(this, `${name}FunctionName`, { value: signer.function.functionName });
      new CfnOutput(this, `${name}FunctionArn`, { value: signer.function.functionArn });
    }
    new CfnOutput(this, 'InvokeExample', {
      value: `aws lambda invoke --function-name ${this.functions.eip1559.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"operation":"status"}' /dev/stdout`,
      description: 'Asks the EIP-1559 signer for its address',
    });
    const signers = Object.values(this.functions);
    const changerPrincipalArns = [deployRoleArn, ...settings.breakGlassPrincipalArns];
    this.policyTable.protectFromResets(
      signers.map((s) => s.role.roleArn),
      changerPrincipalArns,
    );
    new CfnOutput(this, 'GuardPolicyExample', {
      value: Stack.of(this).toJsonString(
        guardPolicy({
          functionArns: signers.map((s) => s.function.functionArn),
          roleArns: signers.map((s) => s.role.roleArn),
          invokerPrincipalArns: settings.invokerPrincipalArns,
          changerPrincipalArns,
          policyTableArn: this.policyTable.table.tableArn,
        }),
      ),
      description: 'An SCP (or permissions boundary) for the account: only the invokers invoke the signers; only the deploy role and break-glass principals change them; only the signers write the spending limits (docs/deploy.md)',
    });
    if (settings.backupBucket) {
      this.backup = new BackupBucket(this, 'Backup', {
        ...(settings.backupObjectLockDays !== undefined && { objectLockDays: settings.backupObjectLockDays }),
        ...(settings.backupWriter && { writerAccount: settings.backupWriter }),
      });
    }
    if (settings.keyMode === 'external') {
      // With the backup bucket, the import is the moment to back the key up: the command says so.
      const backupFlags = this.backup ? ` --backup-public-key <your recovery-public.der> --backup-bucket ${this.backup.bucket.bucketName}` : '';
      new CfnOutput(this, 'NextStep', {
        value: `npm run import-key -- --key-id ${this.key.keyArn} --key-file <your key file>${backupFlags}`,
        description: 'The key has no key material yet (PendingImport): import yours, then the functions can sign',
      });
    }
    if (settings.keyMode === 'existing') {
      new CfnOutput(this, 'KeyPolicyForTheKeyOwner', {
        value: `Allow ${this.functions.eip1559.role.roleArn} and ${this.functions.legacy.role.roleArn}: kms:Sign (Condition StringEquals kms:SigningAlgorithm ECDSA_SHA_256 and kms:MessageType DIGEST) and kms:GetPublicKey, in the key policy of ${this.key.keyArn}`,
        description: 'What the key policy of the existing key must allow (see docs/deploy.md)',
      });
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: { eip1559: this.functions.eip1559.function, legacy: this.functions.legacy.function },
      keyArn: this.key.keyArn,
      service: settings.functionNamePrefix,
      alarmEmail: settings.alarmEmail,
      denialThreshold: settings.denialAlarmThreshold,
      signaturesPerHourThreshold: settings.signaturesPerHourAlarmThreshold,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn, description: 'Alarms and key-event alerts; subscribe with -c alarmEmail=… or aws sns subscribe' });
    if (settings.trail) {
      this.trail = new AuditTrail(this, 'AuditTrail', {
        functions: signers.map((s) => s.function),
        backupBucket: this.backup?.bucket,
        retentionDays: settings.logRetentionDays,
      });
      new CfnOutput(this, 'AuditTrailName', { value: this.trail.trail.trailArn, description: 'aws cloudtrail get-event-selectors --trail-name <this>' });
    }
    this.suppressNagFindings();
  }

  /** cdk-nag AwsSolutions findings we accept on purpose, each with its reason. */
  private suppressNagFindings(): void {
    for (const signer of Object.values(this.functions)) {
      Validations.of(signer.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime the bundles are built (esbuild target node22) and tested for; a newer runtime is adopted deliberately, after testing, not by default.',
      });
    }
  }
}
