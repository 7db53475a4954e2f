// Attack class: each shipped example policy against its own description. Every example in
// examples/policies/ must have a section here; each tries what its description says it never signs.
import { readdirSync, readFileSync } from 'node:fs';
import { Interface, parseEther, parseUnits } from 'ethers';
import { parseMessageEvent } from '../../lambdas/events/message-request';
import { evaluateMessageRequest, evaluatePolicy, loadPolicy, type CompiledPolicy, type PolicyRequest } from '../../lambdas/policy';

const ATTACKER = '0xbadbadbadbadbadbadbadbadbadbadbadbadbadb';
const UINT256_MAX = 2n ** 256n - 1n;
const UINT160_MAX = 2n ** 160n - 1n;
const abi = new Interface([
  'function transfer(address to, uint256 amount)',
  'function transferFrom(address from, address to, uint256 amount)',
  'function approve(address spender, uint256 amount)',
  'function increaseAllowance(address spender, uint256 added)',
  'function increaseApproval(address spender, uint256 added)',
  'function setApprovalForAll(address operator, bool approved)',
  'function transferAndCall(address to, uint256 amount, bytes data)',
  'function multicall(bytes[] data)',
  'function deposit()',
  'function withdraw(uint256 amount)',
  'function submitReport(uint80 roundId, int256 answer, uint256 observedAt)',
  'function submitCheckpoint(uint256 epoch, bytes32 root, bytes signatures)',
]);
const permit2 = new Interface(['function approve(address token, address spender, uint160 amount, uint48 expiration)']);

const load = (name: string): CompiledPolicy => loadPolicy(readFileSync(`examples/policies/${name}`, 'utf8'));
const tx = (chainId: bigint, fields: Partial<PolicyRequest>): PolicyRequest => ({
  chainId,
  type: 2,
  value: 0n,
  data: '0x',
  gasLimit: 100000n,
  maxFeePerGas: parseUnits('20', 'gwei'),
  maxPriorityFeePerGas: parseUnits('1', 'gwei'),
  preEip155: false,
  ...fields,
});
const allowed = (policy: CompiledPolicy, request: PolicyRequest) => evaluatePolicy(policy, request).allowed;
const message = (policy: CompiledPolicy, event: Record<string, unknown>, chainId = 1n) =>
  evaluateMessageRequest(policy, parseMessageEvent(event as Parameters<typeof parseMessageEvent>[0], chainId), 1_700_000_000_000).allowed;

const TESTED = new Set<string>();
const example = (name: string, body: () => void) => {
  TESTED.add(name);
  describe(`examples/policies/${name} against its own description`, body);
};

