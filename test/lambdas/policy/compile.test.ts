import { Interface, parseUnits } from 'ethers';
import { evaluatePolicy, loadPolicy, PolicyValidationError, type CompiledPolicy, type PolicyIssue, type PolicyRequest } from '../../../lambdas/policy';
import { eip1559Transfer } from '../../helpers/policy-requests';
import { thrownBy } from '../../helpers/rejection';

// compilePolicy runs inside loadPolicy, after the schema: these tests load JSON as a deployment does.
const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const erc20 = new Interface(['function transfer(address to, uint256 amount)', 'function approve(address spender, uint256 amount)']);

const BASE: PolicyRequest = eip1559Transfer(A);
const tx = (fields: Partial<PolicyRequest> & Record<string, unknown> = {}): PolicyRequest => {
  const merged = { ...BASE, ...fields } as Record<string, unknown>;
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as unknown as PolicyRequest;
};
const LEGACY = { type: 0, gasPrice: 7n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined };
const PRE_EIP155 = { ...LEGACY, chainId: undefined, preEip155: true };
const DEPLOYMENT = { to: undefined, data: '0x6000' };

const load = (document: object): CompiledPolicy => loadPolicy(JSON.stringify({ version: 1, ...document }));
const withRule = (rule: object, extra: object = {}) => ({ ...extra, rules: [{ id: 'r', effect: 'allow', ...rule }] });
const issuesOf = (document: object): readonly PolicyIssue[] => thrownBy(PolicyValidationError, () => load(document)).issues;
/** The failed conditions of the single allow rule, as the check operation reports them. */
const failures = (rule: object, request: PolicyRequest) => {
  const decision = evaluatePolicy(load(withRule(rule)), request);
  if (decision.allowed) throw new Error('the transaction was allowed');
  return decision.closest[0]?.failed;
};
const allows = (rule: object, request: PolicyRequest) => evaluatePolicy(load(withRule(rule)), request).allowed;
const transfer = (to: string, amount: bigint) => erc20.encodeFunctionData('transfer', [to, amount]);

