import type { SignerSettings } from './context';
import type { GuardPolicyInput, RecordsGuardInput } from './guard-policy';
import { signerLogGroupName } from './signer-function';

/** Stands for "no principal" in an exemption list (an account id AWS never issues: with no break-glass, nobody is exempt). */
export const GUARD_NOBODY = 'arn:aws:iam::000000000000:role/no-principal-is-exempt';

/** Where the signer stack runs, and the ARNs only known there (tokens in the signer stack, concrete in the guard stack). */
export interface GuardPlace {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  readonly policyTableArn: string;
  /** The role CloudFormation deploys the signer stack with. */
  readonly deployRoleArn: string;
}

/** The guard's inputs for a signer stack: every ARN it protects (by the names the stack gives them) and who is exempt. */
export function guardInputs(settings: SignerSettings, place: GuardPlace): { signers: GuardPolicyInput; records: RecordsGuardInput; signerRoleArns: string[]; changerPrincipalArns: string[] } {
  const arn = (service: string, resource: string, region = place.region) => `arn:${place.partition}:${service}:${region}:${place.account}:${resource}`;
  const prefix = settings.functionNamePrefix;
  const names = [`${prefix}-eip1559`, `${prefix}-legacy`];
  const roleArns = names.map((name) => arn('iam', `role/${name}`, '')); // signer roles are named like their functions
  const changerPrincipalArns = [place.deployRoleArn, ...settings.breakGlassPrincipalArns];
  const qualifier = settings.bootstrapQualifier;
  return {
    signerRoleArns: roleArns,
    changerPrincipalArns,
    signers: {
      functionArns: names.map((name) => arn('lambda', `function:${name}`)),
      roleArns,
      invokerPrincipalArns: settings.invokerPrincipalArns,
      changerPrincipalArns,
      policyTableArn: place.policyTableArn,
    },
    records: {
      trailArns: [arn('cloudtrail', `trail/${prefix}-audit`)],
      alarmArns: [arn('cloudwatch', `alarm:${prefix}-*`)],
      topicArns: [arn('sns', `${prefix}-alarms`)],
      logGroupArns: [arn('logs', `log-group:${signerLogGroupName(prefix)}-*`), arn('logs', `log-group:/kms-eth-signer/${prefix}-audit`)],
      ruleArns: [arn('events', `rule/${prefix}-*`)],
      changerPrincipalArns,
      ...(qualifier && {
        bootstrap: {
          rolesPattern: arn('iam', `role/cdk-${qualifier}-*`, ''),
          execRoleArn: place.deployRoleArn,
          deployRoleArn: arn('iam', `role/cdk-${qualifier}-deploy-role-${place.account}-${place.region}`, ''),
          changerPrincipalArns: settings.breakGlassPrincipalArns.length > 0 ? settings.breakGlassPrincipalArns : [GUARD_NOBODY],
        },
      }),
    },
  };
}
