import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeFindings, inCompliancePacks } from './review-findings';

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
  acknowledgeFindings(bucket, 'This is an access-log bucket; logging it into itself would loop.', 'CT.S3.PR.2');
  acknowledgeFindings(bucket, 'S3 server access log delivery supports only SSE-S3 on the destination bucket.', ...inCompliancePacks('S3DefaultEncryptionKMS', ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321']), 'CT.S3.PR.10');
  acknowledgeFindings(
    bucket,
    "Access logs are delivered by S3 on a best-effort basis and expire after the retention period: an aid to investigations, not the record (the trail's validated log files are). Write-once or replicated copies belong to the organization's log archive.",
    ...inCompliancePacks('S3BucketReplicationEnabled'),
    ...inCompliancePacks('S3BucketDefaultLockEnabled', ['NIST.800.53.R4']),
    'CT.S3.PR.9',
  );
  acknowledgeFindings(bucket, 'Nothing acts on a new access-log object (S3 writes one every few minutes).', 'CT.S3.PR.4');
  return bucket;
}
