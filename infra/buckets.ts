import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * What every bucket of the stack has: versioning, SSE-S3, no public access, no ACLs (S3 delivers access logs
 * under a bucket policy for logging.s3.amazonaws.com: the stack sets @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy),
 * TLS 1.2+ only, and retained when the stack is deleted (what they hold outlives it).
 */
export const SECURE_BUCKET_DEFAULTS = {
  versioned: true,
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies s3.BucketProps;

/** An S3 server access log bucket (SSE-S3: log delivery cannot use SSE-KMS), its logs kept `retentionDays`. */
export function accessLogBucket(scope: Construct, id: string, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    ...SECURE_BUCKET_DEFAULTS,
    lifecycleRules: [{ expiration: Duration.days(retentionDays), noncurrentVersionExpiration: Duration.days(retentionDays) }],
  });
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is an access-log bucket; logging it into itself would loop.' });
  return bucket;
}
