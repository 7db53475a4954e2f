// A signing policy written to a file of its own, as SIGNING_POLICY_FILE and the CDK context take it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `policy` as JSON to `name` in a new temporary directory and returns the file's path. */
export function writePolicyFile(policy: object, name = 'policy.json'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'policy-')), name);
  writeFileSync(file, JSON.stringify(policy));
  return file;
}
