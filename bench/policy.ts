// Policy evaluation time (npm run bench:policy): the issue's budget is ≤ 0.1 ms median per transaction for a
// policy of 100 rules and 1,000 allow-listed addresses, evaluated in-process.
import { Interface, parseUnits, Wallet } from 'ethers';
import { evaluatePolicy, loadPolicy, type PolicyRequest } from '../lambdas/policy';
import { summarize, type Summary } from './stats';

const erc20 = new Interface(['function transfer(address to, uint256 amount)']);

/** A deterministic address list (no randomness: the same policy every run). */
function addresses(count: number, seed: string): string[] {
  return Array.from({ length: count }, (_, i) => new Wallet(`0x${(BigInt(`0x${Buffer.from(`${seed}${i}`).toString('hex').padEnd(64, '1').slice(0, 64)}`) % (2n ** 255n) + 1n).toString(16).padStart(64, '0')}`).address);
}

/** 100 rules (5 deny, 90 allow with 1,000 addresses between them, 5 allow with decoded-argument conditions). */
export function benchPolicy() {
  const payees = addresses(1000, 'payee');
  const rules: object[] = [];
  for (let i = 0; i < 5; i++) rules.push({ id: `deny-${i}`, effect: 'deny', selector: [`0x${(0xdead0000 + i).toString(16)}`, 'setApprovalForAll(address,bool)'] });
  for (let i = 0; i < 90; i++) {
    const to = payees.slice(Math.floor((i * 1000) / 90), Math.floor(((i + 1) * 1000) / 90));
    rules.push({ id: `payees-${i}`, effect: 'allow', chainId: 1, type: 2, to, maxValue: `${i + 1} ether`, maxGasPrice: '200 gwei', maxTotalFee: '0.05 ether', maxDataBytes: 0 });
  }
  for (let i = 0; i < 5; i++) {
    rules.push({ id: `token-${i}`, effect: 'allow', chainId: 1, to: [payees[i]], maxValue: '0', calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { in: payees.slice(0, 100) }, amount: { max: '1000000000' } } }] });
  }
  return { policy: loadPolicy(JSON.stringify({ version: 1, rules })), payees };
}

/** The median (and tail) time of one evaluation for three kinds of transaction. */
export function measurePolicyEvaluation(iterations = 20000): Record<string, Summary> {
  const { policy, payees } = benchPolicy();
  const base = { chainId: 1n, type: 2, value: 1n, data: '0x', gasLimit: 21000n, maxFeePerGas: parseUnits('30', 'gwei'), maxPriorityFeePerGas: 1n, preEip155: false };
  const cases: Record<string, PolicyRequest> = {
    'allowed by the last address rule (every rule before it checked)': { ...base, to: payees[999]! },
    'ERC-20 transfer allowed by a decoded-argument rule': { ...base, value: 0n, to: payees[4]!, data: erc20.encodeFunctionData('transfer', [payees[50], 10n]), gasLimit: 60000n },
    'implicit deny, with the closest rules explained': { ...base, to: addresses(1, 'stranger')[0]! },
  };
  const results: Record<string, Summary> = {};
  for (const [name, request] of Object.entries(cases)) {
    const expected = name.startsWith('implicit') ? false : true;
    if (evaluatePolicy(policy, request).allowed !== expected) throw new Error(`bench policy: "${name}" gave the wrong decision`);
    for (let i = 0; i < 2000; i++) evaluatePolicy(policy, request); // warm up the JIT
    const samples: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const start = process.hrtime.bigint();
      evaluatePolicy(policy, request);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    results[name] = summarize(samples);
  }
  return results;
}

if (process.argv[1]?.endsWith('bench/policy.ts')) {
  const quick = process.argv.includes('--quick');
  const results = measurePolicyEvaluation(quick ? 200 : 20000);
  console.log('| policy evaluation, 100 rules and 1,000 allow-listed addresses | median (p99, min, n) | target |');
  console.log('| --- | --- | --- |');
  for (const [name, s] of Object.entries(results)) {
    const target = name.startsWith('implicit') ? '' : `≤ 0.1 ms: ${s.median <= 0.1 ? 'met' : '**missed**'}`;
    console.log(`| ${name} | ${s.median.toFixed(4)} ms (p99 ${s.p99.toFixed(4)} ms, min ${s.min.toFixed(4)} ms, n=${s.n}) | ${target} |`);
  }
}
