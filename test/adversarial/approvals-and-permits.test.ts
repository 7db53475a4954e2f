// Attack class: approvals that move nothing now and everything later, in transactions this signer never sees
// (approve, increaseAllowance, increaseApproval, setApprovalForAll, Permit2 approve, EIP-2612/DAI/Permit2
// permits). They count against the token's limits with their amount; an unlimited one is refused unless the
// allowing rule names the spender; and every message signature counts against the key-wide signature count.
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Interface, verifyTypedData } from 'ethers';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler } from '../../lambdas/handler';
import type { MessageSignResponse } from '../../lambdas/operations/message-signing';
import { parseMessageEvent } from '../../lambdas/events/message-request';
import { evaluateMessageRequest, evaluatePolicy, loadPolicy, type PolicyRequest } from '../../lambdas/policy';
import { createPolicyState } from '../../lambdas/policy-state/runtime';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockKms } from '../helpers/kms-mock';
import { eip1559Transfer } from '../helpers/policy-requests';
import { rejectionOf } from '../helpers/rejection';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';

const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const ROUTER = '0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af';
const ATTACKER = '0xbadbadbadbadbadbadbadbadbadbadbadbadbadb';
const OWNER = KNOWN_KEYS[0].address;
const UINT256_MAX = 2n ** 256n - 1n;
const UINT160_MAX = 2n ** 160n - 1n;
const token = new Interface([
  'function approve(address spender, uint256 amount)',
  'function increaseAllowance(address spender, uint256 added)',
  'function increaseApproval(address spender, uint256 added)',
  'function approveAndCall(address spender, uint256 amount, bytes data)',
  'function setApprovalForAll(address operator, bool approved)',
  'function transferAndCall(address to, uint256 amount, bytes data)',
]);
const permit2 = new Interface(['function approve(address token, address spender, uint160 amount, uint48 expiration)']);

// Calls to USDC and to Permit2 are allowed by selector alone; USDC has a 500-unit daily limit and the key a
// signature count; only the router may get an unlimited approval.
const POLICY = {
  version: 1,
  limits: [{ name: 'signatures', window: '24h', maxCount: 1000 }, { name: 'usdc-key', window: '24h', token: USDC, maxValue: '1000' }],
  rules: [
    {
      id: 'usdc-calls', effect: 'allow', to: [USDC],
      selector: ['0x095ea7b3', '0x39509351', '0xd73dd623', '0xcae9ca51', '0xa22cb465', '0x4000aea0', '0xa9059cbb'],
      unlimitedApprovalsTo: [ROUTER],
      limits: [{ name: 'usdc-daily', window: '24h', token: USDC, maxValue: '500' }],
    },
    { id: 'permit2-calls', effect: 'allow', to: [PERMIT2], selector: ['0x87517c45'] },
  ],
  messages: {
    signTypedData: [
      { id: 'usdc-permit', primaryType: 'Permit', domain: { verifyingContract: [USDC] }, unlimitedApprovalsTo: [ROUTER] },
      { id: 'dai-permit', primaryType: 'Permit', domain: { verifyingContract: [USDC], version: '1' } },
      { id: 'permit2', primaryType: 'PermitSingle', domain: { verifyingContract: [PERMIT2] } },
      { id: 'permit2-batch', primaryType: 'PermitBatch', domain: { verifyingContract: [PERMIT2] } },
      { id: 'permit2-transfer', primaryType: 'PermitTransferFrom', domain: { verifyingContract: [PERMIT2] } },
    ],
  },
};
const policy = loadPolicy(JSON.stringify(POLICY));
const call = (to: string, data: string): PolicyRequest => ({ ...eip1559Transfer(to), data, gasLimit: 100000n });
const charged = (decision: ReturnType<typeof evaluatePolicy> | ReturnType<typeof evaluateMessageRequest>) => {
  if (!decision.allowed) throw new Error(decision.reason);
  return Object.fromEntries(decision.charges.map((charge) => [charge.limit.id, charge.amount]));
};