example('relayer.json', () => {
  // "may never move value: only the listed functions of the two listed contracts, no ETH, no ERC-20 or NFT
  // transfers or approvals, no deployments, no messages"
  const policy = load('relayer.json');
  const SEPOLIA = 11155111n;
  const ORACLE = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
  const CHECKPOINTS = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0';
  const LINK = '0x779877A7B0D9E8603169DdbD7836e478b4624789';
  const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
  const report = abi.encodeFunctionData('submitReport', [1n, 2000n * 10n ** 8n, 1_700_000_000n]);

  it('signs what it is for: a report and a checkpoint', () => {
    expect(allowed(policy, tx(SEPOLIA, { to: ORACLE, data: report }))).toBe(true);
    expect(allowed(policy, tx(SEPOLIA, { to: CHECKPOINTS, data: abi.encodeFunctionData('submitCheckpoint', [7n, `0x${'11'.repeat(32)}`, '0x1234']) }))).toBe(true);
  });

  it.each([
    ['LINK transferAndCall(attacker, 1e24, 0x)', LINK, abi.encodeFunctionData('transferAndCall', [ATTACKER, 10n ** 24n, '0x'])],
    ['Permit2 approve(token, attacker, 2^160-1, 2^48-1)', PERMIT2, permit2.encodeFunctionData('approve', [LINK, ATTACKER, UINT160_MAX, 2n ** 48n - 1n])],
    ['multicall([transfer(attacker, 1e24)])', LINK, abi.encodeFunctionData('multicall', [[abi.encodeFunctionData('transfer', [ATTACKER, 10n ** 24n])]])],
    ['increaseApproval(attacker, 2^256-1)', LINK, abi.encodeFunctionData('increaseApproval', [ATTACKER, UINT256_MAX])],
    ['transfer(attacker, 1) to the oracle contract', ORACLE, abi.encodeFunctionData('transfer', [ATTACKER, 1n])],
    ['approve(attacker, 1) to the checkpoint contract', CHECKPOINTS, abi.encodeFunctionData('approve', [ATTACKER, 1n])],
    ['setApprovalForAll(attacker, true)', LINK, abi.encodeFunctionData('setApprovalForAll', [ATTACKER, true])],
    ['a report with 32 trailing bytes', ORACLE, `${report}${'00'.repeat(32)}`],
    ['a report to the checkpoint contract', CHECKPOINTS, report],
  ])('refuses %s (issue 22, item 4)', (_label, to, data) => {
    expect(allowed(policy, tx(SEPOLIA, { to, data }))).toBe(false);
  });

  it('refuses ETH, deployments, other chains and every message', () => {
    expect(allowed(policy, tx(SEPOLIA, { to: ORACLE, data: report, value: 1n }))).toBe(false);
    expect(allowed(policy, tx(SEPOLIA, { to: ATTACKER, value: parseEther('1') }))).toBe(false);
    expect(allowed(policy, tx(SEPOLIA, { data: '0x6080' }))).toBe(false);
    expect(allowed(policy, tx(1n, { to: ORACLE, data: report }))).toBe(false);
    expect(message(policy, { operation: 'signMessage', message: 'hello' }, SEPOLIA)).toBe(false);
    expect(message(policy, { operation: 'signAuthorization', address: ATTACKER, nonce: 0, chainId: 11155111 }, SEPOLIA)).toBe(false);
  });

  it('gets no allow-all warning', () => {
    expect(policy.unrestrictedAllowRules).toEqual([]);
  });
});

example('treasury-payouts.json', () => {
  // "ETH and USDC to a fixed list of recipients, at most 25 ETH and 50,000 USDC a day, with fee caps"
  const policy = load('treasury-payouts.json');
  const PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';

  it('signs payouts to the list, counting them against the daily caps', () => {
    const eth = evaluatePolicy(policy, tx(1n, { to: PAYEE, value: parseEther('10'), gasLimit: 21000n }));
    expect(eth).toMatchObject({ allowed: true, charges: expect.arrayContaining([expect.objectContaining({ amount: parseEther('10') })]) });
    const usdc = evaluatePolicy(policy, tx(1n, { to: USDC, data: abi.encodeFunctionData('transfer', [PAYEE, 20_000_000_000n]) }));
    expect(usdc).toMatchObject({ allowed: true, charges: expect.arrayContaining([expect.objectContaining({ amount: 20_000_000_000n })]) });
  });

  it.each([
    ['ETH to an address not on the list', { to: ATTACKER, value: 1n, gasLimit: 21000n }],
    ['more than 10 ETH in one payout', { to: PAYEE, value: parseEther('10') + 1n, gasLimit: 21000n }],
    ['an ETH payout carrying calldata', { to: PAYEE, value: 1n, data: '0x00' }],
    ['USDC to an address not on the list', { to: USDC, data: abi.encodeFunctionData('transfer', [ATTACKER, 1n]) }],
    ['more than 20,000 USDC in one payout', { to: USDC, data: abi.encodeFunctionData('transfer', [PAYEE, 20_000_000_001n]) }],
    ['a USDC transfer with trailing bytes', { to: USDC, data: `${abi.encodeFunctionData('transfer', [PAYEE, 1n])}${'00'.repeat(32)}` }],
    ['a USDC transfer with a dirty recipient word', { to: USDC, data: `0xa9059cbb${'ff'.repeat(12)}${PAYEE.slice(2)}${'0'.repeat(63)}1` }],
    ['a USDC approve, even to a payee', { to: USDC, data: abi.encodeFunctionData('approve', [PAYEE, 1n]) }],
    ['a USDC transferFrom', { to: USDC, data: abi.encodeFunctionData('transferFrom', [ATTACKER, PAYEE, 1n]) }],
    ['fees above the cap', { to: PAYEE, value: 1n, gasLimit: 21000n, maxFeePerGas: parseUnits('201', 'gwei') }],
    ['a deployment', { data: '0x6080' }],
  ])('refuses %s', (_label, fields) => {
    expect(allowed(policy, tx(1n, fields))).toBe(false);
  });

  it('refuses payouts on another chain and every message', () => {
    expect(allowed(policy, tx(5n, { to: PAYEE, value: 1n, gasLimit: 21000n }))).toBe(false);
    expect(message(policy, { operation: 'signMessage', message: 'hello' })).toBe(false);
  });
});

