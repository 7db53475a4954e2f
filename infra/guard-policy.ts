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

/** The records that say what happened and raise the alarms: each one, if changed, silences the rest. */
export interface RecordsGuardInput {
  /** The trails (name ARNs) that log management events and the signers' invocations. */
  readonly trailArns: string[];
  /** The alarms (ARN patterns: the stack names them <prefix>-…). */
  readonly alarmArns: string[];
  /** The alarm topic(s). */
  readonly topicArns: string[];
  /** The log groups (ARN patterns) of the signers and the trail. */
  readonly logGroupArns: string[];
  /** The EventBridge rules (ARN patterns) that raise the alerts. */
  readonly ruleArns: string[];
  /** The only principals that may change them: the deploy role and break-glass. */
  readonly changerPrincipalArns: string[];
  /**
   * The dedicated bootstrap qualifier's roles: their pattern (arn:…:role/cdk-QUALIFIER-*), changed only by
   * `bootstrapChangerArns`, and its cfn-exec role, passed to CloudFormation only by its deploy role.
   */
  readonly bootstrap?: { readonly rolesPattern: string; readonly execRoleArn: string; readonly deployRoleArn: string; readonly changerPrincipalArns: string[] };
}

/** Changes to the signers' functions: code, configuration (environment, layers, NODE_OPTIONS), permissions, code signing, aliases, versions. */
export const SIGNER_FUNCTION_CHANGES = [
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:AddPermission',
  'lambda:RemovePermission',
  'lambda:CreateFunctionUrlConfig',
  'lambda:UpdateFunctionUrlConfig',
  'lambda:PutFunctionCodeSigningConfig',
  'lambda:DeleteFunctionCodeSigningConfig',
  'lambda:CreateAlias',
  'lambda:UpdateAlias',
  'lambda:DeleteAlias',
  'lambda:PublishVersion',
  'lambda:PutFunctionConcurrency',
  'lambda:DeleteFunctionConcurrency',
  'lambda:DeleteFunction',
] as const;

/** Changes to a role: its policies, trust, boundary, the role itself; and passing it to a service. */
export const ROLE_CHANGES = [
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
] as const;

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
          ...SIGNER_FUNCTION_CHANGES,
          'lambda:UpdateFunctionCodeSigningConfig', // an older name of the same permission, still in IAM
          ...ROLE_CHANGES,
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

/**
 * The second SCP: the records, the alarms and the deploy identity. Only the deploy role and break-glass may stop
 * or change the trail, delete or disable the alarms, change or unsubscribe from the alarm topic, delete or shorten
 * the log groups (and their metric filters), or change the alert rules; only break-glass changes the bootstrap
 * qualifier's roles, and only its deploy role passes its cfn-exec role to CloudFormation.
 */
export function recordsGuardPolicy(input: RecordsGuardInput): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyDeployersSilenceTheRecordsAndAlarms',
        Effect: 'Deny',
        Action: [
          'cloudtrail:StopLogging',
          'cloudtrail:DeleteTrail',
          'cloudtrail:UpdateTrail',
          'cloudtrail:PutEventSelectors',
          'cloudwatch:DeleteAlarms',
          'cloudwatch:DisableAlarmActions',
          'cloudwatch:PutMetricAlarm',
          'sns:DeleteTopic',
          'sns:SetTopicAttributes',
          'sns:AddPermission',
          'sns:RemovePermission',
          'sns:Unsubscribe',
          'logs:DeleteLogGroup',
          'logs:PutRetentionPolicy',
          'logs:DeleteRetentionPolicy',
          'logs:DeleteLogStream',
          'logs:PutMetricFilter',
          'logs:DeleteMetricFilter',
          'logs:DisassociateKmsKey',
          'events:DeleteRule',
          'events:DisableRule',
          'events:PutRule',
          'events:PutTargets',
          'events:RemoveTargets',
        ],
        Resource: [
          ...input.trailArns,
          ...input.alarmArns,
          ...input.topicArns.flatMap((arn) => [arn, `${arn}:*`]), // and its subscriptions (Unsubscribe)
          ...input.logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
          ...input.ruleArns,
        ],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': input.changerPrincipalArns } },
      },
      ...(input.bootstrap
        ? [
            // The deploy identity: whoever changes the qualifier's roles (or passes its cfn-exec role to CloudFormation
            // from anything but its deploy role) deploys what they like with the rights the key policy gives it.
            { Sid: 'OnlyBreakGlassChangesTheDeployRoles', Effect: 'Deny', Action: ROLE_CHANGES.filter((a) => a !== 'iam:PassRole'), Resource: input.bootstrap.rolesPattern, Condition: { ArnNotLike: { 'aws:PrincipalArn': input.bootstrap.changerPrincipalArns } } },
            { Sid: 'OnlyTheDeployRolePassesTheExecutionRole', Effect: 'Deny', Action: 'iam:PassRole', Resource: input.bootstrap.execRoleArn, Condition: { ArnNotLike: { 'aws:PrincipalArn': [input.bootstrap.deployRoleArn] } } },
          ]
        : []),
    ],
  };
}