describe('approval transactions against the token limits (issue 22, item 3)', () => {
  it.each([
    ['approve(attacker, 2^256-1)', token.encodeFunctionData('approve', [ATTACKER, UINT256_MAX])],
    ['increaseAllowance(attacker, 2^256-1)', token.encodeFunctionData('increaseAllowance', [ATTACKER, UINT256_MAX])],
    ['increaseApproval(attacker, 2^256-1)', token.encodeFunctionData('increaseApproval', [ATTACKER, UINT256_MAX])],
    ['approveAndCall(attacker, 2^256-1, 0x)', token.encodeFunctionData('approveAndCall', [ATTACKER, UINT256_MAX, '0x'])],
    ['setApprovalForAll(attacker, true)', token.encodeFunctionData('setApprovalForAll', [ATTACKER, true])],
  ])('refuses the unlimited %s that the rule\'s selectors allow', (_label, data) => {
    expect(evaluatePolicy(policy, call(USDC, data))).toMatchObject({ allowed: false, reason: expect.stringMatching(/grants 0xbad.* an unlimited approval .* unless the rule lists the spender in unlimitedApprovalsTo/) });
  });

  it('refuses a Permit2 approve of 2^160-1 (the token is an argument, the call goes to Permit2)', () => {
    const data = permit2.encodeFunctionData('approve', [USDC, ATTACKER, UINT160_MAX, 2n ** 48n - 1n]);
    expect(evaluatePolicy(policy, call(PERMIT2, data))).toMatchObject({ allowed: false, reason: expect.stringMatching(/unlimited approval \(Permit2 approve\)/) });
  });

  it('allows an unlimited approval to a spender the rule names in unlimitedApprovalsTo, counting the signature', () => {
    expect(charged(evaluatePolicy(policy, call(USDC, token.encodeFunctionData('approve', [ROUTER, UINT256_MAX]))))).toEqual({ 'key:signatures': 0n, 'key:usdc-key': 0n, 'rule:usdc-calls:usdc-daily': 0n });
  });

  it('counts a finite approval\'s amount against every limit of the token, so an approval above the cap cannot be signed', () => {
    expect(charged(evaluatePolicy(policy, call(USDC, token.encodeFunctionData('approve', [ATTACKER, 600n]))))).toEqual({ 'key:signatures': 0n, 'key:usdc-key': 600n, 'rule:usdc-calls:usdc-daily': 600n });
    expect(charged(evaluatePolicy(policy, call(USDC, token.encodeFunctionData('increaseApproval', [ATTACKER, 7n]))))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 7n });
    expect(charged(evaluatePolicy(policy, call(PERMIT2, permit2.encodeFunctionData('approve', [USDC, ATTACKER, 9n, 1n]))))).toEqual({ 'key:signatures': 0n, 'key:usdc-key': 9n, 'rule:usdc-calls:usdc-daily': 9n });
  });

  it('counts a LINK-style transferAndCall as a transfer of its amount', () => {
    expect(charged(evaluatePolicy(policy, call(USDC, token.encodeFunctionData('transferAndCall', [ATTACKER, 10n ** 24n, '0x']))))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 10n ** 24n });
  });

  it('refuses an approval whose calldata does not decode canonically, even under a hex-selector rule (it cannot be counted)', () => {
    const data = `${token.encodeFunctionData('approve', [ATTACKER, 1n])}00`;
    expect(evaluatePolicy(policy, call(USDC, data))).toMatchObject({ allowed: false, reason: expect.stringMatching(/is an approval \(selector 0x095ea7b3\) that does not decode canonically/) });
  });
});

const typedData = (primaryType: string, types: Record<string, Array<{ name: string; type: string }>>, domain: Record<string, unknown>, message: Record<string, unknown>) => ({
  operation: 'signTypedData' as const,
  domain: { chainId: 1, ...domain },
  types: { EIP712Domain: [...('name' in domain ? [{ name: 'name', type: 'string' }] : []), ...('version' in domain ? [{ name: 'version', type: 'string' }] : []), { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }], ...types },
  primaryType,
  message,
});
const PERMIT_TYPES = { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] };
const permit = (spender: string, value: bigint, nonce = 0) => typedData('Permit', PERMIT_TYPES, { name: 'USD Coin', verifyingContract: USDC }, { owner: OWNER, spender, value: value.toString(), nonce, deadline: 2_000_000_000 });
const daiPermit = (allowed: boolean) => typedData('Permit', { Permit: [{ name: 'holder', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'expiry', type: 'uint256' }, { name: 'allowed', type: 'bool' }] },
  { name: 'Dai Stablecoin', version: '1', verifyingContract: USDC }, { holder: OWNER, spender: ATTACKER, nonce: 0, expiry: 0, allowed });
const DETAILS = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }];
const permitSingle = (amount: bigint) => typedData('PermitSingle', { PermitSingle: [{ name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }], PermitDetails: DETAILS },
  { name: 'Permit2', verifyingContract: PERMIT2 }, { details: { token: USDC, amount: amount.toString(), expiration: 1, nonce: 0 }, spender: ATTACKER, sigDeadline: 1 });
const permitBatch = (amounts: bigint[]) => typedData('PermitBatch', { PermitBatch: [{ name: 'details', type: 'PermitDetails[]' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }], PermitDetails: DETAILS },
  { name: 'Permit2', verifyingContract: PERMIT2 }, { details: amounts.map((amount, nonce) => ({ token: USDC, amount: amount.toString(), expiration: 1, nonce })), spender: ATTACKER, sigDeadline: 1 });
const permitTransfer = (amount: bigint) => typedData('PermitTransferFrom',
  { PermitTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }], TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }] },
  { name: 'Permit2', verifyingContract: PERMIT2 }, { permitted: { token: USDC, amount: amount.toString() }, spender: ATTACKER, nonce: 0, deadline: 1 });
const decideMessage = (event: ReturnType<typeof typedData>) => evaluateMessageRequest(policy, parseMessageEvent(event, 1n), 1_700_000_000_000);