example('hot-wallet.json', () => {
  // "may only call one contract (WETH on mainnet), with a fee cap, and never grant an unlimited allowance"
  const policy = load('hot-wallet.json');
  const WETH = '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2';
  const OTHER_TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';

  it('signs the WETH calls it lists', () => {
    expect(allowed(policy, tx(1n, { to: WETH, data: abi.encodeFunctionData('deposit', []), value: parseEther('5') }))).toBe(true);
    expect(allowed(policy, tx(1n, { to: WETH, data: abi.encodeFunctionData('approve', [ATTACKER, parseEther('1000')]) }))).toBe(true);
  });

  it.each([
    ['a call to another contract', { to: OTHER_TOKEN, data: abi.encodeFunctionData('transfer', [ATTACKER, 1n]) }],
    ['an unlimited approve', { to: WETH, data: abi.encodeFunctionData('approve', [ATTACKER, UINT256_MAX]) }],
    ['an approve above 1,000 WETH', { to: WETH, data: abi.encodeFunctionData('approve', [ATTACKER, parseEther('1000') + 1n]) }],
    ['an approve above 1,000 WETH with trailing bytes', { to: WETH, data: `${abi.encodeFunctionData('approve', [ATTACKER, UINT256_MAX])}${'00'.repeat(32)}` }],
    ['an unlimited increaseAllowance', { to: WETH, data: abi.encodeFunctionData('increaseAllowance', [ATTACKER, UINT256_MAX]) }],
    ['more than 5 ETH wrapped', { to: WETH, data: abi.encodeFunctionData('deposit', []), value: parseEther('5') + 1n }],
    ['a plain ETH transfer', { to: ATTACKER, value: 1n, gasLimit: 21000n }],
    ['fees above the cap', { to: WETH, data: abi.encodeFunctionData('deposit', []), maxFeePerGas: parseUnits('101', 'gwei') }],
  ])('refuses %s', (_label, fields) => {
    expect(allowed(policy, tx(1n, fields))).toBe(false);
  });
});

example('local-demo.json', () => {
  // "small transfers to one anvil dev account, demo messages and EIP-712 Mail typed data, nothing else"
  const policy = load('local-demo.json');
  const DEV_1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  const ANVIL = 31337n;

  it('signs what the demo needs', () => {
    expect(allowed(policy, tx(ANVIL, { to: DEV_1, value: parseEther('0.05'), gasLimit: 21000n }))).toBe(true);
    expect(message(policy, { operation: 'signMessage', message: 'kms-eth-signer demo: hello' }, ANVIL)).toBe(true);
  });

  it.each([
    ['more than 0.05 ETH', { to: DEV_1, value: parseEther('0.05') + 1n, gasLimit: 21000n }],
    ['another recipient', { to: ATTACKER, value: 1n, gasLimit: 21000n }],
    ['calldata', { to: DEV_1, data: abi.encodeFunctionData('approve', [ATTACKER, UINT256_MAX]) }],
    ['an approve with trailing bytes', { to: DEV_1, data: `${abi.encodeFunctionData('approve', [ATTACKER, UINT256_MAX])}00` }],
  ])('refuses %s', (_label, fields) => {
    expect(allowed(policy, tx(ANVIL, fields))).toBe(false);
  });

  it('refuses other messages, permits and delegations', () => {
    expect(message(policy, { operation: 'signMessage', message: 'transfer everything' }, ANVIL)).toBe(false);
    expect(message(policy, { operation: 'signAuthorization', address: ATTACKER, nonce: 0, chainId: 31337 }, ANVIL)).toBe(false);
  });
});

