import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../signer/errors';
import { loadPolicy, PolicyValidationError, type CompiledPolicy } from '../policy';

/** The signing policy a function runs with, and the file it came from. */
export interface LoadedPolicy {
  readonly policy: CompiledPolicy;
  readonly file: string;
}

const MAX_POLICY_BYTES = 4 * 1024 * 1024;
const HOW_TO_ADD =
  'every signer needs a signing policy shipped in its deployment package: deploy with cdk deploy -c policyFile=path/to/policy.json ' +
  '(start from examples/policies/), or set SIGNING_POLICY_FILE to a policy file; examples/policies/allow-all.json signs anything';

/**
 * Reads the policy named by SIGNING_POLICY_FILE (a path relative to the deployment package, LAMBDA_TASK_ROOT,
 * or to the working directory outside Lambda) and compiles it. Any problem is a ConfigurationError: a
 * function without a valid policy signs nothing (fail closed).
 */
export function loadSigningPolicy(env: NodeJS.ProcessEnv = process.env): LoadedPolicy {
  const name = env.SIGNING_POLICY_FILE?.trim();
  if (!name) throw new ConfigurationError([`SIGNING_POLICY_FILE is not set: ${HOW_TO_ADD}`]);
  const file = isAbsolute(name) ? name : resolve(env.LAMBDA_TASK_ROOT ?? process.cwd(), name);
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_POLICY_BYTES) throw new ConfigurationError([`SIGNING_POLICY_FILE ${name.slice(0, 200)} is ${bytes.length} bytes; at most ${MAX_POLICY_BYTES} are accepted`]);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    const code = (error as NodeJS.ErrnoException).code; // readFileSync's errors all have one: ENOENT, EISDIR, …
    throw new ConfigurationError([`SIGNING_POLICY_FILE ${name.slice(0, 200)} cannot be read (${code}): ${HOW_TO_ADD}`]);
  }
  try {
    return { policy: loadPolicy(text), file: name };
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error;
    throw new ConfigurationError([`SIGNING_POLICY_FILE ${name.slice(0, 200)} is not a valid signing policy, so nothing will be signed: ${error.message}`]);
  }
}
