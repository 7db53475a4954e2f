// The policy's answer for a message operation, with what it counts: evaluateMessagePolicy decides what may be
// signed; this adds the refusal of unlimited permits and the charges (key-wide counts, permits' token amounts).
import type { MessageRequest } from './message';
import { spenderSet, typedDataApprovals } from './approvals';
import type { CompiledPolicy } from './compile';
import { approvalCharges } from './evaluate';
import { evaluateMessagePolicy, type TransactionRules } from './message-policy';
import type { SpendCharge } from './spending';

/** The policy's answer for a message request, with the spending it counts when allowed. */
export type MessageSpendDecision =
  | { readonly allowed: true; readonly ruleId: string; readonly charges: readonly SpendCharge[] }
  | { readonly allowed: false; readonly reason: string };

/**
 * Decides a message request: the `messages` section must allow it; a permit of an unlimited amount is refused
 * unless the typed-data rule lists the spender in unlimitedApprovalsTo. Charges: every signature counts one
 * against each key-wide limit without a token (amount 0), and a permit counts its amount against every limit
 * of its token (the key's and every rule's), as an approval transaction would. A SafeTx is decided by
 * `transactions` (the transaction rules) as the call it makes the Safe send, and counts that call's charges.
 */
export function evaluateMessageRequest(policy: CompiledPolicy, request: MessageRequest, nowMs: number, transactions?: TransactionRules): MessageSpendDecision {
  const decision = evaluateMessagePolicy(policy.messages, request, nowMs, transactions);
  if (!decision.allowed) return decision;
  // A SafeTx's charges are its inner transaction's, which already count this signature against the key's limits.
  const inner = decision.charges ?? [];
  const counts = policy.keyLimits.filter((limit) => limit.asset === 'native' && !inner.some((charge) => charge.limit === limit)).map((limit) => ({ limit, amount: 0n }));
  const charges = [...counts, ...inner];
  if (request.operation !== 'signTypedData') return { allowed: true, ruleId: decision.ruleId, charges };
  const approvals = typedDataApprovals(request.typedData);
  const rule = policy.messages.signTypedData?.find((candidate) => candidate.id === decision.ruleId);
  const named = spenderSet(rule?.unlimitedApprovalsTo);
  const unlimited = approvals.find((approval) => approval.amount === 'unlimited' && !named.has(approval.spender));
  if (unlimited) {
    return {
      allowed: false,
      reason: `signTypedData rule "${decision.ruleId}" matched, but the ${unlimited.via} grants ${unlimited.spender} an unlimited approval of ${unlimited.token}, which is refused unless the rule lists the spender in unlimitedApprovalsTo`,
    };
  }
  return { allowed: true, ruleId: decision.ruleId, charges: [...charges, ...approvalCharges(policy, approvals)] };
}
