import { Duration } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLogBucket, SECURE_BUCKET_DEFAULTS } from './buckets';

/** What the trail records. */
export interface AuditTrailProps {
  /** Their Invoke data events say who asked for each signature (KMS's Sign event names only the function role). */
  readonly functions: lambda.IFunction[];
  /** The backup bucket, if deployed: every read and write of a backup is recorded. */
  readonly backupBucket?: s3.IBucket;
  /** How long the trail's log files are kept. */
  readonly retentionDays: number;
}

/**
 * A CloudTrail trail of data events only: Lambda Invoke on the signers and S3 object events on the backup
 * bucket. Management events (KMS Sign, key changes) are the account trail's job: a second copy of them is
 * billed. Log files are validated (digest files), kept in a versioned, TLS-only bucket.
 */
export class AuditTrail extends Construct {
  readonly trail: cloudtrail.Trail;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...SECURE_BUCKET_DEFAULTS, // retained: the record of who signed outlives the stack
      serverAccessLogsBucket: accessLogBucket(this, 'AccessLogs', props.retentionDays),
      serverAccessLogsPrefix: 'audit-trail/',
      lifecycleRules: [{ expiration: Duration.days(props.retentionDays), noncurrentVersionExpiration: Duration.days(props.retentionDays) }],
    });
    this.trail = new cloudtrail.Trail(this, 'Trail', {
      bucket: this.bucket,
      enableFileValidation: true,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
    });
    this.trail.addLambdaEventSelector(props.functions, { includeManagementEvents: false, readWriteType: cloudtrail.ReadWriteType.ALL });
    if (props.backupBucket) this.trail.addS3EventSelector([{ bucket: props.backupBucket }], { includeManagementEvents: false, readWriteType: cloudtrail.ReadWriteType.ALL });
  }
}
