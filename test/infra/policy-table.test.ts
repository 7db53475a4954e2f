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
        Sid: 'WriteThePolicyStateOnlyFromItsOwnFunction',
        Effect: 'Deny',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
        Resource: '*',
        Condition: { ArnNotEquals: { 'lambda:SourceFunctionArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:eu-west-1:111122223333:function:eth-signer-${prefix === 'Eip1559Signer' ? 'eip1559' : 'legacy'}`]] } } },
      },
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
    const actions = [...statementsOf('Eip1559Signer'), ...statementsOf('LegacySigner')].filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action) as string[]);
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

  describe('its resource-based policy (who may reset the spending limits, without an SCP)', () => {
    const BREAK_GLASS = 'arn:aws:iam::111122223333:role/KeyBreakGlass';
    const DEPLOY_ROLE = 'arn:aws:iam::111122223333:role/Deployer';
    const guarded = synthesize({ breakGlassPrincipalArns: BREAK_GLASS, deployRoleArn: DEPLOY_ROLE }).template;
    const statementsOf = (t: Template) => {
      const tables = Object.values(t.findResources('AWS::DynamoDB::Table'));
      expect(tables).toHaveLength(1);
      return tables[0]!.Properties.ResourcePolicy.PolicyDocument.Statement as Array<Record<string, any>>;
    };
    const signerRole = (prefix: string) => ({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}SignerRole`)), 'Arn'] });

    it('denies every item write to every principal but the two signer roles, the deploy role and break-glass', () => {
      const [writes] = statementsOf(guarded);
      expect(writes).toEqual({
        Sid: 'OnlySignersWriteTheSpendingLimits',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [signerRole('Eip1559'), signerRole('Legacy'), DEPLOY_ROLE, BREAK_GLASS] } },
      });
    });

    it('denies deleting the table, turning off deletion protection or PITR, retargeting TTL, replacing this policy and restoring to every principal but the deploy role and break-glass', () => {
      const [, changes] = statementsOf(guarded);
      expect(changes).toEqual({
        Sid: 'OnlyDeployersChangeThePolicyTable',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: [
          'dynamodb:DeleteTable',
          'dynamodb:UpdateTable',
          'dynamodb:UpdateContinuousBackups',
          'dynamodb:UpdateTimeToLive',
          'dynamodb:PutResourcePolicy',
          'dynamodb:DeleteResourcePolicy',
          'dynamodb:RestoreTableToPointInTime',
        ],
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [DEPLOY_ROLE, BREAK_GLASS] } },
      });
    });

    it('exempts the dedicated bootstrap qualifier\'s deploy role when no deployRoleArn is given, and has no Allow (access still comes from IAM)', () => {
      const statements = statementsOf(template);
      expect(statements.map((s) => s.Effect)).toEqual(['Deny', 'Deny']);
      expect(JSON.stringify(statements[1]!.Condition)).toContain('cdk-ethsigner-cfn-exec-role-111122223333-eu-west-1');
    });

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
