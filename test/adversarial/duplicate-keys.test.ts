// Attack class: a policy that says one thing and enforces another. JSON.parse keeps the last of duplicate
// keys while a reviewer reads the first, so every reader of a policy refuses duplicates, naming the path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from '../../infra/context';
import { loadPolicy, PolicyValidationError } from '../../lambdas/policy';
import { loadSigningPolicy } from '../../lambdas/runtime/policy-file';
import { checkPolicies } from '../../scripts/policy/build-check';
import { main, POLICY_EXIT } from '../../scripts/policy/cli';
import { thrownBy } from '../helpers/rejection';

const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
// The issue's policy: a reviewer reads a 1 ETH cap; JSON.parse would enforce 1,000,000 ETH.
const TWO_CAPS = `{
  "version": 1,
  "rules": [
    { "id": "payouts", "effect": "allow", "chainId": 1, "to": ["${PAYEE}"], "maxDataBytes": 0,
      "maxValue": "1 ether",
      "maxValue": "1000000 ether" }
  ]
}`;
const dir = mkdtempSync(join(tmpdir(), 'duplicate-keys-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('duplicate keys in a policy (issue 22, item 6)', () => {
  it('are refused by loadPolicy, naming the duplicated key\'s JSON path', () => {
    expect(thrownBy(PolicyValidationError, () => loadPolicy(TWO_CAPS)).issues).toEqual([
      { path: '$.rules[0].maxValue', problem: expect.stringMatching(/appears twice in the same object: JSON.parse would keep the last value while a reader sees the first/) },
    ]);
  });

  it('are refused when they differ only in how they are escaped ("max\\u0056alue" is maxValue)', () => {
    const escaped = TWO_CAPS.replace('"maxValue": "1000000 ether"', '"max\\u0056alue": "1000000 ether"');
    expect(thrownBy(PolicyValidationError, () => loadPolicy(escaped)).issues.map((issue) => issue.path)).toEqual(['$.rules[0].maxValue']);
  });

  it('are refused at every depth: the top level, a limit, a call\'s argument names', () => {
    const text = `{"version":1,"version":1,"limits":[{"name":"a","window":"1d","maxCount":1,"maxCount":100}],
      "rules":[{"id":"r","effect":"allow","calls":[{"function":"transfer(address to,uint256 amount)","args":{"to":{"in":["${PAYEE}"]},"to":{"in":["${PAYEE}"]}}}]}]}`;
    expect(thrownBy(PolicyValidationError, () => loadPolicy(text)).issues.map((issue) => issue.path)).toEqual(['$.version', '$.limits[0].maxCount', '$.rules[0].calls[0].args.to']);
  });

  it('are not confused with equal strings that are values, or keys of different objects', () => {
    const text = `{"version":1,"description":"maxValue","rules":[{"id":"maxValue","effect":"allow","to":["${PAYEE}"],"maxValue":"1"},{"id":"b","effect":"allow","to":["${PAYEE}"],"maxValue":"2"}]}`;
    expect(() => loadPolicy(text)).not.toThrow();
  });

  it('make the function refuse to start (nothing is signed), naming the path', () => {
    expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: file('function.json', TWO_CAPS) })).toThrow(
      expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(/is not a valid signing policy, so nothing will be signed: .*\$\.rules\[0\]\.maxValue appears twice/) }),
    );
  });

  it('fail npm run policy check with exit 1, naming the path', () => {
    const err: string[] = [];
    const code = main(['check', file('cli.json', TWO_CAPS)], { out: () => undefined, err: (line) => err.push(line) });
    expect(code).toBe(POLICY_EXIT.invalidPolicy);
    expect(err.join('\n')).toMatch(/\$\.rules\[0\]\.maxValue appears twice/);
  });

  it('fail cdk synth (the CDK context check of policyFile)', () => {
    const policyFile = file('synth.json', TWO_CAPS);
    expect(() => readSettings((key) => ({ policyFile })[key])).toThrow(/policyFile .* is not a valid signing policy: \$\.rules\[0\]\.maxValue appears twice/);
  });

  it('fail the build\'s policy check', () => {
    const lines: string[] = [];
    expect(checkPolicies(file('build.json', TWO_CAPS), (line) => lines.push(line))).toBe(false);
    expect(lines.join('\n')).toMatch(/\$\.rules\[0\]\.maxValue appears twice/);
  });
});
