/** The ARNs a guard policy protects and the principals it exempts. */
export interface GuardPolicyInput {
  /** The signer functions' ARNs. */
  readonly functionArns: string[];
  /** The signer functions' execution roles. */
  readonly roleArns: string[];
  /** The only principals that may invoke the functions. */
  readonly invokerPrincipalArns: string[];
  /** The only principals that may change the functions and their roles (the deploy role, break-glass). */
  readonly changerPrincipalArns: string[];
  /** The policy-state table (spending limits, idempotency records). */
  readonly policyTableArn: string;
}

/** A stand-in shown when no invoker is configured: the example must be edited before use. */
export const INVOKER_PLACEHOLDER = 'arn:aws:iam::ACCOUNT:role/REPLACE-WITH-YOUR-INVOKER-ROLE';

/** The most characters AWS Organizations accepts in one SCP (whitespace counts when sent by CLI or SDK). */
export const SCP_MAX_CHARACTERS = 5120;

/**
 * Writes to the policy table's items: whoever may make them can reset the spending limits. TransactWriteItems
 * is authorised as the PutItem/UpdateItem/DeleteItem it contains, and PartiQL's ExecuteStatement,
 * BatchExecuteStatement and ExecuteTransaction as the PartiQL actions; neither has an IAM action of its own.
 */
export const POLICY_TABLE_ITEM_WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

/**
 * Changes to the table itself that lift the limits: deleting it, turning off its deletion protection
 * (UpdateTable), point-in-time recovery or resource policy, pointing TTL at an attribute the spending item
 * has (DynamoDB then deletes the item), deleting its backups.
 */
export const POLICY_TABLE_CHANGES = [
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:UpdateContinuousBackups',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:PutResourcePolicy',
  'dynamodb:DeleteResourcePolicy',
] as const;

/**
 * The account-level guard a reviewer expects, as a service control policy (or permissions boundary) document:
 * only the invokers may invoke the signers; only the signers (and the deploy and break-glass principals) write
 * the policy table's items; only the deploy and break-glass principals change the signers' code, configuration,
 * permissions or roles, or change, restore or delete the policy table and its backups. A resource-based
 * permission on a function adds invokers; only a Deny above the account (an SCP) removes the ones that broad IAM
 * policies in the account already have.
 *
 * The deployers' denials share one statement (an action only ever matches resources of its own service, so the
 * union of actions over the union of resources denies exactly what separate statements would): each ARN list
 * then appears twice rather than five times, which keeps the document under the SCP size limit.
 */
export function guardPolicy(input: GuardPolicyInput): Record<string, unknown> {
  const functions = input.functionArns.flatMap((arn) => [arn, `${arn}:*`]); // and every version and alias
  const except = (principals: string[]) => ({ ArnNotLike: { 'aws:PrincipalArn': principals } });
  const invokers = input.invokerPrincipalArns.length > 0 ? input.invokerPrincipalArns : [INVOKER_PLACEHOLDER];
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'OnlyInvokersInvokeTheSigners', Effect: 'Deny', Action: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'], Resource: functions, Condition: except(invokers) },
      {
        Sid: 'OnlyDeployersChangeTheSignersTheirRolesAndTheirTable',
        Effect: 'Deny',
        Action: [
          'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration',
          'lambda:AddPermission',
          'lambda:RemovePermission',
          'lambda:CreateFunctionUrlConfig',
          'lambda:UpdateFunctionCodeSigningConfig',
          'lambda:DeleteFunctionCodeSigningConfig',
          'lambda:PutFunctionConcurrency',
          'lambda:DeleteFunction',
          'iam:PassRole',
          'iam:PutRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:AttachRolePolicy',
          'iam:DetachRolePolicy',
          'iam:UpdateAssumeRolePolicy',
          'iam:PutRolePermissionsBoundary',
          'iam:DeleteRolePermissionsBoundary',
          'iam:UpdateRole',
          'iam:DeleteRole',
          ...POLICY_TABLE_CHANGES,
          // Restores and imports make a new table, but only deployers need them; backups are <table ARN>/backup/….
          'dynamodb:DeleteBackup',
          'dynamodb:RestoreTable*',
          'dynamodb:ImportTable',
        ],
        Resource: [...functions, ...input.roleArns, input.policyTableArn, `${input.policyTableArn}/*`],
        Condition: except(input.changerPrincipalArns),
      },
      {
        Sid: 'OnlySignersWriteTheSpendingLimits',
        Effect: 'Deny',
        Action: [...POLICY_TABLE_ITEM_WRITES],
        Resource: input.policyTableArn,
        Condition: except([...input.roleArns, ...input.changerPrincipalArns]),
      },
    ],
  };
}
