import { transactionApproval, UNDECODABLE_APPROVAL, type Approval } from './approvals';
import type { CompiledPolicy, CompiledRule } from './compile';
import { decodableFunction, TransactionView, type DecodableFunction, type PolicyRequest } from './request';
import type { SpendCharge } from './spending';

/** Why an allow rule did not match: the conditions that failed, each explained. */
export interface RuleMiss {
  readonly ruleId: string;
  readonly failed: readonly { readonly condition: string; readonly reason: string }[];
}

/** The policy's answer for one transaction. */
export type PolicyDecision =
  | {
      readonly allowed: true;
      /** The first allow rule (in document order) that matched. */
      readonly ruleId: string;
      /** What the transaction adds to each spending limit (the key's and the rule's); empty when none applies. */
      readonly charges: readonly SpendCharge[];
    }
  | {
      readonly allowed: false;
      /** The deny rule that matched, or undefined when no allow rule matched (implicit deny). */
      readonly ruleId?: string;
      /** One sentence for the caller: the deny rule, or "no rule allowed" with the closest allow rules' failed conditions. */
      readonly reason: string;
      /** For an implicit deny: the allow rules that failed the fewest conditions (at most 3). */
      readonly closest: readonly RuleMiss[];
    };

const MAX_CLOSEST = 3;
// Calls that move a token's balance, with the position of the amount: ERC-20, and ERC-677/ERC-1363 transfers
// that also call the recipient (LINK's transferAndCall).
const TRANSFERS: ReadonlyArray<readonly [DecodableFunction, number]> = [
  [decodableFunction('transfer(address,uint256)'), 1],
  [decodableFunction('transferFrom(address,address,uint256)'), 2],
  [decodableFunction('transferAndCall(address,uint256)'), 1],
  [decodableFunction('transferAndCall(address,uint256,bytes)'), 1],
  [decodableFunction('transferFromAndCall(address,address,uint256)'), 2],
  [decodableFunction('transferFromAndCall(address,address,uint256,bytes)'), 2],
];

/**
 * Decides whether the policy allows the transaction: an explicit deny wins; otherwise the first allow
 * rule whose conditions all match allows it; otherwise it is denied. Pure and synchronous.
 */
export function evaluatePolicy(policy: CompiledPolicy, request: PolicyRequest): PolicyDecision {
  const tx = new TransactionView(request);
  for (const rule of policy.denyRules) {
    if (matches(rule, tx)) return { allowed: false, ruleId: rule.id, reason: `denied by rule "${rule.id}"${rule.description ? ` (${rule.description.slice(0, 200)})` : ''}`, closest: [] };
  }
  for (const rule of policy.allowRules) {
    if (!matches(rule, tx)) continue;
    const approval = transactionApproval(tx);
    if (approval === UNDECODABLE_APPROVAL) {
      return { allowed: false, reason: `rule "${rule.id}" matched, but the call is an approval (selector ${tx.selector}) that does not decode canonically, so it can be neither checked nor counted`, closest: [] };
    }
    if (approval?.amount === 'unlimited' && !rule.unlimitedApprovalsTo.has(approval.spender)) {
      return { allowed: false, reason: `rule "${rule.id}" matched, but the transaction grants ${approval.spender} an unlimited approval (${approval.via}) of ${approval.token}, which is refused unless the rule lists the spender in unlimitedApprovalsTo`, closest: [] };
    }
    const counted = charges(policy, rule, tx, approval);
    if (typeof counted === 'string') return { allowed: false, reason: counted, closest: [] };
    return { allowed: true, ruleId: rule.id, charges: counted };
  }
  return implicitDeny(policy, tx);
}

function matches(rule: CompiledRule, tx: TransactionView): boolean {
  for (const condition of rule.conditions) if (!condition.matches(tx)) return false;
  return true;
}

function implicitDeny(policy: CompiledPolicy, tx: TransactionView): PolicyDecision {
  // Count first, explain only the closest: explaining every rule of a large policy would cost more than deciding.
  const misses = policy.allowRules
    .map((rule) => ({ rule, failed: rule.conditions.filter((condition) => !condition.matches(tx)) }))
    .sort((a, b) => a.failed.length - b.failed.length)
    .slice(0, MAX_CLOSEST)
    .map(({ rule, failed }) => ({ ruleId: rule.id, failed: failed.map((condition) => ({ condition: condition.name, reason: condition.explain(tx).slice(0, 300) })) }));
  const detail = misses.map((miss) => `rule "${miss.ruleId}": ${miss.failed.map((f) => `${f.condition} (${f.reason})`).join(', ')}`).join('; ');
  return { allowed: false, reason: `no rule allowed the transaction${detail ? `; closest: ${detail}` : ''}`, closest: misses };
}

/**
 * The charges for the allowing rule, or why they cannot be counted (which denies: never sign without counting).
 * An approval counts against every limit of its token (an unlimited one, allowed by unlimitedApprovalsTo, as 0).
 */
function charges(policy: CompiledPolicy, rule: CompiledRule, tx: TransactionView, approval: Approval | undefined): SpendCharge[] | string {
  const result: SpendCharge[] = [];
  for (const limit of [...policy.keyLimits, ...rule.limits]) {
    if (limit.asset === 'native') result.push({ limit, amount: tx.request.value });
    else if (tx.to === limit.asset) {
      const amount = tokenAmount(tx);
      if (amount === UNDECODABLE) {
        return `rule "${rule.id}" matched, but the call to token ${tx.request.to} is a transfer that does not decode canonically, so spending limit "${limit.id}" could not count it`;
      }
      if (amount !== undefined) result.push({ limit, amount });
    }
  }
  return approval ? [...result, ...approvalCharges(policy, [approval])] : result;
}

/** What approvals add to the limits of their tokens, summed per limit; unlimited ones (allowed by name) add 0. */
export function approvalCharges(policy: CompiledPolicy, approvals: readonly Approval[]): SpendCharge[] {
  const totals = new Map<string, SpendCharge>();
  for (const approval of approvals) {
    for (const limit of policy.tokenLimits.get(approval.token) ?? []) {
      const amount = approval.amount === 'unlimited' ? 0n : approval.amount;
      totals.set(limit.id, { limit, amount: (totals.get(limit.id)?.amount ?? 0n) + amount });
    }
  }
  return [...totals.values()];
}

const UNDECODABLE = Symbol('undecodable');

/**
 * The token amount a transfer (TRANSFERS) moves; undefined for any other call; UNDECODABLE for
 * a transfer whose calldata is not canonical (a contract would still execute it, e.g. with trailing bytes).
 */
function tokenAmount(tx: TransactionView): bigint | undefined | typeof UNDECODABLE {
  for (const [fragment, index] of TRANSFERS) {
    if (tx.selector !== fragment.selector) continue;
    const args = tx.decode(fragment);
    return args ? (args[index] as bigint) : UNDECODABLE;
  }
  return undefined;
}
