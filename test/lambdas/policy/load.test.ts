import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy, PolicyValidationError, type PolicyIssue } from '../../../lambdas/policy';
import { generateValidatorSource, VALIDATOR_FILE } from '../../../scripts/policy-validator';
import { thrownBy } from '../../helpers/rejection';

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const issuesOf = (policy: unknown): PolicyIssue[] => [
  ...thrownBy(PolicyValidationError, () => loadPolicy(typeof policy === 'string' ? policy : JSON.stringify(policy))).issues,
];
const withRule = (rule: object, extra: object = {}) => ({ version: 1, ...extra, rules: [{ id: 'r', effect: 'allow', ...rule }] });

describe('loadPolicy', () => {
  it.each(readdirSync('examples/policies').filter((name) => name.endsWith('.json')))('accepts the example policy %s', (name) => {
    expect(() => loadPolicy(readFileSync(join('examples/policies', name), 'utf8'))).not.toThrow();
  });

  it('accepts the policy shown in the README', () => {
    const readme = readFileSync('README.md', 'utf8');
    const example = /## Signing policy[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(() => loadPolicy(example!)).not.toThrow();
  });

  // Each bad policy: the JSON path named and what the message says was wrong.
  const BAD: Array<[string, unknown, string, RegExp]> = [
    ['not JSON', '{"version": 1,', '$', /is not valid JSON/],
    ['no version', { rules: [{ id: 'r', effect: 'allow' }] }, '$.version', /is required/],
    ['version 2', { version: 2, rules: [{ id: 'r', effect: 'allow' }] }, '$.version', /must be 1; got 2/],
    ['no rules', { version: 1, rules: [] }, '$.rules', /must NOT have fewer than 1 items/],
    ['an unknown field', withRule({ recipient: A }), '$.rules[0].recipient', /is not an accepted field/],
    ['a bad effect', withRule({ effect: 'permit' }), '$.rules[0].effect', /must be one of \["allow","deny"\]; got "permit"/],
    ['a bad unit', withRule({ maxValue: '1 eth' }), '$.rules[0].maxValue', /must be a decimal number of wei .*; got "1 eth"/],
    ['a negative amount', withRule({ maxValue: '-5' }), '$.rules[0].maxValue', /non-negative.*; got "-5"/],
    ['a fraction of a wei', withRule({ maxGasPrice: '1.5' }), '$.rules[0].maxGasPrice', /fraction of a wei/],
    ['too many decimals', withRule({ maxTotalFee: '0.0000000001 gwei' }), '$.rules[0].maxTotalFee', /more decimals than gwei/],
    ['an amount above 2^256-1', withRule({ maxValue: (2n ** 256n).toString() }), '$.rules[0].maxValue', /larger than 2\^256-1/],
    ['an address with a bad checksum', withRule({ to: [A, '0x70997970c51812dc3a010c7d01b50e0d17dc79C8'] }), '$.rules[0].to[1]', /invalid EIP-55 checksum/],
    ['a short address', withRule({ to: ['0x1234'] }), '$.rules[0].to[0]', /must be an address: 0x and 40 hex digits; got "0x1234"/],
    ['unlimitedApprovalsTo on a deny rule', withRule({ effect: 'deny', unlimitedApprovalsTo: [A] }), '$.rules[0].unlimitedApprovalsTo', /only accepted on allow rules/],
    ['unlimitedApprovalsTo with a bad checksum', withRule({ unlimitedApprovalsTo: ['0x70997970c51812dc3a010c7d01b50e0d17dc79C8'] }), '$.rules[0].unlimitedApprovalsTo[0]', /invalid EIP-55 checksum/],
    ['a selector of the wrong length', withRule({ selector: ['0xa9059c'] }), '$.rules[0].selector[0]', /exactly 8 hex digits, 4 bytes/],
    ['an unparsable signature', withRule({ selector: ['transfer(adress,uint256)'] }), '$.rules[0].selector[0]', /not a function signature/],
    ['an unknown argument name', withRule({ calls: [{ function: 'transfer(address to, uint256 amount)', args: { value: { max: '1' } } }] }), '$.rules[0].calls[0].args["value"]', /names no parameter of transfer\(address,uint256\).*to, amount/],
    ['max on an address argument', withRule({ calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { max: '1' } } }] }), '$.rules[0].calls[0].args["to"]', /max and min apply to integer arguments/],
    ['a bad address in an argument list', withRule({ calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { in: ['bob'] } } }] }), '$.rules[0].calls[0].args["to"].in[0]', /must be an address/],
    ['a chain id as a string', withRule({ chainId: '1' }), '$.rules[0].chainId', /must be a chain id .*; got "1"/],
    ['a type that does not exist', withRule({ type: 3 }), '$.rules[0].type', /must be a transaction type \(0, 1 or 2\)/],
    ['duplicate rule ids', { version: 1, rules: [{ id: 'r', effect: 'allow' }, { id: 'r', effect: 'deny' }] }, '$.rules[1].id', /already the id of another rule/],
    ['limits on a deny rule', { version: 1, rules: [{ id: 'r', effect: 'deny', limits: [{ name: 'l', window: '1h', maxCount: 1 }] }] }, '$.rules[0].limits', /only accepted on allow rules/],
    ['a limit without a cap', withRule({ limits: [{ name: 'l', window: '1h' }] }), '$.rules[0].limits[0]', /needs maxValue, maxCount or both/],
    ['a bad window', withRule({}, { limits: [{ name: 'l', window: '24 hours', maxCount: 1 }] }), '$.limits[0].window', /"24h" or "7d"; got "24 hours"/],
    ['a window over 366 days', withRule({}, { limits: [{ name: 'l', window: '400d', maxCount: 1 }] }), '$.limits[0].window', /at most 366 days/],
    ['a token with a bad checksum', withRule({}, { limits: [{ name: 'l', window: '1d', maxValue: '1', token: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eb48' }] }), '$.limits[0].token', /invalid EIP-55 checksum/],
    ['duplicate limit names', withRule({}, { limits: [{ name: 'l', window: '1d', maxCount: 1 }, { name: 'l', window: '1h', maxCount: 1 }] }), '$.limits[1].name', /already the name of another limit/],
    ['a negative count', withRule({ maxGasLimit: -1 }), '$.rules[0].maxGasLimit', /must be >= 0/],
  ];
  it.each(BAD)('rejects %s, naming the JSON path', (_label, policy, path, message) => {
    const issues = issuesOf(policy);
    expect(issues).toContainEqual({ path, problem: expect.stringMatching(message) });
  });

  it('reports every problem at once', () => {
    expect(issuesOf(withRule({ maxValue: '1 eth', to: ['0x1'], effect: 'maybe' })).map((issue) => issue.path).sort()).toEqual(['$.rules[0].effect', '$.rules[0].maxValue', '$.rules[0].to[0]']);
  });

  it('caps the values it echoes, so a huge policy cannot flood a log', () => {
    const [issue] = issuesOf(withRule({ maxValue: '9'.repeat(90) + ' eth' }));
    expect(issue!.problem.length).toBeLessThan(400);
  });

  it('cuts the JSON parser\'s message to 200 characters, whatever the engine quotes of the input', () => {
    const parse = jest.spyOn(JSON, 'parse').mockImplementationOnce(() => {
      throw new SyntaxError(`Unexpected token in ${'x'.repeat(1000)}`);
    });
    try {
      expect(issuesOf('{')).toEqual([{ path: '$', problem: `is not valid JSON: Unexpected token in ${'x'.repeat(180)}` }]);
    } finally {
      parse.mockRestore();
    }
  });

  it('treats "__proto__" and "constructor" argument names as names, not object members', () => {
    const issues = issuesOf(JSON.parse(`{"version":1,"rules":[{"id":"r","effect":"allow","calls":[{"function":"f(uint256 x)","args":{"constructor":{"max":"1"},"__proto__":{"max":"1"}}}]}]}`));
    expect(issues.map((issue) => issue.path)).toEqual(['$.rules[0].calls[0].args["constructor"]', '$.rules[0].calls[0].args["__proto__"]']);
  });
});

describe('the generated schema validator', () => {
  it(`is up to date with policy.schema.json (npm run build regenerates ${VALIDATOR_FILE})`, () => {
    expect(readFileSync(VALIDATOR_FILE, 'utf8')).toBe(generateValidatorSource());
  });
});
