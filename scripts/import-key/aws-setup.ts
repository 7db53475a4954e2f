import { SignerError } from '../../lambdas/signer/errors';
import { awsSetupProblem, type AwsSetupProblem } from '../../lambdas/signer/kms-errors';

/**
 * The region a CLI client uses, in the AWS CLI v2's order: --region, AWS_REGION, AWS_DEFAULT_REGION (the
 * AWS CLI v1 habit, which the JavaScript SDK ignores), then the SDK's own chain (the profile's region).
 */
export function cliRegion(region: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/** If the error means the AWS setup is wrong (no region, no or bad credentials), the error that says how to fix it. */
export function toAwsSetupError(error: unknown): AwsSetupError | undefined {
  const problem = awsSetupProblem(error) ?? awsSetupProblem((error as { cause?: unknown } | undefined)?.cause);
  return problem ? new AwsSetupError(problem, error) : undefined;
}

const ADVICE: Record<AwsSetupProblem, (env: NodeJS.ProcessEnv) => string> = {
  region: () =>
    'No AWS region is set. Give --region REGION, or export AWS_REGION=REGION (AWS_DEFAULT_REGION also works), or set region in your AWS profile (aws configure).',
  credentials: (env) =>
    (env.AWS_PROFILE
      ? `No AWS credentials were found for AWS_PROFILE=${env.AWS_PROFILE.slice(0, 64)}: check that the profile exists (aws configure list-profiles) and, for SSO, log in (aws sso login --profile ${env.AWS_PROFILE.slice(0, 64)}).`
      : 'No AWS credentials were found. Run aws configure (or aws sso login --profile NAME and export AWS_PROFILE=NAME), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.') +
    ' For the local KMS, any values work: export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local.',
  'invalid-credentials': () =>
    'AWS refused the credentials themselves (unknown access key, or an expired session token): refresh them (aws sso login, or new keys) and check aws sts get-caller-identity works.',
};

/** The AWS region or credentials are missing or invalid: retrying cannot help, the setup must change. Nothing was sent. */
export class AwsSetupError extends SignerError {
  override readonly name = 'AwsSetupError';
  constructor(readonly problem: AwsSetupProblem, cause: unknown) {
    const { name = 'Error', message = String(cause) } = (cause ?? {}) as { name?: string; message?: string };
    super(`${ADVICE[problem](process.env)} (${name}: ${message.slice(0, 300)})`, { cause });
  }
}