/** What the resource control policy on the signing key needs. */
export interface KeyGuardInput {
  readonly keyArn: string;
  /** The only principals that may sign. */
  readonly signerRoleArns: string[];
  /** The only principals that may change who signs (deploy role, break-glass). */
  readonly changerPrincipalArns: string[];
}

/**
 * A resource control policy (RCP) on the signing key: whatever a key policy or grant says, only the signer
 * roles sign, and only the deploy role and break-glass rewrite the policy, re-enable the key or add grants.
 * RCPs bind principals of every account, the key's own root included (not the management account's resources).
 */
export function keyGuardPolicy(input: KeyGuardInput): Record<string, unknown> {
  const except = (principals: string[]) => ({ ArnNotLike: { 'aws:PrincipalArn': principals } });
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'OnlySignerRolesSign', Effect: 'Deny', Principal: '*', Action: 'kms:Sign', Resource: input.keyArn, Condition: except(input.signerRoleArns) },
      {
        Sid: 'OnlyDeployersChangeWhoSigns',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:PutKeyPolicy', 'kms:EnableKey', 'kms:CreateGrant', 'kms:ImportKeyMaterial', 'kms:CancelKeyDeletion'],
        Resource: input.keyArn,
        Condition: except(input.changerPrincipalArns),
      },
    ],
  };
}

/**
 * The permissions-boundary equivalent of the guard for a single account without AWS Organizations: the
 * SCPs' denials plus an Allow of everything else (a boundary only limits), and denials that keep it attached:
 * no role or user created, and no boundary changed or removed, without this boundary. It binds only the
 * principals it is attached to: not the root user, not principals that existed before it unless attached to
 * them, and not service principals (docs/deploy.md, "Without AWS Organizations").
 */
export function guardBoundary(denials: Array<Record<string, unknown>>, boundaryArn: string, adminPrincipalArns: string[]): Record<string, unknown> {
  const sidOf = (statement: Record<string, unknown>, index: number) => `${String(statement.Sid ?? 'Guard')}${index}`;
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'EverythingTheIdentityPolicyAllows', Effect: 'Allow', Action: '*', Resource: '*' },
      ...denials.map((statement, index) => ({ ...statement, Sid: sidOf(statement, index) })),
      {
        Sid: 'NewPrincipalsCarryThisBoundary',
        Effect: 'Deny',
        Action: ['iam:CreateRole', 'iam:CreateUser', 'iam:PutRolePermissionsBoundary', 'iam:PutUserPermissionsBoundary'],
        Resource: '*',
        Condition: { StringNotEquals: { 'iam:PermissionsBoundary': boundaryArn } },
      },
      {
        Sid: 'NobodyRemovesABoundary',
        Effect: 'Deny',
        Action: ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'],
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': adminPrincipalArns } },
      },
      {
        Sid: 'NobodyRewritesThisBoundary',
        Effect: 'Deny',
        Action: ['iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicyVersion', 'iam:DeletePolicy'],
        Resource: boundaryArn,
        Condition: { ArnNotLike: { 'aws:PrincipalArn': adminPrincipalArns } },
      },
    ],
  };
}
