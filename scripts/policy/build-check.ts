// The build's policy gate: every example policy, and the deployment's own, must be valid or the build fails.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, PolicyValidationError } from '../../lambdas/policy';

const EXAMPLES = 'examples/policies';

/** Validates the example policies and `extra` (if given); prints each problem with its JSON path; true if all are valid. */
export function checkPolicies(extra?: string, log: (line: string) => void = console.error): boolean {
  const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.json')).map((name) => join(EXAMPLES, name));
  if (extra?.trim()) files.push(extra.trim());
  let valid = true;
  for (const file of files) {
    try {
      loadPolicy(readFileSync(file, 'utf8'));
    } catch (error) {
      valid = false;
      if (error instanceof PolicyValidationError) {
        log(`${file}: invalid signing policy (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`);
        for (const issue of error.issues) log(`  ${issue.path} ${issue.problem}`);
      } else {
        log(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
  }
  return valid;
}
