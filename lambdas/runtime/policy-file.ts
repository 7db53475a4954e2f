import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigurationError } from '../signer/errors';
import { loadPolicy, PolicyValidationError, type CompiledPolicy } from '../policy';

/** The signing policy a function runs with, and the file it came from. */
export interface LoadedPolicy {
  readonly policy: CompiledPolicy;
  readonly file: string;
}

// Replaced by the build (scripts/build.ts, esbuild define) with the SHA-256 of the policy it was built for.
declare const __SIGNING_POLICY_SHA256__: string | undefined;

/** The SHA-256 (hex) of the policy this bundle was built for; undefined in a build without SIGNING_POLICY_FILE (and in tests). */
export const BUILT_POLICY_SHA256: string | undefined = typeof __SIGNING_POLICY_SHA256__ === 'string' ? __SIGNING_POLICY_SHA256__ : undefined;

/** Beside the policy in the deployment package: the SHA-256 (hex) of the policy staged at synth (infra/signer-function.ts). */
export const STAGED_POLICY_SHA256_FILE = 'policy.sha256';

const MAX_POLICY_BYTES = 4 * 1024 * 1024;
const HOW_TO_ADD =
  'every signer needs a signing policy shipped in its deployment package: deploy with cdk deploy -c policyFile=path/to/policy.json ' +
  '(start from examples/policies/), or set SIGNING_POLICY_FILE to a policy file; examples/policies/allow-all.json signs anything';

/**
 * Reads the policy named by SIGNING_POLICY_FILE (a path relative to the deployment package, LAMBDA_TASK_ROOT,
 * or to the working directory outside Lambda) and compiles it. Any problem is a ConfigurationError: a
 * function without a valid policy signs nothing (fail closed). In Lambda the file must be inside the
 * deployment package (not a layer's /opt, not /tmp), and must be, byte for byte, the policy whose SHA-256 the
 * synth staged beside it (policy.sha256 in the package) and, when the bundle was built for a policy
 * (`expectedSha256`), that policy too; a package with neither hash is refused.
 */
export function loadSigningPolicy(env: NodeJS.ProcessEnv = process.env, expectedSha256: string | undefined = BUILT_POLICY_SHA256): LoadedPolicy {
  const name = env.SIGNING_POLICY_FILE?.trim();
  if (!name) throw new ConfigurationError([`SIGNING_POLICY_FILE is not set: ${HOW_TO_ADD}`]);
  const root = env.LAMBDA_TASK_ROOT;
  const file = isAbsolute(name) ? name : resolve(root ?? process.cwd(), name);
  let text: string;
  try {
    if (root !== undefined && !isInside(realpathSync(root), realpathSync(file))) {
      throw new ConfigurationError([`SIGNING_POLICY_FILE ${name.slice(0, 200)} is outside the deployment package (${root}): only the policy shipped with the code is accepted`]);
    }
    const bytes = readFileSync(file);
    if (bytes.length > MAX_POLICY_BYTES) throw new ConfigurationError([`SIGNING_POLICY_FILE ${name.slice(0, 200)} is ${bytes.length} bytes; at most ${MAX_POLICY_BYTES} are accepted`]);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const staged = root === undefined ? undefined : stagedPolicySha256(realpathSync(root));
    if (staged !== undefined && sha256 !== staged) {
      throw new ConfigurationError([
        `SIGNING_POLICY_FILE ${name.slice(0, 200)} has SHA-256 ${sha256}, but the policy staged with this function at synth (${STAGED_POLICY_SHA256_FILE}) has SHA-256 ${staged}: ` +
          'only the policy deployed with the code (-c policyFile, or the policyFile prop) is accepted; deploy again to change it',
      ]);
    }
    if (root !== undefined && staged === undefined && expectedSha256 === undefined) {
      throw new ConfigurationError([
        `SIGNING_POLICY_FILE ${name.slice(0, 200)} cannot be checked: the deployment package has no ${STAGED_POLICY_SHA256_FILE} and this bundle was built for no policy, ` +
          `so another file could stand in for the policy deployed: deploy with the EthereumSigner construct or cdk deploy -c policyFile (both write ${STAGED_POLICY_SHA256_FILE}), ` +
          `or put the policy's SHA-256 (hex) in ${STAGED_POLICY_SHA256_FILE} beside it`,
      ]);
    }
    if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
      throw new ConfigurationError([
        `SIGNING_POLICY_FILE ${name.slice(0, 200)} has SHA-256 ${sha256}, but this bundle was built for the policy with SHA-256 ${expectedSha256}: ` +
          'rebuild with SIGNING_POLICY_FILE=<the policy> npm run build and deploy the same policy (-c policyFile)',
      ]);
    }
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

/** The policy hash the synth staged in the deployment package; undefined where none was staged. */
function stagedPolicySha256(root: string): string | undefined {
  const file = join(root, STAGED_POLICY_SHA256_FILE);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new ConfigurationError([`${STAGED_POLICY_SHA256_FILE} in the deployment package is not a hex SHA-256 (64 characters 0-9a-f): deploy again`]);
  return text;
}

/** Whether `file` is `root` or below it (the root itself is a directory: reading it fails with EISDIR). */
function isInside(root: string, file: string): boolean {
  const path = relative(root, file);
  return !path.startsWith('..') && !isAbsolute(path);
}
