import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSigningPolicy } from '../../lambdas/policy-file';

describe('loadSigningPolicy', () => {
  const root = mkdtempSync(join(tmpdir(), 'task-root-'));
  writeFileSync(join(root, 'policy.json'), JSON.stringify({ version: 1, rules: [{ id: 'in-package', effect: 'allow', maxValue: '0' }] }));

  it('reads a relative SIGNING_POLICY_FILE from the deployment package (LAMBDA_TASK_ROOT), as deployed by CDK', () => {
    const { policy, file } = loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: root });
    expect(file).toBe('policy.json');
    expect(policy.allowRules.map((rule) => rule.id)).toEqual(['in-package']);
  });

  it('reads a relative path from the working directory outside Lambda, and an absolute path as is', () => {
    expect(loadSigningPolicy({ SIGNING_POLICY_FILE: 'examples/policies/allow-all.json' }).policy.allowsEverything).toBe(true);
    expect(loadSigningPolicy({ SIGNING_POLICY_FILE: join(root, 'policy.json') }).policy.allowsEverything).toBe(false);
  });

  it('refuses a file larger than 4 MiB without parsing it', () => {
    writeFileSync(join(root, 'huge.json'), ' '.repeat(4 * 1024 * 1024 + 1));
    expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'huge.json', LAMBDA_TASK_ROOT: root })).toThrow(/at most 4194304 are accepted/);
  });

  it('says how to add a policy when none is set, and never loads a default', () => {
    expect(() => loadSigningPolicy({})).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(/SIGNING_POLICY_FILE is not set: every signer needs a signing policy .*examples\/policies\/allow-all\.json signs anything/) }));
    expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: '   ' })).toThrow(/SIGNING_POLICY_FILE is not set/);
  });
});
