// The backup bucket for imported key material (context backupBucket=true), reviewed as tests.
import { Match } from 'aws-cdk-lib/assertions';
import { synthesize } from './stack-fixture';

const asArray = (value: unknown) => (Array.isArray(value) ? value : [value]);

describe('backup bucket (off by default)', () => {
  it('is not deployed unless asked for', () => {
    synthesize().template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  describe('with backupBucket=true (defaults)', () => {
    const { template, nag } = synthesize({ backupBucket: 'true' });
    // The backup bucket is the one that writes access logs (its access-log bucket is versioned too).
    const buckets = template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' }, LoggingConfiguration: Match.anyValue() } });
    const [bucketId, bucket] = Object.entries(buckets)[0]!;
    const policyStatements = () => Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }))[0]!.Properties.PolicyDocument.Statement as Array<Record<string, any>>;

    it('is versioned, retained, and encrypted with SSE-S3 (no KMS key an administrator could disable or delete)', () => {
      expect(Object.keys(buckets)).toHaveLength(1);
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
      expect(Object.values(template.findResources('AWS::KMS::Key')).some((key) => /backup/i.test(String(key.Properties.Description)))).toBe(false);
    });

    it('blocks all public access and disables ACLs (BucketOwnerEnforced)', () => {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    });

    it('never expires noncurrent versions (a DeleteObject must not start a countdown) and aborts incomplete uploads after 7 days', () => {
      const rules = bucket.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
      expect(rules).toEqual([{ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }]);
      for (const rule of rules) {
        for (const key of ['NoncurrentVersionExpiration', 'NoncurrentVersionExpirationInDays', 'ExpirationInDays', 'ExpirationDate', 'ExpiredObjectDeleteMarker']) expect(rule).not.toHaveProperty(key);
      }
    });

    it('keeps every version 3650 days with Object Lock in COMPLIANCE mode', () => {
      expect(bucket.Properties.ObjectLockEnabled).toBe(true);
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } } });
    });

    it('denies insecure transport and SSE-KMS uploads', () => {
      const denies = policyStatements().filter((s) => s.Effect === 'Deny');
      expect(denies).toContainEqual(expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(denies).toContainEqual(
        // StringEquals on the KMS values: a negated operator would also deny uploads that send no header (issue 23).
        expect.objectContaining({ Sid: 'DenyUploadsWithSseKms', Action: 's3:PutObject', Condition: { StringEquals: { 's3:x-amz-server-side-encryption': ['aws:kms', 'aws:kms:dsse'] } } }),
      );
    });

    it('reports every object removal (deletes and delete markers: s3:ObjectRemoved:*) to its own SNS topic, TLS only', () => {
      const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
      expect(topicId).toMatch(/^BackupRemovalTopic/);
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: { Ref: bucketId },
        NotificationConfiguration: { TopicConfigurations: [{ Events: ['s3:ObjectRemoved:*'], TopicArn: { Ref: topicId } }] },
      });
      const topicPolicy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0]!.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
      expect(topicPolicy).toContainEqual(expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 's3.amazonaws.com' } }));
      expect(topicPolicy).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    });

    it('limits writers to putting, reading back and aborting <key_id>/recovery_shard-<i>.txt objects, and listing the bucket', () => {
      const policy = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))[0]!;
      const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
      const backups = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*/recovery_shard-*.txt']] };
      expect(statements).toEqual([
        { Sid: 'PutBackups', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: backups },
        { Sid: 'ReadBackTheBackup', Effect: 'Allow', Action: 's3:GetObject', Resource: backups },
        { Sid: 'ListToTellMissingFromDenied', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      ]);
      expect(statements.flatMap((s) => asArray(s.Action)).some((action: string) => action.endsWith('*') || action.startsWith('kms:') || /Delete/.test(action))).toBe(false);
    });

    it('has no cross-account writer role unless asked for', () => {
      expect(Object.keys(template.findOutputs('*')).some((name) => name.includes('BackupWriterRoleArn'))).toBe(false);
    });

    it('outputs the bucket name, its access-log bucket, the writer policy ARN and the removal topic ARN, under stable names', () => {
      for (const output of ['BackupBucketName', 'BackupAccessLogBucketName', 'BackupWriterPolicyArn', 'BackupRemovalTopicArn']) {
        template.hasOutput(output, { Export: { Name: `Signer-${output}` } });
      }
    });

    it('passes cdk-nag AwsSolutions (each accepted finding acknowledged with a reason)', () => {
      expect(nag.violations).toEqual([]);
    });
  });

  it('takes the Object Lock retention from context, and backupObjectLockDays=0 turns it off (test stacks)', () => {
    const bucketOf = (context: Record<string, string>) =>
      Object.values(synthesize({ backupBucket: 'true', ...context }).template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' }, LoggingConfiguration: Match.anyValue() } }))[0]!;
    expect(bucketOf({ backupObjectLockDays: '30' }).Properties.ObjectLockConfiguration.Rule).toEqual({ DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } });
    const unlocked = bucketOf({ backupObjectLockDays: '0' });
    expect(unlocked.Properties).not.toHaveProperty('ObjectLockEnabled');
    expect(unlocked.Properties).not.toHaveProperty('ObjectLockConfiguration');
  });

  it('adds a cross-account writer role whose trust requires the External ID, with the writer policy and nothing else', () => {
    const { template, nag } = synthesize({ backupBucket: 'true', backupWriterAccount: '444455556666', backupWriterExternalId: 'a-long-random-external-id' });
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('Assumed by import-key') } });
    const role = Object.values(roles)[0]!;
    expect(Object.keys(roles)).toHaveLength(1);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::444455556666:root']] } },
        Condition: { StringEquals: { 'sts:ExternalId': 'a-long-random-external-id' } },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toEqual([{ Ref: expect.stringMatching(/^BackupWriterPolicy/) }]);
    expect(role.Properties).not.toHaveProperty('Policies');
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    template.hasOutput('BackupWriterRoleArn', { Export: { Name: 'Signer-BackupWriterRoleArn' } });
    expect(nag.violations).toEqual([]);
  });
});
