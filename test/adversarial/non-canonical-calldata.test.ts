// Attack class: calldata a contract executes but the ABI decoder calls non-canonical (trailing bytes, short
// data, dirty high bits, moved/overlapping/out-of-range dynamic offsets), sent to slip past rules that
// inspect arguments. Fail closed: never allowed by such an allow rule, always matched by such a deny rule.
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbiCoder, Interface } from 'ethers';
import { evaluatePolicy, loadPolicy, type PolicyRequest } from '../../lambdas/policy';
import { main, POLICY_EXIT } from '../../scripts/policy/cli';
import { eip1559Transfer } from '../helpers/policy-requests';

const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';
const ATTACKER = '0xbadbadbadbadbadbadbadbadbadbadbadbadbadb';
const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const UINT256_MAX = 2n ** 256n - 1n;
const erc20 = new Interface(['function transfer(address to, uint256 amount)', 'function approve(address spender, uint256 amount)']);
const batch = new Interface(['function multicall(bytes[] data)', 'function setFlag(bool on, uint8 level)']);
const word = (hex: string) => hex.padStart(64, '0');

const request = (to: string, data: string): PolicyRequest => ({ ...eip1559Transfer(to), data, gasLimit: 100000n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n });
const hotWallet = loadPolicy(readFileSync('examples/policies/hot-wallet.json', 'utf8'));

/** Ways to make canonical calldata non-canonical while a contract still executes it (or reads other values). */
const tamperings = (canonical: string): Array<[string, string]> => [
  ['32 trailing zero bytes', `${canonical}${'00'.repeat(32)}`],
  ['one trailing zero byte', `${canonical}00`],
  ['a dirty high byte in the first (address) word', `${canonical.slice(0, 10)}ff${canonical.slice(12)}`],
  ['one byte short', canonical.slice(0, -2)],
];

describe('non-canonical calldata against examples/policies/hot-wallet.json (issue 22, item 1)', () => {
  it('refuses the issue\'s reproduction: approve(0xbad…, 2^256-1) with 32 trailing bytes, through npm run policy explain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adversarial-'));
    const txFile = join(dir, 'tx.json');
    writeFileSync(txFile, JSON.stringify({
      operation: 'sign',
      transaction: {
        chainId: 1,
        to: WETH,
        data: '0x095ea7b3000000000000000000000000badbadbadbadbadbadbadbadbadbadbadbadbadbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000000000000000000000000000000000000000000000000000',
        nonce: 0,
        gasLimit: 100000,
        maxFeePerGas: '30000000000',
        maxPriorityFeePerGas: '1000000000',
      },
    }));
    const out: string[] = [];
    const code = main(['explain', 'examples/policies/hot-wallet.json', txFile, '--network', '1'], { out: (line) => out.push(line), err: (line) => out.push(line) });
    expect({ code, out: out.join('\n') }).toEqual({ code: POLICY_EXIT.denied, out: expect.stringMatching(/^DENIED by rule "no-unlimited-approve"/) });
  });

  it.each(tamperings(erc20.encodeFunctionData('approve', [ATTACKER, UINT256_MAX])))('refuses an unlimited approve with %s', (_how, data) => {
    const decision = evaluatePolicy(hotWallet, request(WETH, data));
    expect(decision).toMatchObject({ allowed: false, ruleId: 'no-unlimited-approve' });
  });

  it('refuses the spender word starting with ffffffffffffffffffffffff and no trailing bytes', () => {
    const data = `0x095ea7b3${'f'.repeat(24)}${ATTACKER.slice(2)}${word('1')}`;
    expect(evaluatePolicy(hotWallet, request(WETH, data))).toMatchObject({ allowed: false, ruleId: 'no-unlimited-approve' });
  });

  it('still allows the canonical calls its allow rule lists (the attack is refused, not the wallet)', () => {
    expect(evaluatePolicy(hotWallet, request(WETH, erc20.encodeFunctionData('approve', [ATTACKER, 10n ** 18n])))).toMatchObject({ allowed: true, ruleId: 'weth-calls' });
    expect(evaluatePolicy(hotWallet, request(WETH, erc20.encodeFunctionData('transfer', [ATTACKER, 10n ** 18n])))).toMatchObject({ allowed: true, ruleId: 'weth-calls' });
  });

  it('refuses a transfer its allow rule lists by signature when the calldata is not canonical', () => {
    for (const [, data] of tamperings(erc20.encodeFunctionData('transfer', [PAYEE, 1n]))) {
      expect(evaluatePolicy(hotWallet, request(WETH, data))).toMatchObject({ allowed: false });
    }
  });
});

describe('non-canonical calldata against a deny rule on the recipient', () => {
  const policy = loadPolicy(JSON.stringify({
    version: 1,
    rules: [
      { id: 'never-pay-attacker', effect: 'deny', calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { in: [ATTACKER] } } }] },
      { id: 'token-by-hex-selector', effect: 'allow', chainId: 1, to: [WETH], selector: ['0xa9059cbb'] },
    ],
  }));

  it.each(tamperings(erc20.encodeFunctionData('transfer', [ATTACKER, 10n ** 24n])))('matches the deny rule with %s', (_how, data) => {
    expect(evaluatePolicy(policy, request(WETH, data))).toMatchObject({ allowed: false, ruleId: 'never-pay-attacker' });
  });

  it('matches the deny rule when the recipient word is dirty above a harmless-looking address', () => {
    const data = `0xa9059cbb${'00'.repeat(11)}01${PAYEE.slice(2).toLowerCase()}${word('1')}`;
    expect(evaluatePolicy(policy, request(WETH, data))).toMatchObject({ allowed: false, ruleId: 'never-pay-attacker' });
  });

  it('lets canonical transfers to anyone else through (the deny rule still reads arguments)', () => {
    expect(evaluatePolicy(policy, request(WETH, erc20.encodeFunctionData('transfer', [PAYEE, 1n])))).toMatchObject({ allowed: true });
  });
});

