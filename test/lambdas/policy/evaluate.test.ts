import fc from 'fast-check';
import { AbiCoder, getAddress, id, Interface, parseEther, parseUnits } from 'ethers';
import { evaluatePolicy, loadPolicy, type PolicyDecision, type PolicyRequest } from '../../../lambdas/policy';
import { eip1559Transfer } from '../../helpers/policy-requests';

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const UINT256_MAX = 2n ** 256n - 1n;
const erc20 = new Interface(['function transfer(address to, uint256 amount)', 'function approve(address spender, uint256 amount)', 'function transferFrom(address from, address to, uint256 amount)']);

const BASE: PolicyRequest = eip1559Transfer(A);
const tx = (fields: Partial<PolicyRequest> & { to?: string | undefined } = {}): PolicyRequest => {
  const merged = { ...BASE, ...fields } as Record<string, unknown>;
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as unknown as PolicyRequest;
};
const policyWith = (rules: object[], extra: object = {}) => loadPolicy(JSON.stringify({ version: 1, ...extra, rules }));
const allowRule = (conditions: object) => policyWith([{ id: 'rule', effect: 'allow', ...conditions }]);
const decide = (conditions: object, request: PolicyRequest): PolicyDecision => evaluatePolicy(allowRule(conditions), request);
const failedConditions = (decision: PolicyDecision) => (decision.allowed ? [] : decision.closest.flatMap((miss) => miss.failed.map((f) => f.condition)));

const transfer = (to: string, amount: bigint) => erc20.encodeFunctionData('transfer', [to, amount]);
const approve = (spender: string, amount: bigint) => erc20.encodeFunctionData('approve', [spender, amount]);

