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
}

/** A stand-in shown when no invoker is configured: the example must be edited before use. */
export const INVOKER_PLACEHOLDER = 'arn:aws:iam::ACCOUNT:role/REPLACE-WITH-YOUR-INVOKER-ROLE';

/**
 * The account-level guard a reviewer expects, as a service control policy (or permissions boundary) document:
 * only the invokers may invoke the signers, and only the deploy and break-glass principals may change their
 * code, configuration, permissions or roles. A resource-based permission on a function adds invokers; only a
 * Deny above the account (an SCP) removes the ones that broad IAM policies in the account already have.
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
        Sid: 'OnlyDeployersChangeTheSigners',
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
        ],
        Resource: functions,
        Condition: except(input.changerPrincipalArns),
      },
      { Sid: 'OnlyDeployersPassTheSignerRoles', Effect: 'Deny', Action: 'iam:PassRole', Resource: input.roleArns, Condition: except(input.changerPrincipalArns) },
      {
        Sid: 'OnlyDeployersChangeTheSignerRoles',
        Effect: 'Deny',
        Action: [
          'iam:PutRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:AttachRolePolicy',
          'iam:DetachRolePolicy',
          'iam:UpdateAssumeRolePolicy',
          'iam:PutRolePermissionsBoundary',
          'iam:DeleteRolePermissionsBoundary',
          'iam:UpdateRole',
          'iam:DeleteRole',
        ],
        Resource: input.roleArns,
        Condition: except(input.changerPrincipalArns),
      },
    ],
  };
}
