// The policy table and the signer roles' access to it, as assertions on the synthesised template.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PolicyTable } from '../../infra/policy-table';
import { POLICY_TABLE_KEYS } from '../../lambdas/policy-state/spending-store';
import { IDEMPOTENCY_EXPIRY_ATTRIBUTE } from '../../lambdas/policy-state/idempotency';
import { synthesize } from './stack-fixture';

const asArray = (value: unknown) => (Array.isArray(value) ? value : [value]);

describe('PolicyTable', () => {
  const { template, nag } = synthesize();
  const statementsOf = (rolePrefix: string) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => asArray(policy.Properties.Roles).some((role: { Ref?: string }) => role.Ref?.startsWith(rolePrefix)))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>)
      .filter((statement) => asArray(statement.Action).some((action: string) => action.startsWith('dynamodb:')));

  it('creates one on-demand table with the key layout the Lambdas use, TTL on the idempotency expiry', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: POLICY_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: POLICY_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: POLICY_TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: POLICY_TABLE_KEYS.sortKey, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_EXPIRY_ATTRIBUTE, Enabled: true },
    });
  });

  it('has point-in-time recovery, deletion protection and encryption at rest, and is retained when the stack goes', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it.each(['Eip1559Signer', 'LegacySigner'])('lets the %s role touch only its own key\'s items, by single-item actions', (prefix) => {
    const statements = statementsOf(prefix);
    expect(statements).toEqual([
      {
        Sid: 'PolicyStateOfItsOwnKeyOnly',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PolicyStateTable/), 'Arn'] },
        Condition: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [{ 'Fn::GetAtt': [expect.stringMatching(/^SigningKey/), 'Arn'] }] },
          Null: { 'dynamodb:LeadingKeys': 'false' },
        },
      },
    ]);
  });

  it('grants no Scan, Query, batch, wildcard or table-management action on the table', () => {
    const actions = [...statementsOf('Eip1559Signer'), ...statementsOf('LegacySigner')].flatMap((s) => asArray(s.Action) as string[]);
    for (const action of actions) expect(action).toMatch(/^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem)$/);
  });

  it('tells both functions the table name', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    for (const fn of functions) expect(fn.Properties.Environment.Variables.POLICY_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^PolicyStateTable/) });
  });

  it('raises no cdk-nag AwsSolutions finding about the table', () => {
    expect(nag.violations.filter((violation) => JSON.stringify(violation).includes('PolicyState'))).toEqual([]);
  });

  it('confines a grant to the key ARN it is given (an existing key)', () => {
    const stack = new Stack(new App(), 'Standalone');
    const table = new PolicyTable(stack, 'State');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555';
    table.grantKeyItems(role, keyArn);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policy?.Properties.PolicyDocument.Statement[0].Condition['ForAllValues:StringEquals']).toEqual({ 'dynamodb:LeadingKeys': [keyArn] });
  });
});