// Each condition: a rule that uses it, a transaction it allows, and transactions it denies (the condition named fails).
const CONDITIONS: Array<[string, object, PolicyRequest, PolicyRequest[]]> = [
  ['chainId (one)', { chainId: 1 }, tx(), [tx({ chainId: 5n })]],
  ['chainId (list)', { chainId: [5, 1] }, tx(), [tx({ chainId: 11155111n })]],
  ['chainId (pre-EIP-155 has none)', { chainId: 1, preEip155: true }, tx(), [tx({ chainId: undefined, preEip155: true, type: 0, gasPrice: 1n })]],
  ['to (checksummed list)', { to: [B, A] }, tx(), [tx({ to: '0x90F79bf6EB2c4f870365E785982E1f101E93b906' })]],
  ['to (lower-case list)', { to: [A.toLowerCase()] }, tx({ to: getAddress(A) }), [tx({ to: B })]],
  ['to (a deployment has none)', { to: [A], contractCreation: true }, tx(), [tx({ to: undefined, data: '0x6000' })]],
  ['contractCreation (default off)', {}, tx(), [tx({ to: undefined, data: '0x6000' })]],
  ['contractCreation true', { contractCreation: true }, tx({ to: undefined, data: '0x6000' }), []],
  ['contractCreation "only"', { contractCreation: 'only' }, tx({ to: undefined, data: '0x6000' }), [tx()]],
  ['type (one)', { type: 2 }, tx(), [tx({ type: 0, gasPrice: 1n, maxFeePerGas: undefined })]],
  ['type (list)', { type: [0, 1] }, tx({ type: 1, gasPrice: 1n }), [tx()]],
  ['maxValue (wei)', { maxValue: '1000' }, tx({ value: 1000n }), [tx({ value: 1001n })]],
  ['maxValue (ether)', { maxValue: '1.5 ether' }, tx({ value: parseEther('1.5') }), [tx({ value: parseEther('1.5') + 1n })]],
  ['selector (hex)', { selector: ['0xa9059cbb'] }, tx({ data: transfer(B, 1n) }), [tx({ data: approve(B, 1n) }), tx({ data: '0xa9059c' }), tx()]],
  ['selector (signature)', { selector: ['approve(address,uint256)'] }, tx({ data: approve(B, 1n) }), [tx({ data: transfer(B, 1n) })]],
  ['calls: transfer recipient in list', { calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { in: [B] } } }] }, tx({ data: transfer(B, 5n) }), [tx({ data: transfer(A, 5n) }), tx({ data: approve(B, 5n) })]],
  ['calls: transfer amount cap', { calls: [{ function: 'transfer(address,uint256)', args: { 1: { max: '100' } } }] }, tx({ data: transfer(B, 100n) }), [tx({ data: transfer(B, 101n) })]],
  ['calls: approve amount cap (no unlimited approve)', { calls: [{ function: 'approve(address spender, uint256 amount)', args: { amount: { max: '1 ether' } } }] }, tx({ data: approve(B, parseEther('1')) }), [tx({ data: approve(B, UINT256_MAX) })]],
  ['calls: min amount', { calls: [{ function: 'transfer(address to, uint256 amount)', args: { amount: { min: '10' } } }] }, tx({ data: transfer(B, 10n) }), [tx({ data: transfer(B, 9n) })]],
  ['calls: non-canonical calldata (trailing bytes)', { calls: [{ function: 'transfer(address to, uint256 amount)' }] }, tx({ data: transfer(B, 1n) }), [tx({ data: `${transfer(B, 1n)}00` }), tx({ data: transfer(B, 1n).slice(0, 70) })]],
  ['calls: bool and bytes arguments', { calls: [{ function: 'f(bool ok, bytes32 tag)', args: { ok: { in: ['true'] }, tag: { in: [`0x${'AB'.repeat(32)}`] } } }] },
    tx({ data: new Interface(['function f(bool ok, bytes32 tag)']).encodeFunctionData('f', [true, `0x${'ab'.repeat(32)}`]) }),
    [tx({ data: new Interface(['function f(bool ok, bytes32 tag)']).encodeFunctionData('f', [false, `0x${'ab'.repeat(32)}`]) })]],
  ['maxDataBytes', { maxDataBytes: 4, contractCreation: true }, tx({ data: '0x01020304' }), [tx({ data: '0x0102030405' })]],
  ['maxGasLimit', { maxGasLimit: 21000 }, tx(), [tx({ gasLimit: 21001n }), tx({ gasLimit: undefined })]],
  ['maxGasPrice (maxFeePerGas)', { maxGasPrice: '10 gwei' }, tx(), [tx({ maxFeePerGas: parseUnits('10', 'gwei') + 1n })]],
  ['maxGasPrice (gasPrice)', { maxGasPrice: '30 gwei' }, tx({ type: 0, gasPrice: parseUnits('30', 'gwei'), maxFeePerGas: undefined, maxPriorityFeePerGas: undefined }),
    [tx({ type: 0, gasPrice: parseUnits('31', 'gwei'), maxFeePerGas: undefined, maxPriorityFeePerGas: undefined })]],
  ['maxPriorityFeePerGas (missing on legacy: no match)', { maxPriorityFeePerGas: '1 gwei' }, tx(),
    [tx({ maxPriorityFeePerGas: parseUnits('1', 'gwei') + 1n }), tx({ type: 0, gasPrice: 1n, maxFeePerGas: undefined, maxPriorityFeePerGas: undefined })]],
  ['maxTotalFee (gasLimit × max fee)', { maxTotalFee: '210000 gwei' }, tx(), [tx({ gasLimit: 21001n })]],
  ['preEip155 (default off)', {}, tx({ type: 0, gasPrice: 1n }), [tx({ type: 0, gasPrice: 1n, chainId: undefined, preEip155: true })]],
  ['preEip155 true', { preEip155: true }, tx({ type: 0, gasPrice: 1n, chainId: undefined, preEip155: true }), []],
  ['preEip155 "only"', { preEip155: 'only' }, tx({ type: 0, gasPrice: 1n, chainId: undefined, preEip155: true }), [tx()]],
];