describe('non-canonical calldata against allow rules that inspect arguments', () => {
  const allowCalls = loadPolicy(JSON.stringify({
    version: 1,
    rules: [
      { id: 'small-transfers', effect: 'allow', calls: [{ function: 'transfer(address to, uint256 amount)', args: { amount: { max: '100' } } }] },
      { id: 'flags', effect: 'allow', calls: [{ function: 'setFlag(bool on, uint8 level)' }] },
      { id: 'multicall', effect: 'allow', calls: [{ function: 'multicall(bytes[] data)' }] },
    ],
  }));
  const allowed = (data: string) => evaluatePolicy(allowCalls, request(WETH, data)).allowed;

  it.each(tamperings(erc20.encodeFunctionData('transfer', [PAYEE, 1n])))('never allows a transfer with %s', (_how, data) => {
    expect(allowed(data)).toBe(false);
  });

  it('never allows dirty high bits in a bool or uint8 word', () => {
    expect(allowed(batch.encodeFunctionData('setFlag', [true, 7]))).toBe(true);
    expect(allowed(`${batch.encodeFunctionData('setFlag', [true, 7]).slice(0, 72)}02${word('7')}`)).toBe(false); // bool word = 2
    expect(allowed(`${batch.encodeFunctionData('setFlag', [true, 7]).slice(0, 74)}${word('107')}`)).toBe(false); // uint8 word = 0x107
  });

  describe('dynamic types: offsets and lengths', () => {
    const inner = erc20.encodeFunctionData('transfer', [PAYEE, 1n]);
    const canonical = batch.encodeFunctionData('multicall', [[inner]]);
    const body = canonical.slice(10);
    const words = body.match(/.{64}/g) ?? [];

    it('allows the canonical encoding', () => {
      expect(allowed(canonical)).toBe(true);
    });

    it('never allows an outer offset moved past a gap', () => {
      const moved = `0x${canonical.slice(2, 10)}${word('40')}${word('0')}${words.slice(1).join('')}`;
      expect(AbiCoder.defaultAbiCoder().decode(['bytes[]'], `0x${moved.slice(10)}`)[0]).toEqual([inner]); // ethers reads the same call
      expect(allowed(moved)).toBe(false);
    });

    it('never allows two elements whose offsets overlap on one payload', () => {
      const two = batch.encodeFunctionData('multicall', [[inner, inner]]).slice(10).match(/.{64}/g) ?? [];
      const overlapping = [...two];
      overlapping[3] = overlapping[2]!; // element 1 points at element 0's bytes
      const data = `0x${canonical.slice(2, 10)}${overlapping.join('')}`;
      expect(AbiCoder.defaultAbiCoder().decode(['bytes[]'], `0x${data.slice(10)}`)[0]).toEqual([inner, inner]);
      expect(allowed(data)).toBe(false);
    });

    it('never allows an out-of-range offset or length', () => {
      expect(allowed(`0x${canonical.slice(2, 10)}${word('ffff')}${words.slice(1).join('')}`)).toBe(false);
      const longer = [...words];
      longer[1] = word('2'); // two elements announced, one present
      expect(allowed(`0x${canonical.slice(2, 10)}${longer.join('')}`)).toBe(false);
    });
  });
});

describe('any tampering with canonical calldata (fast-check)', () => {
  const deny = loadPolicy(JSON.stringify({
    version: 1,
    rules: [
      { id: 'deny-big-approve', effect: 'deny', calls: [{ function: 'approve(address spender, uint256 amount)', args: { amount: { min: '1000' } } }] },
      { id: 'allow-small-approve', effect: 'allow', calls: [{ function: 'approve(address spender, uint256 amount)', args: { amount: { max: '999' } } }] },
    ],
  }));

  it('is allowed only if it re-encodes to itself, and otherwise matches the deny rule', () => {
    const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => `0x${Buffer.from(bytes).toString('hex')}`);
    fc.assert(
      fc.property(address, fc.bigInt({ min: 0n, max: 999n }), fc.nat({ max: 67 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (spender, amount, position, xor, append) => {
        const canonical = erc20.encodeFunctionData('approve', [spender, amount]);
        const bytes = Buffer.from(canonical.slice(2), 'hex');
        if (append) {
          const data = `${canonical}${xor.toString(16).padStart(2, '0')}`;
          expect(evaluatePolicy(deny, request(WETH, data))).toMatchObject({ allowed: false, ruleId: 'deny-big-approve' });
          return;
        }
        const index = 4 + position; // tamper with an argument byte, never the selector
        bytes[index] = (bytes[index] ?? 0) ^ xor;
        const data = `0x${bytes.toString('hex')}`;
        let reencoded: string | undefined;
        try {
          reencoded = erc20.encodeFunctionData('approve', erc20.decodeFunctionData('approve', data).toArray());
        } catch {
          reencoded = undefined;
        }
        const decision = evaluatePolicy(deny, request(WETH, data));
        if (reencoded === data) expect(decision.allowed === true || decision.ruleId === 'deny-big-approve').toBe(true);
        else expect(decision).toMatchObject({ allowed: false, ruleId: 'deny-big-approve' });
      }),
      { numRuns: 500 },
    );
  });
});