describe('compilePolicy', () => {
  describe('explains each condition a transaction fails, in the words the check operation returns', () => {
    const selectors = (count: number) => Array.from({ length: count }, (_, index) => `0x0000000${index + 1}`);
    const cases: Array<[string, object, PolicyRequest, Array<[string, string]>]> = [
      ['a deployment under an allow rule (contractCreation defaults to false)', {}, tx(DEPLOYMENT),
        [['contractCreation', 'the transaction deploys a contract (it has no to), which this rule does not cover (a rule must set contractCreation to true or "only" to allow it)']]],
      ['a call under contractCreation "only"', { contractCreation: 'only' }, tx(),
        [['contractCreation', 'the transaction does not deploy a contract; this rule has contractCreation "only"']]],
      ['a pre-EIP-155 signature under an allow rule (preEip155 defaults to false)', {}, tx(PRE_EIP155),
        [['preEip155', 'the transaction is signed without a chain id (pre-EIP-155), which this rule does not cover (a rule must set preEip155 to true or "only" to allow it)']]],
      ['an EIP-155 signature under preEip155 "only"', { preEip155: 'only' }, tx(),
        [['preEip155', 'the transaction is signed with a chain id (EIP-155); this rule has preEip155 "only"']]],
      ['another chain', { chainId: [5, 11155111] }, tx(), [['chainId', 'chain 1 is not 5 or 11155111']]],
      ['no chain id', { chainId: 1, preEip155: true }, tx(PRE_EIP155), [['chainId', 'the transaction has no chain id (pre-EIP-155)']]],
      ['another type', { type: [0, 1] }, tx(), [['type', 'type 2 is not 0 or 1']]],
      ['another recipient', { to: [B, TOKEN] }, tx(), [['to', `${A} is not one of the rule's 2 addresses`]]],
      ['no recipient', { to: [A], contractCreation: true }, tx(DEPLOYMENT), [['to', 'the transaction has no to (it deploys a contract)']]],
      ['a value above the cap', { maxValue: '10' }, tx({ value: 11n }), [['maxValue', 'value 11 is more than maxValue 10']]],
      ['data shorter than a selector', { selector: ['0xa9059cbb'] }, tx({ data: '0x010203' }), [['selector', 'data (3 bytes) has no 4-byte function selector']]],
      ['another selector (five listed)', { selector: selectors(5) }, tx({ data: '0xa9059cbb' }),
        [['selector', 'selector 0xa9059cbb is not one of 0x00000001, 0x00000002, 0x00000003, 0x00000004, 0x00000005']]],
      ['another selector (the first five of six listed)', { selector: selectors(6) }, tx({ data: '0xA9059CBB' }),
        [['selector', 'selector 0xa9059cbb is not one of 0x00000001, 0x00000002, 0x00000003, 0x00000004, 0x00000005, …']]],
      ['too much data', { maxDataBytes: 4 }, tx({ data: '0x0102030405' }), [['maxDataBytes', 'data is 5 bytes, more than maxDataBytes 4']]],
      ['a gas limit above the cap', { maxGasLimit: 21000 }, tx({ gasLimit: 21001n }), [['maxGasLimit', 'gasLimit 21001 is more than maxGasLimit 21000']]],
      ['no gas limit', { maxGasLimit: 21000 }, tx({ gasLimit: undefined }), [['maxGasLimit', 'the transaction has no gasLimit']]],
      ['a fee cap above maxGasPrice', { maxGasPrice: '10' }, tx({ maxFeePerGas: 11n }), [['maxGasPrice', 'maxFeePerGas or gasPrice 11 is more than maxGasPrice 10']]],
      ['no fee cap', { maxGasPrice: '10' }, tx({ maxFeePerGas: undefined }), [['maxGasPrice', 'the transaction has no maxFeePerGas or gasPrice']]],
      ['a priority fee above the cap', { maxPriorityFeePerGas: '1' }, tx({ maxPriorityFeePerGas: 2n }), [['maxPriorityFeePerGas', 'maxPriorityFeePerGas 2 is more than maxPriorityFeePerGas 1']]],
      ['no priority fee (legacy)', { maxPriorityFeePerGas: '1' }, tx(LEGACY), [['maxPriorityFeePerGas', 'the transaction has no maxPriorityFeePerGas']]],
      ['a total fee above the cap', { maxTotalFee: '210000' }, tx({ gasLimit: 21001n, maxFeePerGas: 10n }),
        [['maxTotalFee', 'gasLimit × max fee per gas 210010 is more than maxTotalFee 210000']]],
      ['a total fee without a gas limit', { maxTotalFee: '210000' }, tx({ gasLimit: undefined }), [['maxTotalFee', 'the transaction has no gasLimit × max fee per gas']]],
      ['a total fee without a fee cap', { maxTotalFee: '210000' }, tx({ maxFeePerGas: undefined }), [['maxTotalFee', 'the transaction has no gasLimit × max fee per gas']]],
    ];
    it.each(cases)('%s', (_label, rule, request, expected) => {
      expect(failures(rule, request)).toEqual(expected.map(([condition, reason]) => ({ condition, reason })));
    });

    it('explains a calls condition call by call: another function, calldata that does not decode, or the argument that failed', () => {
      const calls = [
        { function: 'approve(address,uint256)' },
        { function: 'transfer(address,uint256)', args: { 1: { max: '100' } } },
      ];
      expect(failures({ calls }, tx({ data: transfer(B, 101n) }))).toEqual([
        { condition: 'calls', reason: 'data is not a call to approve(address,uint256); or transfer(address,uint256) argument 1 101 is more than max 100' },
      ]);
      expect(failures({ calls }, tx({ data: `${transfer(B, 1n)}00` }))).toEqual([
        { condition: 'calls', reason: 'data is not a call to approve(address,uint256); or data is not the canonical ABI encoding of transfer(address,uint256)' },
      ]);
    });

    it('allows a transaction that is any one of the listed calls', () => {
      const calls = [{ function: 'approve(address,uint256)' }, { function: 'transfer(address,uint256)' }];
      expect(allows({ calls }, tx({ data: transfer(B, 1n) }))).toBe(true);
      expect(allows({ calls }, tx({ data: erc20.encodeFunctionData('approve', [B, 1n]) }))).toBe(true);
    });

    it.each<[string, object, bigint | string, string]>([
      ['a value not in the list', { to: { in: [A] } }, 5n, `transfer(address,uint256) argument to "${B.toLowerCase()}" is not one of the 1 accepted values`],
      ['an amount above max', { amount: { max: '100' } }, 101n, 'transfer(address,uint256) argument amount 101 is more than max 100'],
      ['an amount below min', { amount: { min: '10' } }, 9n, 'transfer(address,uint256) argument amount "9" is less than min 10'],
      ['an amount below min where max is lower still (min is named)', { amount: { max: '5', min: '10' } }, 5n, 'transfer(address,uint256) argument amount "5" is less than min 10'],
    ])('names the argument and its bound: %s', (_label, args, amount, reason) => {
      const rule = { calls: [{ function: 'transfer(address to, uint256 amount)', args }] };
      expect(failures(rule, tx({ data: transfer(B, amount as bigint) }))).toEqual([{ condition: 'calls', reason }]);
    });
  });

  describe('argument conditions', () => {
    const call = (signature: string, args: object) => ({ calls: [{ function: signature, args }] });
    const data = (signature: string, values: unknown[]) => {
      const iface = new Interface([`function ${signature}`]);
      return iface.encodeFunctionData(iface.fragments[0]!.format('sighash').split('(')[0]!, values);
    };

    it('compares string arguments exactly, case included', () => {
      const rule = call('setName(string name)', { name: { in: ['Alice'] } });
      expect(allows(rule, tx({ data: data('setName(string name)', ['Alice']) }))).toBe(true);
      expect(allows(rule, tx({ data: data('setName(string name)', ['alice']) }))).toBe(false);
      expect(allows(call('setName(string name)', { name: { in: ['alice'] } }), tx({ data: data('setName(string name)', ['ALICE']) }))).toBe(false);
    });

    it('matches addresses whatever their case, also when ethers decodes the call (dynamic arguments)', () => {
      const signature = 'forward(address to, bytes payload)';
      expect(allows(call(signature, { to: { in: [B] } }), tx({ data: data(signature, [B.toLowerCase(), '0x01']) }))).toBe(true);
      expect(allows(call(signature, { to: { in: [B.toLowerCase()] } }), tx({ data: data(signature, [B, '0x01']) }))).toBe(true);
      expect(allows(call(signature, { to: { in: [A] } }), tx({ data: data(signature, [B, '0x01']) }))).toBe(false);
    });

    it('accepts negative values, max and min for signed integer arguments', () => {
      const signature = 'shift(int8 by)';
      const rule = call(signature, { by: { in: ['-1', '0', '1'], max: '1', min: '0' } });
      expect(allows(call(signature, { by: { in: ['-1'] } }), tx({ data: data(signature, [-1]) }))).toBe(true);
      expect(allows(call(signature, { by: { in: ['-0'] } }), tx({ data: data(signature, [0]) }))).toBe(true);
      expect(allows(rule, tx({ data: data(signature, [1]) }))).toBe(true);
      expect(allows(call(signature, { by: { min: '1' } }), tx({ data: data(signature, [0]) }))).toBe(false);
    });

    it('matches a bool argument listed as "false"', () => {
      const signature = 'setPaused(bool paused)';
      expect(allows(call(signature, { paused: { in: ['false'] } }), tx({ data: data(signature, [false]) }))).toBe(true);
      expect(allows(call(signature, { paused: { in: ['false'] } }), tx({ data: data(signature, [true]) }))).toBe(false);
    });

    it('names arguments by position (0 to 99, no leading zero) or by name, digits included', () => {
      const eleven = `many(${Array.from({ length: 11 }, (_, index) => `uint256 a${index}`).join(', ')})`;
      const values = Array.from({ length: 11 }, (_, index) => index);
      expect(allows(call(eleven, { 10: { max: '10' }, a1: { in: ['1'] }, 0: { in: ['0'] } }), tx({ data: data(eleven, values) }))).toBe(true);
      expect(allows(call(eleven, { 10: { max: '9' } }), tx({ data: data(eleven, values) }))).toBe(false);
    });
  });

  describe('refuses a policy whose meaning is wrong, naming the JSON path and saying what to write', () => {
    const transferCall = (args: object, signature = 'transfer(address to, uint256 amount)') => withRule({ calls: [{ function: signature, args }] });
    const ARG = '$.rules[0].calls[0].args';
    const cases: Array<[string, object, string, string]> = [
      ['a duplicate rule id', { rules: [{ id: 'r', effect: 'allow' }, { id: 'r', effect: 'deny' }] }, '$.rules[1].id',
        '"r" is already the id of another rule; rule ids must be unique (decisions and spending limits name them)'],
      ['a calls function ethers cannot parse', withRule({ calls: [{ function: 'transfer(adress,uint256)' }] }), '$.rules[0].calls[0].function',
        'is not a function signature ethers can parse: "transfer(adress,uint256)"; write it as name(type1,type2) with Solidity types, e.g. "transfer(address,uint256)"'],
      ['an argument name of a signature without names', transferCall({ amount: { max: '1' } }, 'transfer(address,uint256)'), `${ARG}["amount"]`,
        'names no parameter of transfer(address,uint256): use a parameter name given in the signature ((unnamed), (unnamed)) or a position from 0 to 1'],
      ['a position past the last parameter', transferCall({ 2: { max: '1' } }), `${ARG}["2"]`,
        'names no parameter of transfer(address,uint256): use a parameter name given in the signature (to, amount) or a position from 0 to 1'],
      ['a position with a leading zero', transferCall({ '01': { max: '1' } }), `${ARG}["01"]`,
        'names no parameter of transfer(address,uint256): use a parameter name given in the signature (to, amount) or a position from 0 to 1'],
      ['a position with a fraction', transferCall({ '1.0': { max: '1' } }), `${ARG}["1.0"]`,
        'names no parameter of transfer(address,uint256): use a parameter name given in the signature (to, amount) or a position from 0 to 1'],
      ['a long argument name (quoted up to 40 characters)', transferCall({ ['x'.repeat(50)]: { max: '1' } }), `${ARG}["${'x'.repeat(40)}"]`,
        'names no parameter of transfer(address,uint256): use a parameter name given in the signature (to, amount) or a position from 0 to 1'],
      ['a condition on an array argument', withRule({ calls: [{ function: 'f(address[] list)', args: { list: { in: [A] } } }] }), `${ARG}["list"]`,
        'is a address[] argument; conditions on arrays and tuples are not supported'],
      ['a condition on a tuple argument', withRule({ calls: [{ function: 'f((address,uint256) pair)', args: { 0: { in: [A] } } }] }), `${ARG}["0"]`,
        'is a tuple(address,uint256) argument; conditions on arrays and tuples are not supported'],
      ['min on an address argument', transferCall({ to: { min: '1' } }), `${ARG}["to"]`, 'max and min apply to integer arguments, but this one is address'],
      ['max on a bool argument', withRule({ calls: [{ function: 'f(bool on)', args: { on: { max: '1' } } }] }), `${ARG}["on"]`, 'max and min apply to integer arguments, but this one is bool'],
      ['a max that is not a whole number of base units', transferCall({ amount: { max: '1.5' } }), `${ARG}["amount"].max`,
        'has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"; got "1.5"'],
      ['a maxPriorityFeePerGas that is not a whole number of wei', withRule({ maxPriorityFeePerGas: '1.5' }), '$.rules[0].maxPriorityFeePerGas',
        'has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"; got "1.5"'],
      ['a problem in the messages section, under $.messages', { rules: [{ id: 'r', effect: 'deny' }], messages: { signAuthorization: { delegates: [`${A.slice(0, -1)}c`] } } },
        '$.messages.signAuthorization.delegates[0]', `has an invalid EIP-55 checksum (${A.slice(0, -1)}c); copy the address again, or write it in lower case`],
      ['a min that is not a whole number of base units', transferCall({ amount: { min: '1.5' } }), `${ARG}["amount"].min`,
        'has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"; got "1.5"'],
      ['a negative value for an unsigned argument', transferCall({ amount: { in: ['1', '-1'] } }), `${ARG}["amount"].in[1]`, 'must not be negative; got "-1"'],
      ['a negative value with a unit for a signed argument', withRule({ calls: [{ function: 'f(int256 x)', args: { x: { in: ['-1 ether'] } } }] }), `${ARG}["x"].in[0]`, 'must not be negative; got "-1 ether"'],
      ['a difference for a signed argument', withRule({ calls: [{ function: 'f(int256 x)', args: { x: { in: ['5-1'] } } }] }), `${ARG}["x"].in[0]`,
        'must be a decimal number of wei (or token base units) such as "1000", a number with a unit: "1.5 ether", "30 gwei" (units: wei, kwei, mwei, gwei, szabo, finney, ether), or a token amount with the token\'s decimals: "10000 * 10^6" (10,000 USDC, which has 6 decimals); got "5-1"'],
      ['a bool that is not "true" or "false"', withRule({ calls: [{ function: 'f(bool ok)', args: { ok: { in: ['yes'] } } }] }), `${ARG}["ok"].in[0]`,
        'must be "true" or "false" for a bool argument; got "yes"'],
      ['bytes with an odd number of hex digits', withRule({ calls: [{ function: 'f(bytes32 tag)', args: { tag: { in: ['0xabc'] } } }] }), `${ARG}["tag"].in[0]`,
        'must be 0x-hex bytes for a bytes32 argument; got "0xabc"'],
      ['bytes without 0x', withRule({ calls: [{ function: 'f(bytes data)', args: { data: { in: ['ab0x00'] } } }] }), `${ARG}["data"].in[0]`,
        'must be 0x-hex bytes for a bytes argument; got "ab0x00"'],
      ['an address argument of 42 hex digits', transferCall({ to: { in: [`${A}00`] } }), `${ARG}["to"].in[0]`, `must be an address: 0x and 40 hex digits; got "${A}00"`],
      ['an address argument after other text', transferCall({ to: { in: [`ab${A}`] } }), `${ARG}["to"].in[0]`, `must be an address: 0x and 40 hex digits; got "ab${A}"`],
      ['an address argument with a bad checksum', transferCall({ to: { in: [`${A.slice(0, -1)}c`] } }), `${ARG}["to"].in[0]`,
        `has an invalid EIP-55 checksum (${A.slice(0, -1)}c), so it may be mistyped; copy the address again from its source, or write it in lower case`],
      ['limits on a deny rule', { rules: [{ id: 'r', effect: 'deny', limits: [{ name: 'l', window: '1h', maxCount: 1 }] }] }, '$.rules[0].limits',
        'is only accepted on allow rules (a deny rule never signs, so it has nothing to count)'],
      ['a limit without a cap', withRule({ limits: [{ name: 'l', window: '1h' }] }), '$.rules[0].limits[0]', 'needs maxValue, maxCount or both: a limit without a cap limits nothing'],
      ['a duplicate limit name', withRule({}, { limits: [{ name: 'l', window: '1d', maxCount: 1 }, { name: 'l', window: '1h', maxCount: 1 }] }), '$.limits[1].name',
        '"l" is already the name of another limit here; limit names must be unique'],
      ['a window of 367 days', withRule({}, { limits: [{ name: 'l', window: '367d', maxCount: 1 }] }), '$.limits[0].window', 'is 31708800 seconds; at most 366 days are accepted'],
      ['a window of 366 days and one hour', withRule({}, { limits: [{ name: 'l', window: '8785h', maxCount: 1 }] }), '$.limits[0].window', 'is 31626000 seconds; at most 366 days are accepted'],
      ['a limit amount that is not whole', withRule({}, { limits: [{ name: 'l', window: '1d', maxValue: '1.5' }] }), '$.limits[0].maxValue',
        'has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"; got "1.5"'],
      ['a rule limit token with a bad checksum', withRule({ limits: [{ name: 'l', window: '1d', maxValue: '1', token: `${TOKEN.slice(0, -1)}b` }] }), '$.rules[0].limits[0].token',
        `has an invalid EIP-55 checksum (${TOKEN.slice(0, -1)}b), so it may be mistyped; copy the address again from its source, or write it in lower case`],
    ];
    it.each(cases)('%s', (_label, document, path, problem) => {
      expect(issuesOf(document)).toEqual([{ path, problem }]);
    });
  });

  describe('the compiled policy', () => {
    it('compiles spending limits with their ids, windows in seconds, asset and only the caps given', () => {
      const policy = load(withRule(
        { limits: [{ name: 'usdc', window: '90s', token: TOKEN, maxValue: '10' }, { name: 'eth', window: '2h', maxValue: '1 ether', maxCount: 3 }] },
        { limits: [{ name: 'count', window: '15m', maxCount: 5 }, { name: 'year', window: '366d', maxValue: '0' }] },
      ));
      expect(policy.keyLimits).toStrictEqual([
        { id: 'key:count', windowSeconds: 900, asset: 'native', maxCount: 5 },
        { id: 'key:year', windowSeconds: 366 * 86400, asset: 'native', maxAmount: 0n },
      ]);
      expect(policy.allowRules[0]!.limits).toStrictEqual([
        { id: 'rule:r:usdc', windowSeconds: 90, asset: TOKEN.toLowerCase(), maxAmount: 10n },
        { id: 'rule:r:eth', windowSeconds: 7200, asset: 'native', maxAmount: 10n ** 18n, maxCount: 3 },
      ]);
    });

    it('separates deny and allow rules, in document order', () => {
      const policy = load({ rules: [{ id: 'a1', effect: 'allow', to: [A] }, { id: 'd1', effect: 'deny' }, { id: 'a2', effect: 'allow', to: [B] }, { id: 'd2', effect: 'deny', to: [B] }] });
      expect(policy.allowRules.map((rule) => [rule.id, rule.effect])).toEqual([['a1', 'allow'], ['a2', 'allow']]);
      expect(policy.denyRules.map((rule) => [rule.id, rule.effect])).toEqual([['d1', 'deny'], ['d2', 'deny']]);
    });

    it('says a policy allows everything when any allow rule has no condition, and not for a deny rule without one', () => {
      expect(load({ rules: [{ id: 'to-a', effect: 'allow', to: [A] }, { id: 'anything', effect: 'allow', contractCreation: true, preEip155: true }] }).allowsEverything).toBe(true);
      expect(load({ rules: [{ id: 'to-a', effect: 'allow', to: [A] }, { id: 'nothing', effect: 'deny' }] }).allowsEverything).toBe(false);
      expect(load({ rules: [{ id: 'no-deployments', effect: 'allow', preEip155: true }] }).allowsEverything).toBe(false);
    });

    it('lists the allow rules with no condition on recipient, value or data: they allow any transfer or call', () => {
      const policy = load({
        rules: [
          { id: 'bare', effect: 'allow' },
          { id: 'fees-only', effect: 'allow', chainId: 1, type: 2, maxGasPrice: '1 gwei', maxGasLimit: 100000 },
          { id: 'deployments-only', effect: 'allow', contractCreation: 'only' },
          { id: 'to-a', effect: 'allow', to: [A] },
          { id: 'no-value', effect: 'allow', maxValue: '0' },
          { id: 'no-data', effect: 'allow', maxDataBytes: 0 },
          { id: 'one-call', effect: 'allow', selector: ['0xa9059cbb'] },
          { id: 'deny-all', effect: 'deny' },
        ],
      });
      expect(policy.unrestrictedAllowRules).toEqual(['bare', 'fees-only']);
    });
  });
});
