import { parseMessageEvent } from '../../../lambdas/events/message-request';
import { evaluateMessageRequest, evaluatePolicy, loadPolicy } from '../../../lambdas/policy';
import type { TransactionRules } from '../../../lambdas/policy/message-policy';
import { safeTx, safeTxSignRequest } from '../../../safe/safe-tx';

const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const DELEGATE = '0x63c0c19a282a1B52b07dD5a65b58948A07DAE32B';
const MESSAGES = { signMessage: { allow: true }, signAuthorization: { delegates: [DELEGATE] } };
const decide = (policy: object, event: Record<string, unknown>) =>
  evaluateMessageRequest(loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'none', effect: 'deny' }], messages: MESSAGES, ...policy })), parseMessageEvent(event as Parameters<typeof parseMessageEvent>[0], 1n), 0);

describe('evaluateMessageRequest', () => {
  it('counts every message signature against the key-wide limits without a token, with amount 0', () => {
    const limits = [{ name: 'count', window: '24h', maxCount: 1 }, { name: 'eth', window: '24h', maxValue: '1 ether' }, { name: 'usdc', window: '24h', token: TOKEN, maxCount: 5 }];
    for (const event of [{ operation: 'signMessage', message: 'hi' }, { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 1 }]) {
      const decision = decide({ limits }, event);
      expect(decision.allowed && decision.charges.map((charge) => [charge.limit.id, charge.amount])).toEqual([['key:count', 0n], ['key:eth', 0n]]);
    }
  });

  it('carries no charges when the policy has no limits', () => {
    expect(decide({}, { operation: 'signMessage', message: 'hi' })).toEqual({ allowed: true, ruleId: 'signMessage', charges: [] });
  });

  it('reads unlimitedApprovalsTo from the signTypedData rule that matched, not from an earlier one', () => {
    const ROUTER = '0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af';
    const OTHER_TOKEN = '0x6B175474E89094C44Da98b954EedeAC495271d0F';
    const permit = {
      operation: 'signTypedData',
      domain: { name: 'USD Coin', chainId: 1, verifyingContract: TOKEN },
      types: {
        EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
        Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }],
      },
      primaryType: 'Permit',
      message: { owner: DELEGATE, spender: ROUTER, value: (2n ** 256n - 1n).toString(), nonce: 0, deadline: 2_000_000_000 },
    };
    const rules = [
      { id: 'other-token-permit', primaryType: 'Permit', domain: { verifyingContract: [OTHER_TOKEN] } },
      { id: 'usdc-permit', primaryType: 'Permit', domain: { verifyingContract: [TOKEN] }, unlimitedApprovalsTo: [ROUTER] },
    ];
    expect(decide({ messages: { signTypedData: rules } }, permit)).toMatchObject({ allowed: true, ruleId: 'usdc-permit' });
    expect(decide({ messages: { signTypedData: [rules[0], { ...rules[1], unlimitedApprovalsTo: [DELEGATE] }] } }, permit)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/rule "usdc-permit" matched, but the .* grants 0x66a9893cc07d91d95644aedd05d03f95e1dba8af an unlimited approval/),
    });
  });

  describe('a SafeTx', () => {
    const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const limits = [{ name: 'count', window: '24h', maxCount: 10 }, { name: 'eth', window: '24h', maxValue: '1 ether' }];
    // Built inside each spec: what runs at describe time counts for no spec in a mutation run.
    const setup = () => {
      const policy = loadPolicy(JSON.stringify({
        version: 1,
        limits,
        rules: [{ id: 'pay', effect: 'allow' }],
        messages: { signTypedData: [{ id: 'treasury', primaryType: 'SafeTx', domain: { verifyingContract: [SAFE] }, safeTransaction: true }] },
      }));
      const request = parseMessageEvent(safeTxSignRequest(SAFE, 1n, safeTx({ to: DELEGATE, value: 5n, nonce: 0n })) as Parameters<typeof parseMessageEvent>[0], 1n);
      return { policy, request, limit: (id: string) => policy.keyLimits.find((candidate) => candidate.id === id)! };
    };

    it('counts the key-wide limits once, through the inner transaction\'s charges, with the transaction rules', () => {
      const { policy, request } = setup();
      const decision = evaluateMessageRequest(policy, request, 0, (tx) => evaluatePolicy(policy, tx));
      expect(decision.allowed && decision.charges.map((charge) => [charge.limit.id, charge.amount])).toEqual([['key:count', 5n], ['key:eth', 5n]]);
    });

    it('still counts a key-wide limit the inner charges leave out, with amount 0', () => {
      const { policy, request, limit } = setup();
      const onlyEth: TransactionRules = (tx) => ({ allowed: true, ruleId: 'pay', charges: [{ limit: limit('key:eth'), amount: tx.value }] });
      const decision = evaluateMessageRequest(policy, request, 0, onlyEth);
      expect(decision.allowed && decision.charges.map((charge) => [charge.limit.id, charge.amount])).toEqual([['key:count', 0n], ['key:eth', 5n]]);
    });
  });

  it('passes a denial of the messages section through unchanged', () => {
    expect(decide({}, { operation: 'signAuthorization', address: TOKEN, nonce: 0, chainId: 1 })).toMatchObject({ allowed: false, reason: expect.stringMatching(/not in signAuthorization.delegates/) });
  });
});
