import { Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { accessLogBucket, SECURE_BUCKET_DEFAULTS } from './buckets';
import { stableOutput } from './outputs';
import { acknowledgeFindings, inCompliancePacks } from './review-findings';

/** Object Lock retention of a new backup bucket unless the context says otherwise: ten years. */
export const DEFAULT_OBJECT_LOCK_DAYS = 3650;

/** Options of the backup bucket. */
export interface BackupBucketProps {
  /**
   * Object Lock in COMPLIANCE mode keeps every backup version this many days: nobody, root included, can delete
   * it. Default 3650; 0 turns Object Lock off (test stacks that must be deletable).
   */
  readonly objectLockDays?: number;
  /** Where object removals are reported; default: a topic of its own (subscribe the operators to it). */
  readonly removalTopic?: sns.ITopic;
  /** An account whose importers write backups through a role here; its trust policy requires the External ID. */
  readonly writerAccount?: { readonly accountId: string; readonly externalId: string };
}

/**
 * An S3 bucket for encrypted backups of imported key material (`npm run import-key --backup-bucket`):
 * versioned, noncurrent versions kept, Object Lock (COMPLIANCE) by default, SSE-S3, no public access, ACLs off,
 * TLS only, SSE-KMS uploads refused, every object removal reported to an SNS topic. Every object is already
 * encrypted to offline recovery keys, so the bucket's job is to keep it: see docs/backup.md for why SSE-S3.
 * `writerPolicy` is what an importer needs: attach it to the role or user that runs import-key.
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly writerPolicy: iam.ManagedPolicy;
  readonly removalTopic: sns.ITopic;
  readonly writerRole?: iam.Role;

  constructor(scope: Construct, id: string, props: BackupBucketProps = {}) {
    super(scope, id);
    const objectLockDays = props.objectLockDays ?? DEFAULT_OBJECT_LOCK_DAYS;
    const accessLogs = accessLogBucket(this, 'AccessLogs', 365);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      // SSE-S3, not SSE-KMS: a KMS key is one more thing an administrator can disable or delete, making every
      // backup unreadable, while the objects are already encrypted to offline keys (docs/backup.md).
      // Retained: backups are the last copy of imported key material.
      ...SECURE_BUCKET_DEFAULTS,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'backup-bucket/',
      // No noncurrent-version expiration: one DeleteObject makes the only copy of a backup noncurrent.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      ...(objectLockDays > 0 && { objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(objectLockDays)) }),
    });
    const objects = this.bucket.arnForObjects('*');
    // Deny what is asked for (SSE-KMS, DSSE-KMS), not "anything but AES256": a negated operator is true when the
    // header is absent, and an upload without it gets the bucket's default SSE-S3 anyway.
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithSseKms',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { StringEquals: { 's3:x-amz-server-side-encryption': ['aws:kms', 'aws:kms:dsse'] } },
      }),
    );

    // s3:ObjectRemoved:* covers DeleteObject of a version and the creation of a delete marker.
    this.removalTopic = props.removalTopic ?? new sns.Topic(this, 'RemovalTopic', { displayName: 'kms-eth-signer backup removed', enforceSSL: true });
    if (!props.removalTopic) {
      acknowledgeFindings(
        this.removalTopic,
        'The notifications name object keys (KMS key ids), no secrets; S3 can publish to an encrypted topic only with a customer managed key, one more key to keep.',
        ...inCompliancePacks('SNSEncryptedKMS'),
      );
    }
    this.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, new s3n.SnsDestination(this.removalTopic));
    // CDK configures notifications through its own singleton Lambda, whose role has the basic execution policy.
    for (const child of Stack.of(this).node.children.filter((c) => c.node.id.startsWith('BucketNotificationsHandler'))) {
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's BucketNotificationsHandler (it sets the bucket's notification configuration at deploy time) uses the AWS managed basic execution policy: CloudWatch Logs only.",
      });
      acknowledgeFindings(child, "CDK's BucketNotificationsHandler runs at deploy time to set the bucket's notification configuration through the S3 API; it holds no data and needs no private network.", 'CT.LAMBDA.PR.3');
    }
    acknowledgeFindings(
      this.bucket.node.findChild('Notifications'),
      "CDK's policy for its BucketNotificationsHandler (s3:PutBucketNotification on this bucket), inline on that handler's role only.",
      ...inCompliancePacks('IAMNoInlinePolicy'),
    );
    this.acknowledgeFindings(objectLockDays);

    // Only the backup layout, <key_id>/recovery_shard-<i>.txt; the writer is not per key, so no narrower prefix.
    const backups = this.bucket.arnForObjects('*/recovery_shard-*.txt');
    this.writerPolicy = new iam.ManagedPolicy(this, 'WriterPolicy', {
      description: 'Lets npm run import-key store (and read back) encrypted key backups in the backup bucket, nothing else',
      statements: [
        new iam.PolicyStatement({ sid: 'PutBackups', actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [backups] }),
        // Reading back is how import-key proves the backup exists before importing (S3's If-None-Match and
        // checksum are sent too, but local S3 servers ignore them); what it reads is encrypted to the offline
        // recovery keys, so read access reveals no key material.
        new iam.PolicyStatement({ sid: 'ReadBackTheBackup', actions: ['s3:GetObject'], resources: [backups] }),
        new iam.PolicyStatement({ sid: 'ListToTellMissingFromDenied', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
      ],
    });
    Validations.of(this.writerPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${cdkId(this.bucket)}.Arn>/*/recovery_shard-*.txt]`,
      reason: 'Backups are stored as <key_id>/recovery_shard-<i>.txt; the key ids are not known when the bucket is deployed.',
    });

    if (props.writerAccount) {
      // The confused-deputy guard: the other account's importers must present the External ID.
      this.writerRole = new iam.Role(this, 'CrossAccountWriter', {
        description: 'Assumed by import-key in the importing account to store backups (sts:ExternalId required)',
        assumedBy: new iam.AccountPrincipal(props.writerAccount.accountId),
        externalIds: [props.writerAccount.externalId],
        maxSessionDuration: Duration.hours(1),
        managedPolicies: [this.writerPolicy],
      });
      stableOutput(this, 'BackupWriterRoleArn', this.writerRole.roleArn, 'role_arn of the AWS profile given to import-key --backup-profile (with external_id)');
    }

    stableOutput(this, 'BackupBucketName', this.bucket.bucketName, 'npm run import-key -- … --backup-bucket <this>');
    stableOutput(this, 'BackupAccessLogBucketName', accessLogs.bucketName, "The backup bucket's S3 server access logs");
    stableOutput(this, 'BackupWriterPolicyArn', this.writerPolicy.managedPolicyArn, 'Attach to the role or user that runs import-key');
    stableOutput(this, 'BackupRemovalTopicArn', this.removalTopic.topicArn, 'Every removal of a backup object is published here: subscribe the operators');
  }

  /** Review findings (cdk-nag compliance packs, Control Tower) on the bucket accepted on purpose, each with its reason. */
  private acknowledgeFindings(objectLockDays: number): void {
    acknowledgeFindings(
      this.bucket,
      'SSE-S3, not SSE-KMS: a KMS key is one more thing an administrator can disable or delete, making every backup unreadable, while the objects are already encrypted to offline recovery keys (docs/backup.md).',
      ...inCompliancePacks('S3DefaultEncryptionKMS', ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']),
      'CT.S3.PR.10',
    );
    acknowledgeFindings(
      this.bucket,
      'Replication needs a destination bucket in another Region or account, and a role, outside this stack; every object is encrypted to offline recovery keys, so a second copy can be kept anywhere (docs/backup.md).',
      ...inCompliancePacks('S3BucketReplicationEnabled'),
    );
    acknowledgeFindings(
      this.bucket,
      "Object removals are reported to the removal topic through CDK's BucketNotifications custom resource, which sets the configuration at deploy time: the control reads only the bucket's own properties.",
      'CT.S3.PR.4',
    );
    if (objectLockDays === 0) {
      acknowledgeFindings(this.bucket, 'Object Lock turned off on request (backupObjectLockDays=0), for stacks that must be deletable.', ...inCompliancePacks('S3BucketDefaultLockEnabled', ['NIST.800.53.R4']), 'CT.S3.PR.9');
    }
  }
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag names it in finding ids. */
function cdkId(construct: Construct): string {
  return Stack.of(construct).resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
}
