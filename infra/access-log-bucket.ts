import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * An S3 server access log bucket: versioned, SSE-S3 (log delivery cannot use SSE-KMS), TLS 1.2+ only, no ACLs
 * (S3 delivers logs under a bucket policy for logging.s3.amazonaws.com: the stack sets
 * @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy), logs kept `retentionDays`.
 */
export function accessLogBucket(scope: Construct, id: string, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    versioned: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    lifecycleRules: [{ expiration: Duration.days(retentionDays), noncurrentVersionExpiration: Duration.days(retentionDays) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is an access-log bucket; logging it into itself would loop.' });
  return bucket;
}
