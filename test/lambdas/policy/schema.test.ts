import { PolicyValidationError, type PolicyIssue } from '../../../lambdas/policy';
import { describe as describeValue, toJsonPath, validatePolicyDocument } from '../../../lambdas/policy/schema';
import { thrownBy } from '../../helpers/rejection';

const issuesOf = (value: unknown): readonly PolicyIssue[] => thrownBy(PolicyValidationError, () => validatePolicyDocument(value)).issues;
const withRule = (rule: object, extra: object = {}) => ({ version: 1, ...extra, rules: [{ id: 'r', effect: 'allow', ...rule }] });
const call = (args: object) => withRule({ calls: [{ function: 'f(uint256 a)', args }] });

describe('validatePolicyDocument', () => {
  it('returns a document the schema accepts as it is', () => {
    const document = withRule({ to: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'] });
    expect(validatePolicyDocument(document)).toBe(document);
  });

  // One issue per problem, in the words an editor of the policy needs (not ajv's pattern dumps).
  it.each<[string, unknown, PolicyIssue[]]>([
    ['a document that is not an object', 5, [{ path: '$', problem: 'must be object; got 5' }]],
    ['a missing field', { version: 1 }, [{ path: '$.rules', problem: 'is required' }]],
    ['an unknown field', withRule({}, { extra: true }), [{ path: '$.extra', problem: 'is not an accepted field (see policy.schema.json)' }]],
    ['another value than the one allowed', { version: 2, rules: [{ id: 'r', effect: 'allow' }] }, [{ path: '$.version', problem: 'must be 1; got 2' }]],
    ['a value outside an enumeration', withRule({ effect: 'permit' }), [{ path: '$.rules[0].effect', problem: 'must be one of ["allow","deny"]; got "permit"' }]],
    ['a value of another type, without a friendlier wording', { version: 1, rules: {} }, [{ path: '$.rules', problem: 'must be array; got {}' }]],
    ['a count that is not a whole number', withRule({ maxGasLimit: 1.5 }), [{ path: '$.rules[0].maxGasLimit', problem: 'must be a whole number from 0 to 2^53-1; got 1.5' }]],
    ['an address that is not one', withRule({ to: ['0x1234'] }), [{ path: '$.rules[0].to[0]', problem: 'must be an address: 0x and 40 hex digits; got "0x1234"' }]],
    ['a bad window', withRule({ limits: [{ name: 'l', window: '1w', maxCount: 1 }] }), [{ path: '$.rules[0].limits[0].window', problem: 'must be a whole number of s, m, h or d such as "24h" or "7d"; got "1w"' }]],
    ['too few items', withRule({ selector: [] }), [{ path: '$.rules[0].selector', problem: 'must NOT have fewer than 1 items; got []' }]],
    ['too long a text (not echoed)', withRule({ description: 'x'.repeat(1001) }), [{ path: '$.rules[0].description', problem: 'must NOT have more than 1000 characters' }]],
    ['too many items (not echoed)', { version: 1, rules: [{ id: 'r', effect: 'deny' }], messages: { signTypedData: Array.from({ length: 1001 }, (_, index) => ({ id: `t${index}`, primaryType: 'Mail' })) } },
      [{ path: '$.messages.signTypedData', problem: 'must NOT have more than 1000 items' }]],
  ])('reports %s', (_label, value, issues) => {
    expect(issuesOf(value)).toEqual(issues);
  });

  it.each<[string, object, string]>([
    ['a chain id of another type', withRule({ chainId: '1' }), 'must be a chain id (a whole number from 1 to 2^53-1) or a non-empty list of them; got "1"'],
    ['a list with a chain id out of range', withRule({ chainId: [1, 0] }), 'must be a chain id (a whole number from 1 to 2^53-1) or a non-empty list of them; got [1,0]'],
  ])('reports %s once, at the field with a choice of forms (not each form\'s complaint)', (_label, value, problem) => {
    expect(issuesOf(value)).toEqual([{ path: '$.rules[0].chainId', problem }]);
  });

  it('reports a list with a type that does not exist once', () => {
    expect(issuesOf(withRule({ type: [2, 3] }))).toEqual([{ path: '$.rules[0].type', problem: 'must be a transaction type (0, 1 or 2) or a non-empty list of them; got [2,3]' }]);
  });

  it('lists at most 200 issues, however many problems a policy has', () => {
    const rules = Array.from({ length: 300 }, (_, index) => ({ id: `r${index}`, effect: 'maybe' }));
    const issues = issuesOf({ version: 1, rules });
    expect(issues).toHaveLength(200);
    expect(issues[199]).toEqual({ path: '$.rules[199].effect', problem: 'must be one of ["allow","deny"]; got "maybe"' });
  });

  it('keeps every problem that made the 200 cut, even when the cut falls between a chain id list\'s complaints and their summary', () => {
    // 198 problems, then the list [0]: the value is not a chain id (problem 199), its item is below 1 (200),
    // and the summary "not one of the forms" (201) falls past the cap.
    const rules = [...Array.from({ length: 198 }, (_, index) => ({ id: `r${index}`, effect: 'maybe' })), { id: 'c', effect: 'allow', chainId: [0] }];
    const issues = issuesOf({ version: 1, rules });
    expect(issues).toHaveLength(200);
    expect(issues.slice(198)).toEqual([
      { path: '$.rules[198].chainId', problem: 'must be a chain id (a whole number from 1 to 2^53-1) or a non-empty list of them; got [0]' },
      { path: '$.rules[198].chainId[0]', problem: 'must be >= 1; got 0' },
    ]);
  });

  it('reports the same problem once where two keys differ only past the 40 characters a path quotes', () => {
    const long = `-${'c'.repeat(50)}`;
    expect(issuesOf(call({ [`${long}1`]: {}, [`${long}2`]: {} }))).toEqual([
      { path: `$.rules[0].calls[0].args["-${'c'.repeat(39)}"]`, problem: 'must NOT have fewer than 1 properties; got {}' },
    ]);
  });

  it('names object keys in JSON paths: identifiers with a dot, anything else quoted (at most 40 characters), with ~ and / unescaped', () => {
    expect(issuesOf(call({ 'a/b~c': { in: 5 }, $x: {}, '01': {}, 7: {}, 'a-b': {}, ['b'.repeat(50)]: {}, [`-${'c'.repeat(50)}`]: {} })).map((issue) => [issue.path, issue.problem])).toEqual([
      ['$.rules[0].calls[0].args[7]', 'must NOT have fewer than 1 properties; got {}'],
      ['$.rules[0].calls[0].args["a/b~c"].in', 'must be array; got 5'],
      ['$.rules[0].calls[0].args.$x', 'must NOT have fewer than 1 properties; got {}'],
      ['$.rules[0].calls[0].args["01"]', 'must NOT have fewer than 1 properties; got {}'],
      ['$.rules[0].calls[0].args["a-b"]', 'must NOT have fewer than 1 properties; got {}'],
      [`$.rules[0].calls[0].args.${'b'.repeat(50)}`, 'must NOT have fewer than 1 properties; got {}'],
      [`$.rules[0].calls[0].args["-${'c'.repeat(39)}"]`, 'must NOT have fewer than 1 properties; got {}'],
    ]);
  });

  it('quotes the value at a key that holds ~ or /, and at "__proto__"', () => {
    expect(issuesOf(call({ '~1/': { in: 'x' } }))).toEqual([{ path: '$.rules[0].calls[0].args["~1/"].in', problem: 'must be array; got "x"' }]);
    expect(issuesOf(JSON.parse('{"version":1,"rules":[{"id":"r","effect":"allow","calls":[{"function":"f(uint256 a)","args":{"__proto__":{"in":7}}}]}]}'))).toEqual([
      { path: '$.rules[0].calls[0].args.__proto__.in', problem: 'must be array; got 7' },
    ]);
  });

  it('quotes only the document\'s own values: a bad value it inherits is "nothing"', () => {
    const document = Object.assign(Object.create({ version: 2 }) as object, { rules: [{ id: 'r', effect: 'allow' }] });
    expect(issuesOf(document)).toEqual([{ path: '$.version', problem: 'must be 1; got nothing' }]);
  });

  it('describes values too deep to quote by their kind', () => {
    const deep = (open: string, inner: string, close: string) => JSON.parse(`{"version":1,"rules":[{"id":"r","effect":"allow","description":${open.repeat(5000)}${inner}${close.repeat(5000)}}]}`);
    expect(issuesOf(deep('[', '', ']'))).toEqual([{ path: '$.rules[0].description', problem: 'must be string; got an array' }]);
    expect(issuesOf(deep('{"a":', '1', '}'))).toEqual([{ path: '$.rules[0].description', problem: 'must be string; got object' }]);
  });
});

describe('toJsonPath', () => {
  it.each([
    ['', '$'],
    ['/rules/0/to/3', '$.rules[0].to[3]'],
    ['/rules/10/calls/0/args/a~1b~0c', '$.rules[10].calls[0].args["a/b~c"]'],
    ['/rules/0/calls/0/args/~01', '$.rules[0].calls[0].args["~1"]'],
  ])('turns %j into %s', (pointer, path) => {
    expect(toJsonPath(pointer)).toBe(path);
  });
});

describe('describe (a bad value for a message)', () => {
  it.each<[string, unknown, string]>([
    ['nothing', undefined, 'nothing'],
    ['a string, quoted', 'x', '"x"'],
    ['a bigint, as its decimal digits', 12n, '"12"'],
    ['80 characters whole', 'y'.repeat(78), `"${'y'.repeat(78)}"`],
    ['81 characters cut to 77 and ...', 'y'.repeat(79), `"${'y'.repeat(76)}...`],
  ])('describes %s', (_label, value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
