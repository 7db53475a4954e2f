import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Options of the backup bucket. */
export interface BackupBucketProps {
  /** With a value, Object Lock in COMPLIANCE mode keeps every backup version this many days (nobody can delete it). */
  readonly objectLockDays?: number;
}

/**
 * An S3 bucket for encrypted backups of imported key material (`npm run import-key --backup-bucket`):
 * versioned, SSE-KMS with its own customer managed key and an S3 bucket key, no public access, ACLs off,
 * TLS only, only SSE-KMS uploads with that key, old versions expire after 90 days, optional Object Lock.
 * `writerPolicy` is what an importer needs: attach it to the role or user that runs import-key.
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly encryptionKey: kms.Key;
  readonly writerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: BackupBucketProps = {}) {
    super(scope, id);
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: 'Encrypts the kms-eth-signer backup bucket (SSE-KMS)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED, // S3 log delivery writes with ACLs
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket of the backup bucket; logging it into itself would loop.' });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'backup-bucket/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN, // backups are the last copy of imported key material
      ...(props.objectLockDays !== undefined && { objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.objectLockDays)) }),
    });
    const objects = this.bucket.arnForObjects('*');
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithoutSseKms',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithAnotherKmsKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.encryptionKey.keyArn } },
      }),
    );

    this.writerPolicy = new iam.ManagedPolicy(this, 'WriterPolicy', {
      description: 'Lets npm run import-key store (and read back) encrypted key backups in the backup bucket, nothing else',
      statements: [
        new iam.PolicyStatement({
          sid: 'PutSseKmsObjectsOnly',
          actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
          resources: [objects],
          conditions: {
            StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
            StringEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.encryptionKey.keyArn },
          },
        }),
        // Reading back is how import-key proves the backup exists before importing; what it reads is
        // encrypted to the offline recovery key, so read access reveals no key material.
        new iam.PolicyStatement({ sid: 'ReadBackTheBackup', actions: ['s3:GetObject'], resources: [objects] }),
        new iam.PolicyStatement({ sid: 'ListToTellMissingFromDenied', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
        new iam.PolicyStatement({
          sid: 'UseTheBucketKey',
          actions: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey', 'kms:Decrypt'],
          resources: [this.encryptionKey.keyArn],
        }),
      ],
    });
    Validations.of(this.writerPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${cdkId(this.bucket)}.Arn>/*]`,
      reason: 'Backups are stored one object per KMS key id (<key_id>/recovery_shard-0.txt); the key ids are not known when the bucket is deployed.',
    });

    new CfnOutput(this, 'BackupBucketName', { value: this.bucket.bucketName, description: 'npm run import-key -- … --backup-bucket <this>' });
    new CfnOutput(this, 'BackupBucketKeyArn', { value: this.encryptionKey.keyArn, description: '--backup-kms-key-arn <this>' });
    new CfnOutput(this, 'BackupWriterPolicyArn', { value: this.writerPolicy.managedPolicyArn, description: 'Attach to the role or user that runs import-key' });
  }
}

/** The logical id of a construct's CloudFormation resource, as cdk-nag names it in finding ids. */
function cdkId(construct: Construct): string {
  return Stack.of(construct).resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
}
