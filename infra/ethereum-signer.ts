import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SignerSettings } from './context';
import { AuditTrail } from './audit-trail';
import { BackupBucket } from './backup-bucket';
import { guardBoundary, guardPolicy, recordsGuardPolicy, type GuardPolicyInput, type RecordsGuardInput } from './guard-policy';
import { Monitoring } from './monitoring';
import { OUTPUT_ID_PREFIX_CONTEXT, outputIdPrefix, stableOutput } from './outputs';
import { PolicyTable } from './policy-table';
import { functionArnOf, SignerFunction } from './signer-function';
import { guardInputs } from './guard-inputs';
import { acknowledgeFindings, inCompliancePacks } from './review-findings';
import { settingsFromProps, type EthereumSignerProps } from './signer-props';
import { SigningKey, bootstrapDeployRoleArn } from './signing-key';

/**
 * The signing key and the two signer Lambdas, with least-privilege access between them (each role signs only
 * from its own function); who may invoke them; alarms, alerts on every way around the policy, a dashboard, an
 * optional trail of management events; the guard's inputs (for infra/guard-stack.ts) and its permissions-boundary
 * form: the whole signer as one construct, for a stack of your own CDK app. Its props are validated at synth
 * (EthereumSignerPropsError names each bad prop); the Lambdas are the bundles shipped with the package, staged
 * with `policyFile` as policy.json and its SHA-256 as policy.sha256. The stack that holds it must deploy with
 * the dedicated bootstrap qualifier's roles and have termination protection on (the repository's SignerStack does both).
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
  /** The props, checked and with their defaults (the settings the CDK context would give). */
  readonly settings: SignerSettings;
  /** The guard's inputs (the deploy role, break-glass, every ARN it protects): the guard stack builds its SCPs from them. */
  readonly guard: { readonly signers: GuardPolicyInput; readonly records: RecordsGuardInput; readonly signerRoleArns: string[]; readonly changerPrincipalArns: string[] };
  /** The permissions-boundary equivalent of the guard, for an account without AWS Organizations. */
  readonly guardBoundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: EthereumSignerProps) {
    super(scope, id);
    // S3 server access logs are delivered under a bucket policy, never ACLs (must be set before any bucket exists).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    // Output ids stay stable at id Default; beside another signer in the same stack they are prefixed (infra/outputs.ts).
    this.node.setContext(OUTPUT_ID_PREFIX_CONTEXT, outputIdPrefix(id));
    const settings = settingsFromProps(props);
    this.settings = settings;
    // readSettings requires one of the two.
    const deployRoleArn = settings.deployRoleArn ?? bootstrapDeployRoleArn(this, settings.bootstrapQualifier!);
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
      const functionName = `${settings.functionNamePrefix}-${kind}`;
      const signer = new SignerFunction(this, id, {
        kind,
        functionName,
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
      this.key.grantSign(signer.role, id, functionArnOf(this, functionName));
      settings.invokerPrincipalArns.forEach((arn, index) => {
        signer.function.addPermission(`Invoker${index}`, { principal: new iam.ArnPrincipal(arn), action: 'lambda:InvokeFunction' });
      });
      this.policyTable.grantKeyItems(signer.role, this.key.keyArn, functionArnOf(this, functionName));
      signer.function.addEnvironment('POLICY_TABLE_NAME', this.policyTable.table.tableName);
      return signer;
    };
    this.functions = { eip1559: make('eip1559', 'Eip1559Signer'), legacy: make('legacy', 'LegacySigner') };

    stableOutput(this, 'KeyArn', this.key.keyArn, 'The signing key (KMS_KEY_ID of both functions)');
    if (this.key.aliasName) stableOutput(this, 'KeyAlias', this.key.aliasName);
    for (const [kind, signer] of Object.entries(this.functions)) {
      const name = kind === 'eip1559' ? 'Eip1559' : 'Legacy';
      stableOutput(this, `${name}FunctionName`, signer.function.functionName);
      stableOutput(this, `${name}FunctionArn`, signer.function.functionArn);
      stableOutput(this, `${name}RoleArn`, signer.role.roleArn);
    }
    stableOutput(this, 'PolicyTableArn', this.policyTable.table.tableArn, 'The spending limits and idempotency records');
    stableOutput(this, 'PolicyTableName', this.policyTable.table.tableName);
    stableOutput(this, 'DeployRoleArn', deployRoleArn, 'The only role CloudFormation deploys this stack with (the dedicated bootstrap qualifier)');
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
    if (settings.trail) {
      this.trail = new AuditTrail(this, 'AuditTrail', {
        functions: signers.map((s) => s.function),
        backupBucket: this.backup?.bucket,
        retentionDays: settings.logRetentionDays,
        trailName: `${settings.functionNamePrefix}-audit`,
      });
      stableOutput(this, 'AuditTrailName', `${settings.functionNamePrefix}-audit`, 'aws cloudtrail get-event-selectors --trail-name <this>');
      stableOutput(this, 'AuditTrailAccessLogBucketName', this.trail.accessLogBucket.bucketName, "The trail bucket's S3 server access logs");
    }
    const managementTrailLogGroup = this.trail?.logGroup ?? (settings.managementTrailLogGroup ? logs.LogGroup.fromLogGroupName(this, 'ManagementTrailLogs', settings.managementTrailLogGroup) : undefined);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: { eip1559: this.functions.eip1559.function, legacy: this.functions.legacy.function },
      keyArn: this.key.keyArn,
      service: settings.functionNamePrefix,
      alarmEmail: settings.alarmEmail,
      denialThreshold: settings.denialAlarmThreshold,
      signaturesPerHourThreshold: settings.signaturesPerHourAlarmThreshold,
      functionNames: [`${settings.functionNamePrefix}-eip1559`, `${settings.functionNamePrefix}-legacy`],
      signerRoleArns: signers.map((s) => s.role.roleArn),
      deployRoleArn,
      policyTableName: this.policyTable.table.tableName,
      signerLogGroups: { eip1559: this.functions.eip1559.logGroup, legacy: this.functions.legacy.logGroup },
      ...(settings.alarmTopicArn && { alarmTopicArn: settings.alarmTopicArn }),
      ...(managementTrailLogGroup && { managementTrailLogGroup }),
    });
    stableOutput(this, 'AlarmTopicArn', this.monitoring.topic.topicArn, 'Alarms and key-event alerts; subscribe with -c alarmEmail=… or aws sns subscribe');

    // The guard, as inputs for the organization's management account (infra/guard-stack.ts) and as a boundary.
    const prefix = settings.functionNamePrefix;
    const { partition, account, region } = Stack.of(this);
    this.guard = guardInputs(settings, { partition, account, region, policyTableArn: this.policyTable.table.tableArn, deployRoleArn });
    const boundaryName = `${prefix}-guard-boundary`;
    const boundaryArn = `arn:${partition}:iam::${account}:policy/${boundaryName}`;
    const denials = [guardPolicy(this.guard.signers), recordsGuardPolicy(this.guard.records)].flatMap((document) => (document as { Statement: Array<Record<string, unknown>> }).Statement);
    this.guardBoundary = new iam.ManagedPolicy(this, 'GuardBoundary', {
      managedPolicyName: boundaryName,
      description: 'The guard as a permissions boundary, for an account without AWS Organizations: attach to every role and user but break-glass (docs/deploy.md)',
      document: iam.PolicyDocument.fromJson(guardBoundary(denials, boundaryArn, changerPrincipalArns)),
    });
    stableOutput(this, 'GuardBoundaryArn', boundaryArn, 'aws iam put-role-permissions-boundary --permissions-boundary <this> --role-name …, for every role but break-glass (docs/deploy.md)');
    this.acknowledgeFindings();
  }

  /** Review findings (cdk-nag's five packs, Control Tower's proactive controls) accepted on purpose, each with its reason. */
  private acknowledgeFindings(): void {
    const boundary = 'A permissions boundary only limits: its Allow of everything is what lets the identity policies keep their grants, and its Deny statements are the guard.';
    acknowledgeFindings(
      this.guardBoundary,
      boundary,
      'AwsSolutions-IAM5[Action::*]',
      'AwsSolutions-IAM5[Resource::*]',
      ...inCompliancePacks('IAMPolicyNoStatementsWithAdminAccess'),
      ...inCompliancePacks('IAMPolicyNoStatementsWithFullAccess', ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']),
      'CT.IAM.PR.2',
      'CT.IAM.PR.3',
    );
    acknowledgeFindings(this.monitoring.deadLetterQueue, 'This queue is the dead-letter queue of the alert rules; its depth raises the AlertsUndelivered alarm.', 'AwsSolutions-SQS3', 'CT.SQS.PR.1');
    for (const signer of Object.values(this.functions)) {
      acknowledgeFindings(
        signer.function,
        'Node.js 22 is the runtime the bundles are built (esbuild target node22) and tested for; a newer runtime is adopted deliberately, after testing, not by default.',
        'AwsSolutions-L1',
      );
      acknowledgeFindings(
        signer.function,
        "The signers reach only KMS and DynamoDB (TLS, SigV4) and nothing on a private network. What binds a signer is the key policy, its role's lambda:SourceFunctionArn conditions and the guard, not a network path; a VPC would add a KMS interface endpoint (an hourly cost per Availability Zone) and a DynamoDB gateway endpoint, and no control over who signs.",
        ...inCompliancePacks('LambdaInsideVPC'),
        'CT.LAMBDA.PR.3',
      );
      acknowledgeFindings(
        signer.function,
        'Callers invoke the signers synchronously and receive the signature or the error in the answer; a dead-letter queue only receives failed asynchronous events, which here would be sign requests nobody waits for.',
        ...inCompliancePacks('LambdaDLQ', ['HIPAA.Security', 'NIST.800.53.R5']),
      );
      acknowledgeFindings(
        signer.role,
        "Inline on purpose: the policy exists only with its role and cannot be attached to another principal (a managed policy could), and the guard denies iam:PutRolePolicy and iam:AttachRolePolicy on the role to all but the deploy role and break-glass.",
        ...inCompliancePacks('IAMNoInlinePolicy'),
      );
      acknowledgeFindings(
        signer.logGroup,
        'CloudWatch Logs encrypts every log group at rest, and the signers log chosen fields only (no key material, no full payloads). A customer managed key would be one more thing a key administrator can disable, which stops the logs and the metrics the alarms are drawn from.',
        ...inCompliancePacks('CloudWatchLogGroupEncrypted'),
        'CT.CLOUDWATCH.PR.3',
      );
    }
  }
}
