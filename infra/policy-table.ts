import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { POLICY_TABLE_CHANGES, POLICY_TABLE_ITEM_WRITES } from './guard-policy';
import { acknowledgeFindings, inCompliancePacks } from './review-findings';

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
    acknowledgeFindings(
      this.table,
      "Point-in-time recovery (35 days) and deletion protection are on, and the table's policy keeps restores and backup deletion to the deploy role and break-glass. The table holds spending counters and idempotency records of the last days, which an older copy would only reset: an AWS Backup plan would add cost and no recovery.",
      ...inCompliancePacks('DynamoDBInBackupPlan', ['HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5']),
    );
  }

  /**
   * Denies, in the table's own resource-based policy, item writes to every principal but the signer roles and
   * the deploy and break-glass principals, and changes to the table (deleting it, turning off deletion protection
   * or point-in-time recovery, retargeting TTL, replacing this policy, restoring it) to every principal but the
   * deploy and break-glass principals. Unlike the guard SCP it needs no organization, but the account's root
   * user can still replace or delete it (DynamoDB's lockout protection): the SCP is what binds root.
   * Resource "*" means this table: a policy cannot name the ARN of the table it is created with.
   */
  protectFromResets(writerRoleArns: string[], changerPrincipalArns: string[]): void {
    const everyoneBut = (principals: string[]) => ({ ArnNotLike: { 'aws:PrincipalArn': principals } });
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlySignersWriteTheSpendingLimits',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...POLICY_TABLE_ITEM_WRITES],
        resources: ['*'],
        conditions: everyoneBut([...writerRoleArns, ...changerPrincipalArns]),
      }),
    );
    this.table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyDeployersChangeThePolicyTable',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...POLICY_TABLE_CHANGES, 'dynamodb:RestoreTableToPointInTime'],
        resources: ['*'],
        conditions: everyoneBut(changerPrincipalArns),
      }),
    );
  }

  /**
   * Lets a signer role read and write only the items of its own key: every item action it may take is
   * conditioned on the partition key being exactly `keyArn` (dynamodb:LeadingKeys). No Scan, Query or batch
   * action: the signer reads and writes single items by key. With `functionArn`, the role may write them only
   * from that function (lambda:SourceFunctionArn): its credentials taken out cannot reset the limits.
   */
  grantKeyItems(role: iam.IRole, keyArn: string, functionArn?: string): void {
    if (functionArn !== undefined) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'WriteThePolicyStateOnlyFromItsOwnFunction',
          effect: iam.Effect.DENY,
          actions: [...POLICY_TABLE_ITEM_WRITES],
          resources: ['*'],
          conditions: { ArnNotEquals: { 'lambda:SourceFunctionArn': functionArn } },
        }),
      );
    }
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