describe('evaluatePolicy', () => {
  describe.each(CONDITIONS)('condition %s', (name, conditions, allowed, denied) => {
    it('allows a transaction that meets it', () => {
      expect(decide(conditions, allowed)).toMatchObject({ allowed: true, ruleId: 'rule' });
    });
    if (denied.length > 0) {
      it.each(denied.map((request, index) => [index, request] as const))('denies transaction %i that does not meet it, naming the failed condition', (_index, request) => {
        const decision = decide(conditions, request);
        expect(decision.allowed).toBe(false);
        const failed = failedConditions(decision);
        expect(failed.length).toBeGreaterThan(0);
        const key = name.split(/[ :]/)[0]!;
        expect(failed.some((condition) => condition === key || (key === 'to' && condition === 'contractCreation') || (key === 'chainId' && condition === 'preEip155'))).toBe(true);
      });
    }
  });

  it('denies everything when no allow rule matches (implicit deny), saying so', () => {
    const decision = evaluatePolicy(policyWith([{ id: 'only-b', effect: 'allow', to: [B] }]), tx());
    expect(decision).toMatchObject({ allowed: false, reason: expect.stringMatching(/^no rule allowed the transaction; closest: rule "only-b": to \(/) });
    expect(decision.allowed || decision.ruleId).toBeUndefined();
  });

  it('lets an explicit deny win over an allow that matches, naming the deny rule', () => {
    const policy = policyWith([
      { id: 'anything', effect: 'allow' },
      { id: 'no-approve', effect: 'deny', description: 'no approvals', selector: ['approve(address,uint256)'] },
    ]);
    expect(evaluatePolicy(policy, tx({ data: approve(B, 1n) }))).toMatchObject({ allowed: false, ruleId: 'no-approve', reason: 'denied by rule "no-approve" (no approvals)' });
    expect(evaluatePolicy(policy, tx({ data: transfer(B, 1n) }))).toMatchObject({ allowed: true, ruleId: 'anything' });
  });

  it('names a deny rule without a description by its id alone', () => {
    const policy = policyWith([{ id: 'anything', effect: 'allow' }, { id: 'no-b', effect: 'deny', to: [B] }]);
    expect(evaluatePolicy(policy, tx({ to: B }))).toEqual({ allowed: false, ruleId: 'no-b', reason: 'denied by rule "no-b"', closest: [] });
  });

  it('quotes at most 200 characters of a deny rule\'s description', () => {
    const description = `${'d'.repeat(200)}${'e'.repeat(300)}`;
    const policy = policyWith([{ id: 'anything', effect: 'allow' }, { id: 'no-b', effect: 'deny', description, to: [B] }]);
    expect(evaluatePolicy(policy, tx({ to: B }))).toMatchObject({ reason: `denied by rule "no-b" (${'d'.repeat(200)})` });
  });

  it('explains an implicit deny rule by rule: each failed condition with its reason', () => {
    const policy = policyWith([
      { id: 'b-only', effect: 'allow', to: [B], maxValue: '0' },
      { id: 'sepolia', effect: 'allow', chainId: 11155111 },
    ]);
    const decision = evaluatePolicy(policy, tx({ value: 1n }));
    expect(decision).toEqual({
      allowed: false,
      reason:
        'no rule allowed the transaction; closest: rule "sepolia": chainId (chain 1 is not 11155111); ' +
        `rule "b-only": to (${A} is not one of the rule's 1 addresses), maxValue (value 1 is more than maxValue 0)`,
      closest: [
        { ruleId: 'sepolia', failed: [{ condition: 'chainId', reason: 'chain 1 is not 11155111' }] },
        { ruleId: 'b-only', failed: [{ condition: 'to', reason: `${A} is not one of the rule's 1 addresses` }, { condition: 'maxValue', reason: 'value 1 is more than maxValue 0' }] },
      ],
    });
  });

  it('denies with a bare reason when the policy has deny rules only (nothing is close)', () => {
    const policy = policyWith([{ id: 'no-b', effect: 'deny', to: [B] }]);
    expect(evaluatePolicy(policy, tx())).toEqual({ allowed: false, reason: 'no rule allowed the transaction', closest: [] });
  });

  it('caps each explained condition at 300 characters, however many calls a rule lists', () => {
    const calls = Array.from({ length: 30 }, (_, index) => ({ function: `f${index}(uint256 amount)` }));
    const decision = evaluatePolicy(allowRule({ calls }), tx({ data: transfer(B, 1n) }));
    if (decision.allowed) throw new Error('allowed');
    const reason = decision.closest[0]!.failed[0]!.reason;
    expect(reason).toHaveLength(300);
    expect(reason).toMatch(/^[^;]*f0\(uint256\)[^;]*; or [^;]*f1\(uint256\)/);
  });

  it('ANDs the conditions of a rule', () => {
    const policy = allowRule({ to: [A], maxValue: '10' });
    expect(evaluatePolicy(policy, tx({ value: 10n })).allowed).toBe(true);
    expect(evaluatePolicy(policy, tx({ value: 11n })).allowed).toBe(false);
    expect(evaluatePolicy(policy, tx({ to: B, value: 1n })).allowed).toBe(false);
  });

  it('applies deny rules to deployments and pre-EIP-155 signatures by default', () => {
    const policy = policyWith([
      { id: 'anything', effect: 'allow', contractCreation: true, preEip155: true },
      { id: 'no-big-value', effect: 'deny', type: [0, 2], chainId: 1, maxValue: '1 ether' },
    ]);
    expect(evaluatePolicy(policy, tx({ to: undefined, data: '0x6000' }))).toMatchObject({ allowed: false, ruleId: 'no-big-value' });
  });

  it('allows with the first matching allow rule in document order', () => {
    const policy = policyWith([{ id: 'first', effect: 'allow', to: [A] }, { id: 'second', effect: 'allow' }]);
    expect(evaluatePolicy(policy, tx())).toMatchObject({ ruleId: 'first' });
    expect(evaluatePolicy(policy, tx({ to: B }))).toMatchObject({ ruleId: 'second' });
  });

  it('lists at most the 3 closest allow rules, fewest failed conditions first', () => {
    const rules = [
      { id: 'far', effect: 'allow', to: [B], chainId: 5, maxValue: '0', type: 0 },
      { id: 'near', effect: 'allow', to: [B] },
      { id: 'mid', effect: 'allow', to: [B], chainId: 5 },
      { id: 'farther', effect: 'allow', to: [B], chainId: 5, maxValue: '0', type: 0, maxGasLimit: 1 },
    ];
    const decision = evaluatePolicy(policyWith(rules), tx({ value: 1n }));
    expect(decision.allowed ? [] : decision.closest.map((miss) => miss.ruleId)).toEqual(['near', 'mid', 'far']);
  });

  describe('spending charges', () => {
    const limited = policyWith(
      [
        { id: 'eth', effect: 'allow', to: [A], limits: [{ name: 'daily', window: '24h', maxValue: '1 ether', maxCount: 3 }] },
        { id: 'usdc', effect: 'allow', to: [TOKEN], limits: [{ name: 'daily-usdc', window: '1d', token: TOKEN.toLowerCase(), maxValue: '500' }] },
      ],
      { limits: [{ name: 'all', window: '7d', maxCount: 100 }] },
    );

    it('charges the value to the key-wide and the allowing rule\'s native limits, with the ids of the shared interface', () => {
      const decision = evaluatePolicy(limited, tx({ value: 7n }));
      if (!decision.allowed) throw new Error(decision.reason);
      expect(decision.charges).toEqual([
        { limit: { id: 'key:all', windowSeconds: 604800, maxCount: 100, asset: 'native' }, amount: 7n },
        { limit: { id: 'rule:eth:daily', windowSeconds: 86400, maxAmount: parseEther('1'), maxCount: 3, asset: 'native' }, amount: 7n },
      ]);
    });

    it('charges decoded ERC-20 transfer and transferFrom amounts to a token limit', () => {
      const byTransfer = evaluatePolicy(limited, tx({ to: TOKEN, data: transfer(B, 250n) }));
      const byTransferFrom = evaluatePolicy(limited, tx({ to: TOKEN, data: erc20.encodeFunctionData('transferFrom', [A, B, 40n]) }));
      for (const [decision, amount] of [[byTransfer, 250n], [byTransferFrom, 40n]] as const) {
        if (!decision.allowed) throw new Error(decision.reason);
        expect(decision.charges.find((charge) => charge.limit.id === 'rule:usdc:daily-usdc')).toEqual({ limit: expect.objectContaining({ asset: TOKEN.toLowerCase() }), amount });
      }
    });

    it('charges an approve of the token against its token limits with its amount, and counts the key-wide limit (issue 22, item 3)', () => {
      const decision = evaluatePolicy(limited, tx({ to: TOKEN, data: approve(B, 300n) }));
      if (!decision.allowed) throw new Error(decision.reason);
      expect(decision.charges.map((charge) => [charge.limit.id, charge.amount])).toEqual([['key:all', 0n], ['rule:usdc:daily-usdc', 300n]]);
    });

    it('charges an approve of a token that no limit names to nothing but the key-wide count', () => {
      const decision = evaluatePolicy(policyWith([{ id: 'any', effect: 'allow' }], { limits: [{ name: 'all', window: '7d', maxCount: 100 }] }), tx({ to: B, data: approve(A, 300n) }));
      if (!decision.allowed) throw new Error(decision.reason);
      expect(decision.charges.map((charge) => [charge.limit.id, charge.amount])).toEqual([['key:all', 0n]]);
    });

    it('refuses an unlimited approve unless the rule lists the spender in unlimitedApprovalsTo, and then charges its token limits 0', () => {
      const rules = (unlimitedApprovalsTo?: string[]) =>
        policyWith([{ id: 'usdc', effect: 'allow', to: [TOKEN], ...(unlimitedApprovalsTo && { unlimitedApprovalsTo }), limits: [{ name: 'daily-usdc', window: '1d', token: TOKEN.toLowerCase(), maxValue: '500' }] }]);
      expect(evaluatePolicy(rules(), tx({ to: TOKEN, data: approve(B, UINT256_MAX) }))).toEqual({
        allowed: false,
        reason: `rule "usdc" matched, but the transaction grants ${B.toLowerCase()} an unlimited approval (approve) of ${TOKEN.toLowerCase()}, which is refused unless the rule lists the spender in unlimitedApprovalsTo`,
        closest: [],
      });
      expect(evaluatePolicy(rules([A]), tx({ to: TOKEN, data: approve(B, UINT256_MAX) }))).toMatchObject({ allowed: false });
      expect(evaluatePolicy(rules([B]), tx({ to: TOKEN, data: approve(B, UINT256_MAX) }))).toEqual({
        allowed: true,
        ruleId: 'usdc',
        charges: [{ limit: expect.objectContaining({ id: 'rule:usdc:daily-usdc' }), amount: 0n }],
      });
    });

    it('refuses an approve that does not decode canonically, naming its selector, even when the rule allows the call', () => {
      expect(evaluatePolicy(allowRule({}), tx({ to: TOKEN, data: `${approve(B, 1n)}00` }))).toEqual({
        allowed: false,
        reason: 'rule "rule" matched, but the call is an approval (selector 0x095ea7b3) that does not decode canonically, so it can be neither checked nor counted',
        closest: [],
      });
    });

    it('does not charge a token limit for other calls to the token', () => {
      const decision = evaluatePolicy(limited, tx({ to: TOKEN, data: new Interface(['function name()']).encodeFunctionData('name', []) }));
      if (!decision.allowed) throw new Error(decision.reason);
      expect(decision.charges.map((charge) => charge.limit.id)).toEqual(['key:all']);
    });

    it('denies a token transfer it cannot count (non-canonical calldata a contract would still execute)', () => {
      expect(evaluatePolicy(limited, tx({ to: TOKEN, data: `${transfer(B, 250n)}00` }))).toEqual({
        allowed: false,
        reason: `rule "usdc" matched, but the call to token ${TOKEN} is a transfer that does not decode canonically, so spending limit "rule:usdc:daily-usdc" could not count it`,
        closest: [],
      });
      expect(evaluatePolicy(limited, tx({ to: TOKEN, data: `${erc20.encodeFunctionData('transferFrom', [A, B, 40n])}00` }))).toMatchObject({ allowed: false, reason: expect.stringMatching(/could not count it$/) });
    });

    it('charges a token limit only for calls to that token', () => {
      const decision = evaluatePolicy(policyWith([{ id: 'any', effect: 'allow', limits: [{ name: 'usdc', window: '1d', token: TOKEN.toLowerCase(), maxValue: '500' }] }]), tx({ to: B, data: transfer(A, 9n) }));
      expect(decision).toEqual({ allowed: true, ruleId: 'any', charges: [] });
    });

    it('carries no charges when the policy declares no limits', () => {
      expect(evaluatePolicy(allowRule({}), tx())).toMatchObject({ allowed: true, charges: [] });
    });
  });

  // Caps are 256-bit: every comparison is exact at cap-1, cap, cap+1 and 2^256-1.
  describe('caps (fast-check around each cap)', () => {
    const uint256 = fc.bigInt({ min: 0n, max: UINT256_MAX });
    const around = (cap: bigint) => [cap - 1n, cap, cap + 1n, UINT256_MAX].filter((v) => v >= 0n && v <= UINT256_MAX);
    const caps: Array<[string, (cap: bigint) => object, (amount: bigint) => PolicyRequest]> = [
      ['maxValue', (cap) => ({ maxValue: cap.toString() }), (amount) => tx({ value: amount })],
      ['maxGasPrice', (cap) => ({ maxGasPrice: cap.toString() }), (amount) => tx({ maxFeePerGas: amount })],
      ['maxPriorityFeePerGas', (cap) => ({ maxPriorityFeePerGas: cap.toString() }), (amount) => tx({ maxPriorityFeePerGas: amount })],
      ['maxTotalFee', (cap) => ({ maxTotalFee: cap.toString() }), (amount) => tx({ gasLimit: 1n, maxFeePerGas: amount })],
      ['calls amount max', (cap) => ({ calls: [{ function: 'transfer(address to, uint256 amount)', args: { amount: { max: cap.toString() } } }] }), (amount) => tx({ data: transfer(B, amount) })],
    ];
    it.each(caps)('%s allows exactly the amounts at or below the cap', (_name, rule, request) => {
      fc.assert(
        fc.property(uint256, (cap) => {
          const policy = allowRule(rule(cap));
          for (const amount of around(cap)) expect(evaluatePolicy(policy, request(amount)).allowed).toBe(amount <= cap);
        }),
        { numRuns: 60 },
      );
    });

    it('maxGasLimit allows exactly the gas limits at or below the cap', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 }), (cap) => {
          const policy = allowRule({ maxGasLimit: cap });
          for (const gasLimit of [cap - 1, cap, cap + 1]) expect(evaluatePolicy(policy, tx({ gasLimit: BigInt(gasLimit) })).allowed).toBe(gasLimit <= cap);
        }),
        { numRuns: 60 },
      );
    });

    it('maxTotalFee multiplies without overflow or rounding (gasLimit × max fee above 2^256)', () => {
      const policy = allowRule({ maxTotalFee: UINT256_MAX.toString() });
      expect(evaluatePolicy(policy, tx({ gasLimit: 2n, maxFeePerGas: UINT256_MAX / 2n })).allowed).toBe(true);
      expect(evaluatePolicy(policy, tx({ gasLimit: 2n, maxFeePerGas: UINT256_MAX / 2n + 1n })).allowed).toBe(false);
    });
  });

  describe('decoding of one-word arguments (the fast path) is exactly canonical ABI', () => {
    const word = (hex: string) => hex.padStart(64, '0');
    const sig = 'f(address a, bool b, int8 c, bytes2 d, uint16 e)';
    const rule = { calls: [{ function: sig }] };
    const selector = id('f(address,bool,int8,bytes2,uint16)').slice(0, 10);
    const valid = [word(B.slice(2).toLowerCase()), word('1'), 'f'.repeat(64), `abcd${'0'.repeat(60)}`, word('ffff')];
    const call = (words: string[]) => tx({ data: `${selector}${words.join('')}` });

    it('accepts the canonical encoding', () => {
      expect(decide(rule, call(valid)).allowed).toBe(true);
    });
    it.each([
      ['an address with dirty high bytes', 0, `01${word(B.slice(2)).slice(2)}`],
      ['a bool of 2', 1, word('2')],
      ['an int8 that is not sign-extended', 2, word('ff')],
      ['bytes2 with non-zero padding', 3, `abcd${'0'.repeat(59)}1`],
      ['a uint16 above 2^16-1', 4, word('10000')],
    ])('refuses %s', (_label, index, bad) => {
      const words = [...valid];
      words[index] = bad;
      expect(decide(rule, call(words)).allowed).toBe(false);
    });
    it('refuses missing or extra words', () => {
      expect(decide(rule, call(valid.slice(0, 4))).allowed).toBe(false);
      expect(decide(rule, call([...valid, word('0')])).allowed).toBe(false);
    });
    it('agrees with ethers\' AbiCoder on random values (fast-check)', () => {
      const coder = AbiCoder.defaultAbiCoder();
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean(), fc.integer({ min: -128, max: 127 }), fc.uint8Array({ minLength: 2, maxLength: 2 }), fc.integer({ min: 0, max: 65535 }), (a, b, c, d, e) => {
          const address = getAddress(`0x${Buffer.from(a).toString('hex')}`);
          const data = `${selector}${coder.encode(['address', 'bool', 'int8', 'bytes2', 'uint16'], [address, b, c, d, e]).slice(2)}`;
          const conditions = { calls: [{ function: sig, args: { a: { in: [address] }, b: { in: [String(b)] }, c: { in: [String(c)] }, d: { in: [`0x${Buffer.from(d).toString('hex')}`] }, e: { max: String(e), min: String(e) } } }] };
          expect(decide(conditions, tx({ data })).allowed).toBe(true);
        }),
        { numRuns: 100 },
      );
    });
  });

  it('evaluates an ABI-encoded call with the same decoder a contract would (cross-check with AbiCoder)', () => {
    const data = `0xa9059cbb${AbiCoder.defaultAbiCoder().encode(['address', 'uint256'], [B, 42n]).slice(2)}`;
    expect(id('transfer(address,uint256)').slice(0, 10)).toBe('0xa9059cbb');
    expect(decide({ calls: [{ function: 'transfer(address,uint256)', args: { 0: { in: [B] }, 1: { max: '42' } } }] }, tx({ data })).allowed).toBe(true);
  });
});
