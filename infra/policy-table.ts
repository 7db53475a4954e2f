import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Partition key, sort key and TTL attribute of the policy table; lambdas/policy-state uses the same names. */
export const POLICY_TABLE_SCHEMA = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiration' } as const;

/**
 * The DynamoDB table that holds the signing policy's state: per KMS key (partition key = the key ARN), one item
 * with its spending limits (sk "spending") and the idempotency records of recent sign requests
 * (sk "idempotency#…", deleted by TTL on `expiration`). On-demand (signing traffic is bursty and mostly idle),
 * point-in-time recovery (the spending record is worth restoring), deletion protection and RETAIN (deleting the
 * stack must not reset the limits), encrypted at rest with the AWS managed key (no key policy to maintain; its
 * use shows in CloudTrail).
 */
export class PolicyTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: POLICY_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: POLICY_TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: POLICY_TABLE_SCHEMA.timeToLive,
    });
  }

  /**
   * Lets a signer role read and write only the items of its own key: every item action it may take is
   * conditioned on the partition key being exactly `keyArn` (dynamodb:LeadingKeys). No Scan, Query or batch
   * action: the signer reads and writes single items by key.
   */
  grantKeyItems(role: iam.IRole, keyArn: string): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PolicyStateOfItsOwnKeyOnly',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keyArn] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      }),
    );
  }
}