describe('permit signatures against the token limits (issue 22, item 3)', () => {
  it.each([
    ['an EIP-2612 Permit of 2^256-1', permit(ATTACKER, UINT256_MAX)],
    ['a DAI-style Permit with allowed true', daiPermit(true)],
    ['a Permit2 PermitSingle of 2^160-1', permitSingle(UINT160_MAX)],
    ['a Permit2 PermitBatch with one amount of 2^160-1', permitBatch([1n, UINT160_MAX])],
    ['a Permit2 PermitTransferFrom of 2^256-1', permitTransfer(UINT256_MAX)],
  ])('refuses %s to a spender the rule does not name', (_label, event) => {
    expect(decideMessage(event)).toMatchObject({ allowed: false, reason: expect.stringMatching(/grants 0xbad.* an unlimited approval .* unless the rule lists the spender in unlimitedApprovalsTo/) });
  });

  it('allows an unlimited EIP-2612 Permit to the spender the rule names', () => {
    expect(decideMessage(permit(ROUTER, UINT256_MAX))).toMatchObject({ allowed: true, ruleId: 'usdc-permit' });
  });

  it('counts each permit\'s amount against every limit of its token, and the signature against the key-wide count', () => {
    expect(charged(decideMessage(permit(ATTACKER, 300n)))).toEqual({ 'key:signatures': 0n, 'key:usdc-key': 300n, 'rule:usdc-calls:usdc-daily': 300n });
    expect(charged(decideMessage(permitSingle(40n)))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 40n });
    expect(charged(decideMessage(permitBatch([40n, 2n])))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 42n });
    expect(charged(decideMessage(permitTransfer(5n)))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 5n });
    expect(charged(decideMessage(daiPermit(false)))).toMatchObject({ 'rule:usdc-calls:usdc-daily': 0n });
  });
});

describe('permits and message signatures through the handler, counted in the spending store (dynalite)', () => {
  let dynamo: LocalDynamoDb;
  let directory: string;
  beforeAll(async () => {
    dynamo = await startLocalDynamoDb();
    directory = mkdtempSync(join(tmpdir(), 'permits-'));
  });
  afterAll(() => dynamo.close());

  const run = async (policyDocument: object, events: object[]) => {
    const file = join(directory, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(policyDocument));
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const policyState = createPolicyState({ tableName: dynamo.tableName, idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 }, dynamo.client);
    const saved = { ...process.env };
    Object.assign(process.env, { KMS_KEY_ID: "alias/permits", ETH_NETWORK: 'mainnet', LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: file });
    try {
      const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), policyState });
      const results: Array<MessageSignResponse | Error> = [];
      for (const [index, event] of events.entries()) {
        results.push(await handler(event, { functionName: 'signer', awsRequestId: `req-${index}` } as Context).then((response) => response as MessageSignResponse, (error: Error) => error));
      }
      return { results, kmsSigns: kms.commandCalls(SignCommand).length };
    } finally {
      process.env = saved;
    }
  };

  it('signs only one of three permits under a key-wide maxCount of 1 (the issue signed all three)', async () => {
    const { results, kmsSigns } = await run(
      { version: 1, limits: [{ name: 'one-signature', window: '24h', maxCount: 1 }], rules: [{ id: 'none', effect: 'deny' }], messages: { signTypedData: [{ id: 'permits', primaryType: 'Permit' }] } },
      [permit(ATTACKER, 1n, 0), permit(ATTACKER, 1n, 1), permit(ATTACKER, 1n, 2)],
    );
    const { EIP712Domain: _domain, ...types } = permit(ATTACKER, 1n, 0).types;
    const first = results[0] as MessageSignResponse;
    expect(verifyTypedData(permit(ATTACKER, 1n, 0).domain, types, permit(ATTACKER, 1n, 0).message, first.signature)).toBe(OWNER);
    expect(results.slice(1).map((result) => (result as Error).name)).toEqual(['SpendingLimitExceededError', 'SpendingLimitExceededError']);
    expect(kmsSigns).toBe(1);
  });

  it('refuses a permit whose amount exceeds the token\'s daily cap, and signs nothing', async () => {
    const { results, kmsSigns } = await run(
      { version: 1, limits: [{ name: 'usdc', window: '24h', token: USDC, maxValue: '500' }], rules: [{ id: 'none', effect: 'deny' }], messages: { signTypedData: [{ id: 'permits', primaryType: 'Permit' }] } },
      [permit(ATTACKER, 400n, 0), permit(ATTACKER, 200n, 1)],
    );
    expect(results.map((result) => (result instanceof Error ? result.name : 'signed'))).toEqual(['signed', 'SpendingLimitExceededError']);
    expect(kmsSigns).toBe(1);
  });

  it('refuses an unlimited permit before anything is counted or signed', async () => {
    const error = await rejectionOf(run(
      { version: 1, rules: [{ id: 'none', effect: 'deny' }], messages: { signTypedData: [{ id: 'permits', primaryType: 'Permit' }] } },
      [permit(ATTACKER, UINT256_MAX)],
    ).then(({ results, kmsSigns }) => {
      expect(kmsSigns).toBe(0);
      throw results[0];
    }));
    expect(error).toMatchObject({ name: 'PolicyDeniedError', message: expect.stringMatching(/unlimited approval/) });
  });
});
