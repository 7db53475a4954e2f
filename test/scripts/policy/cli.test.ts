import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, POLICY_EXIT } from '../../../scripts/policy/cli';
import { runScript } from '../../helpers/cli-process';

const dir = mkdtempSync(join(tmpdir(), 'policy-cli-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const run = (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TREASURY = 'examples/policies/treasury-payouts.json';
const payout = (value: string) => ({ to: PAYEE, value, nonce: 0, gasLimit: 21000, maxFeePerGas: '1000000000', maxPriorityFeePerGas: '1000000', chainId: 1 });

describe('npm run policy', () => {
  it('check: accepts a valid policy and exits 0', () => {
    expect(run('check', TREASURY)).toMatchObject({ code: POLICY_EXIT.ok, out: expect.stringMatching(/valid signing policy \(2 allow rules, 0 deny rules\)/) });
  });

  it('check --network: says which allow rules can match that chain, exits 0', () => {
    expect(run('check', TREASURY, '--network', 'mainnet')).toMatchObject({ code: POLICY_EXIT.ok, out: expect.stringMatching(/on chain 1 \(--network mainnet\): 2 allow rules can match \(eth-payouts, usdc-payouts\)/) });
  });

  it('check --network: warns and exits 3 when no allow rule can match that chain (a mainnet policy on sepolia)', () => {
    const result = run('check', TREASURY, '--network', 'sepolia');
    expect(result.code).toBe(POLICY_EXIT.denied);
    expect(result.err).toMatch(/^warning: no allow rule can match chain 11155111 \(--network sepolia\): a signer with ETH_NETWORK=sepolia would deny every transaction\. The allow rules name chain 1;/);
  });

  it('check --network: a rule without chainId matches every chain; an unknown network is a usage error', () => {
    expect(run('check', 'examples/policies/allow-all.json', '--network', 'sepolia').code).toBe(POLICY_EXIT.ok);
    expect(run('check', TREASURY, '--network', 'nowhere')).toMatchObject({ code: POLICY_EXIT.usage, err: expect.stringMatching(/--network "nowhere" is neither/) });
  });

  it('check: warns about a policy that allows anything', () => {
    expect(run('check', 'examples/policies/allow-all.json').out).toMatch(/allows ANY transaction/);
  });

  it('check: warns about an allow rule without conditions, which allows any transfer or call (issue 22, item 6)', () => {
    const bare = file('bare.json', { version: 1, rules: [{ id: 'bare', effect: 'allow' }] });
    expect(run('check', bare)).toEqual({ code: POLICY_EXIT.ok, err: '', out: expect.stringMatching(/warning: it allows ANY transfer or call \(allow rule "bare" has no condition on recipient, value or data/) });
    expect(run('check', TREASURY).out).not.toMatch(/warning/);
  });

  it('check: lists every problem with its JSON path and exits 1', () => {
    const bad = file('bad.json', { version: 1, rules: [{ id: 'x', effect: 'allow', maxValue: '-1', selector: ['0x1234'] }] });
    const result = run('check', bad);
    expect(result.code).toBe(POLICY_EXIT.invalidPolicy);
    expect(result.err).toMatch(/^invalid signing policy \(2 problems\):\n {2}\$\.rules\[0\]\.maxValue .*got "-1"\n {2}\$\.rules\[0\]\.selector\[0\] .*4 bytes/);
  });

  it('explain: prints the allowing rule and the spending it counts, exits 0', () => {
    const result = run('explain', TREASURY, file('ok.json', { operation: 'sign', transaction: payout('1000') }));
    expect(result).toMatchObject({ code: POLICY_EXIT.ok });
    expect(result.out).toBe('ALLOWED by rule "eth-payouts"\n  counts 1 signature against limit key:daily-signatures\n  counts 1 signature and 1000 wei against limit rule:eth-payouts:daily-eth');
  });

  it('explain: prints the closest rules and the conditions that failed, exits 3', () => {
    const result = run('explain', TREASURY, file('big.json', payout('11000000000000000000')));
    expect(result.code).toBe(POLICY_EXIT.denied);
    expect(result.out).toMatch(/^DENIED: no rule allowed the transaction\n {2}closest rule "eth-payouts" failed:\n {4}maxValue: value 11000000000000000000 is more than maxValue 10000000000000000000/);
  });

  it('explain --json: prints what the check operation returns', () => {
    const result = run('explain', TREASURY, file('json.json', payout('1')), '--json');
    expect(JSON.parse(result.out)).toEqual({ allowed: true, ruleId: 'eth-payouts', charges: [
      { limitId: 'key:daily-signatures', amount: '1', asset: 'native' },
      { limitId: 'rule:eth-payouts:daily-eth', amount: '1', asset: 'native' },
    ] });
  });

  it('explain: needs the chain when the transaction has none, and takes --network', () => {
    const { chainId: _omit, ...noChain } = payout('1');
    const tx = file('nochain.json', noChain);
    expect(run('explain', TREASURY, tx)).toMatchObject({ code: POLICY_EXIT.usage, err: expect.stringMatching(/--network/) });
    expect(run('explain', TREASURY, tx, '--network', 'mainnet').code).toBe(POLICY_EXIT.ok);
    expect(run('explain', TREASURY, tx, '--network', 'sepolia').code).toBe(POLICY_EXIT.denied);
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['frob', TREASURY]],
    ['a missing file', ['check', join(dir, 'missing.json')]],
    ['an unknown option', ['check', TREASURY, '--fast']],
    ['an invalid transaction', ['explain', TREASURY, file('badtx.json', { ...payout('1'), nonce: -1 })]],
    ['a transaction that is not JSON', ['explain', TREASURY, file('notjson.json', '{')]],
  ])('exits 2 with %s', (_label, argv) => {
    expect(run(...argv)).toMatchObject({ code: POLICY_EXIT.usage, err: expect.stringMatching(/\S/) });
  });
});

describe('npm run policy (child process)', () => {
  jest.setTimeout(60_000);

  it('reads a relative policy path from the directory npm was run in (INIT_CWD), not the repository', async () => {
    const policy = file('relative.json', { version: 1, rules: [{ id: 'any', effect: 'allow', chainId: 1 }] });
    const result = await runScript('policy.ts', ['check', 'relative.json', '--network', 'sepolia'], { userDir: dir });
    expect(policy.startsWith(dir)).toBe(true);
    expect(result.stdout).toMatch(/relative\.json: valid signing policy/);
    expect(result.stderr).toMatch(/no allow rule can match chain 11155111/);
    expect(result.code).toBe(POLICY_EXIT.denied);
  });
});
