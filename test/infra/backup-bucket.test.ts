// The backup bucket for imported key material (context backupBucket=true), reviewed as tests.
import { Match } from 'aws-cdk-lib/assertions';
import { synthesize } from './stack-fixture';

const asArray = (value: unknown) => (Array.isArray(value) ? value : [value]);

describe('backup bucket (off by default)', () => {
  it('is not deployed unless asked for', () => {
    synthesize().template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  describe('with backupBucket=true and Object Lock for 30 days', () => {
    const { template, nag } = synthesize({ backupBucket: 'true', backupObjectLockDays: '30' });
    const buckets = template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } });
    const [bucketId, bucket] = Object.entries(buckets)[0]!;
    const policyStatements = () => Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }))[0]!.Properties.PolicyDocument.Statement as Array<Record<string, any>>;

    it('is versioned, retained, and encrypted with SSE-KMS by its own customer managed key with an S3 bucket key', () => {
      expect(Object.keys(buckets)).toHaveLength(1);
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] } } },
      ]);
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('backup bucket') });
    });

    it('blocks all public access and disables ACLs (BucketOwnerEnforced)', () => {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    });

    it('expires noncurrent versions after 90 days and aborts incomplete multipart uploads after 7', () => {
      expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
        expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
      ]);
    });

    it('keeps every version 30 days with Object Lock in COMPLIANCE mode', () => {
      expect(bucket.Properties.ObjectLockEnabled).toBe(true);
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } } });
    });

    it('denies insecure transport, uploads without SSE-KMS, and uploads with another KMS key', () => {
      const denies = policyStatements().filter((s) => s.Effect === 'Deny');
      expect(denies).toContainEqual(expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(denies).toContainEqual(expect.objectContaining({ Sid: 'DenyUploadsWithoutSseKms', Action: 's3:PutObject', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } }));
      expect(denies).toContainEqual(
        expect.objectContaining({
          Sid: 'DenyUploadsWithAnotherKmsKey',
          Action: 's3:PutObject',
          Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] } } },
        }),
      );
    });

    it("limits writers to SSE-KMS puts (and aborts) of the bucket's objects, reading them back, listing the bucket, and the bucket key", () => {
      const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0]!;
      const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
      const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] };
      expect(statements).toEqual([
        {
          Sid: 'PutSseKmsObjectsOnly',
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
          Resource: objects,
          Condition: {
            StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
            StringEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] } },
          },
        },
        { Sid: 'ReadBackTheBackup', Effect: 'Allow', Action: 's3:GetObject', Resource: objects },
        { Sid: 'ListToTellMissingFromDenied', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
        { Sid: 'UseTheBucketKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] } },
      ]);
      expect(statements.flatMap((s) => asArray(s.Action)).some((action: string) => action.endsWith('*'))).toBe(false);
    });

    it('outputs the bucket name, its key ARN and the writer policy ARN', () => {
      for (const output of ['BackupBucketName', 'BackupBucketKeyArn', 'BackupWriterPolicyArn']) {
        expect(Object.keys(template.findOutputs('*')).some((name) => name.includes(output))).toBe(true);
      }
    });

    it('passes cdk-nag AwsSolutions (the wildcard over object keys is acknowledged with a reason)', () => {
      expect(nag.violations).toEqual([]);
    });
  });
});
