import { Duration } from 'aws-cdk-lib';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLogBucket, SECURE_BUCKET_DEFAULTS } from './buckets';
import { acknowledgeFindings, inCompliancePacks } from './review-findings';

/** What the trail records. */
export interface AuditTrailProps {
  /** Their Invoke data events say who asked for each signature (KMS's Sign event names only the function role). */
  readonly functions: lambda.IFunction[];
  /** The backup bucket, if deployed: every read and write of a backup is recorded. */
  readonly backupBucket?: s3.IBucket;
  /** How long the trail's log files (and its CloudWatch Logs copy) are kept. */
  readonly retentionDays: number;
  /** The trail's name (stable, so the guard SCP and the alerts can name it). */
  readonly trailName: string;
}

/**
 * A CloudTrail trail of this Region's management events (KMS Sign and key changes, Lambda, IAM, DynamoDB,
 * CloudTrail, CloudWatch, SNS calls: what the alert rules and the kms:Sign metric filter read), delivered to
 * CloudWatch Logs, plus data events: Lambda Invoke on the signers and S3 object events on the backup bucket.
 * Log files are validated (digest files), kept in a versioned, TLS-only bucket. An organization trail already
 * logging management events here costs a second copy; use managementTrailLogGroup instead (docs/deploy.md).
 */
export class AuditTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;
  readonly logGroup: logs.LogGroup;
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET_DEFAULTS, // retained: the record of who signed outlives the stack
      serverAccessLogsBucket: (this.accessLogBucket = accessLogBucket(this, 'AccessLogs', props.retentionDays)),
      serverAccessLogsPrefix: 'audit-trail/',
      lifecycleRules: [{ expiration: Duration.days(props.retentionDays), noncurrentVersionExpiration: Duration.days(props.retentionDays) }],
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/kms-eth-signer/${props.trailName}`,
      retention: props.retentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: props.trailName,
      bucket: this.bucket,
      enableFileValidation: true,
      includeGlobalServiceEvents: true, // IAM's events (in us-east-1)
      isMultiRegionTrail: false,
      managementEvents: cloudtrail.ReadWriteType.ALL, // Sign is a read event
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
    });
    this.trail.addLambdaEventSelector(props.functions, { includeManagementEvents: false, readWriteType: cloudtrail.ReadWriteType.ALL });
    if (props.backupBucket) this.trail.addS3EventSelector([{ bucket: props.backupBucket }], { includeManagementEvents: false, readWriteType: cloudtrail.ReadWriteType.ALL });
    this.acknowledgeFindings();
  }

  /** Review findings (cdk-nag compliance packs, Control Tower) accepted on purpose, each with its reason. */
  private acknowledgeFindings(): void {
    const withoutKey =
      'Log files are SSE-S3 encrypted and validated (signed digest files: aws cloudtrail validate-logs shows a changed or deleted file without any key), and the events also reach CloudWatch Logs, where the alerts read them. A customer managed key would be one more thing a key administrator can disable, which stops the delivery.';
    acknowledgeFindings(this.trail, withoutKey, ...inCompliancePacks('CloudTrailEncryptionEnabled'), 'CT.CLOUDTRAIL.PR.1');
    acknowledgeFindings(this.bucket, withoutKey, ...inCompliancePacks('S3DefaultEncryptionKMS', ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']), 'CT.S3.PR.10');
    acknowledgeFindings(
      this.bucket,
      "This is the signer account's own record: log file validation shows a changed or deleted file, and the guard denies stopping or changing the trail. Write-once and cross-Region copies belong to the organization's log archive (an organization trail, Control Tower's log archive account).",
      ...inCompliancePacks('S3BucketReplicationEnabled'),
      ...inCompliancePacks('S3BucketDefaultLockEnabled', ['NIST.800.53.R4']),
      'CT.S3.PR.9',
    );
    acknowledgeFindings(this.bucket, "Nothing acts on a new log file: the alerts come from EventBridge and the trail's CloudWatch Logs delivery.", 'CT.S3.PR.4');
    acknowledgeFindings(
      this.logGroup,
      'CloudWatch Logs encrypts every log group at rest. A customer managed key would be one more thing a key administrator can disable, which stops the delivery that the kms:Sign metric filter and the silence alarm read.',
      ...inCompliancePacks('CloudWatchLogGroupEncrypted'),
      'CT.CLOUDWATCH.PR.3',
    );
    acknowledgeFindings(
      this.trail.node.findChild('LogsRole'),
      "CDK's role for CloudTrail's delivery to CloudWatch Logs: its inline policy allows logs:CreateLogStream and logs:PutLogEvents on the trail's log group only, and cannot be attached to anyone else.",
      ...inCompliancePacks('IAMNoInlinePolicy'),
    );
  }
}
