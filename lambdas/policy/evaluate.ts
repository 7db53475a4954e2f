import type { CompiledPolicy, CompiledRule } from './compile';
import { decodableFunction, TransactionView, type PolicyRequest } from './request';
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
const TRANSFER = decodableFunction('transfer(address,uint256)');
const TRANSFER_FROM = decodableFunction('transferFrom(address,address,uint256)');

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
    const counted = charges(policy, rule, tx);
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

/** The charges for the allowing rule, or why they cannot be counted (which denies: never sign without counting). */
function charges(policy: CompiledPolicy, rule: CompiledRule, tx: TransactionView): SpendCharge[] | string {
  // Stryker disable next-line ConditionalExpression: a shortcut; without it the loop over no limits returns the same empty list
  if (policy.keyLimits.length === 0 && rule.limits.length === 0) return [];
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
  return result;
}

const UNDECODABLE = Symbol('undecodable');

/**
 * The token amount an ERC-20 transfer or transferFrom moves; undefined for any other call; UNDECODABLE for
 * a transfer whose calldata is not canonical (a contract would still execute it, e.g. with trailing bytes).
 */
function tokenAmount(tx: TransactionView): bigint | undefined | typeof UNDECODABLE {
  for (const [fragment, index] of [[TRANSFER, 1], [TRANSFER_FROM, 2]] as const) {
    if (tx.selector !== fragment.selector) continue;
    const args = tx.decode(fragment);
    return args ? (args[index] as bigint) : UNDECODABLE;
  }
  return undefined;
}