example('permits-and-sign-in.json', () => {
  // "signs no transactions, only off-chain: Sign-In with Ethereum for one site, capped USDC permits to one
  // router on mainnet, owner signatures for one Safe, and an EIP-7702 delegation to one implementation"
  const policy = load('permits-and-sign-in.json');
  const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
  const ROUTER = '0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af';
  const DELEGATE = '0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B';
  const permit = (spender: string, value: bigint, deadline = 1_700_000_000 + 3600) => ({
    operation: 'signTypedData',
    domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: USDC },
    types: {
      EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
      Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }],
    },
    primaryType: 'Permit',
    message: { owner: ATTACKER, spender, value: value.toString(), nonce: 0, deadline },
  });

  it('signs what it is for', () => {
    expect(message(policy, { operation: 'signMessage', message: 'app.example.com wants you to sign in with your Ethereum account:\n0x…' })).toBe(true);
    expect(message(policy, permit(ROUTER, 1_000_000_000n))).toBe(true);
    expect(message(policy, { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 1 })).toBe(true);
  });

  it('refuses every transaction', () => {
    expect(allowed(policy, tx(1n, { to: ATTACKER, value: 1n, gasLimit: 21000n }))).toBe(false);
    expect(allowed(policy, tx(1n, { to: USDC, data: abi.encodeFunctionData('approve', [ROUTER, 1n]) }))).toBe(false);
  });

  it.each([
    ['a sign-in for another site', { operation: 'signMessage', message: 'evil.example wants you to sign in with your Ethereum account:\n0x…' }],
    ['a permit of more than 1,000 USDC', permit(ROUTER, 1_000_000_001n)],
    ['an unlimited permit', permit(ROUTER, UINT256_MAX)],
    ['a permit to another spender', permit(ATTACKER, 1n)],
    ['a permit valid for more than an hour', permit(ROUTER, 1n, 1_700_000_000 + 3601)],
    ['a delegation to another implementation', { operation: 'signAuthorization', address: ATTACKER, nonce: 0, chainId: 1 }],
    ['a delegation valid on every chain', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 0 }],
  ])('refuses %s', (_label, event) => {
    expect(message(policy, event)).toBe(false);
  });
});

example('allow-all.json', () => {
  // "Signs ANY transaction ... the function logs a WARN on every cold start" (and no messages)
  const policy = load('allow-all.json');

  it('is flagged by the allow-all warning', () => {
    expect(policy.allowsEverything).toBe(true);
    expect(policy.unrestrictedAllowRules).toEqual(['allow-everything']);
  });

  it('still refuses an unlimited approval (no rule names a spender) and every message', () => {
    expect(allowed(policy, tx(1n, { to: ATTACKER, data: abi.encodeFunctionData('approve', [ATTACKER, UINT256_MAX]) }))).toBe(false);
    expect(allowed(policy, tx(1n, { to: ATTACKER, data: abi.encodeFunctionData('approve', [ATTACKER, 1n]) }))).toBe(true);
    expect(message(policy, { operation: 'signMessage', message: 'hello' })).toBe(false);
  });
});

describe('the example policies', () => {
  it('each have an attack section above', () => {
    expect(readdirSync('examples/policies').filter((name) => name.endsWith('.json')).sort()).toEqual([...TESTED].sort());
  });
});
