import { getAddress, type ParamType } from 'ethers';
import { parseAmount } from './amount';
import type { Applies, ArgumentDocument, CallDocument, LimitDocument, PolicyDocument, RuleDocument } from './document';
import { PolicyValidationError, type PolicyIssue } from './errors';
import { decodableFunction, type DecodableFunction, type TransactionView } from './request';
import { compileMessagePolicy, type MessagePolicy } from './message-policy';
import { describe } from './schema';
import type { SpendingLimit } from './spending';

/** One condition of a rule, ready to test a transaction; `explain` says why it did not match. */
export interface Condition {
  readonly name: string;
  matches(tx: TransactionView): boolean;
  explain(tx: TransactionView): string;
}

/** A rule with its conditions compiled into Sets, bigints and decoders. */
export interface CompiledRule {
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly description?: string;
  readonly conditions: readonly Condition[];
  readonly limits: readonly SpendingLimit[];
  /** Lower-case spenders this rule may grant an unlimited approval (unlimitedApprovalsTo); empty: none. */
  readonly unlimitedApprovalsTo: ReadonlySet<string>;
}

/** A policy ready to evaluate: compile once at load, evaluate per request. */
export interface CompiledPolicy {
  readonly document: PolicyDocument;
  readonly denyRules: readonly CompiledRule[];
  readonly allowRules: readonly CompiledRule[];
  readonly keyLimits: readonly SpendingLimit[];
  /** True when some rule allows any transaction of any kind (such as examples/policies/allow-all.json). */
  readonly allowsEverything: boolean;
  /**
   * The allow rules that constrain neither recipient, value nor data (no to, maxValue, selector, calls or
   * maxDataBytes): each allows any transfer or call, so `npm run policy check` and every cold start warn.
   */
  readonly unrestrictedAllowRules: readonly string[];
  /** What the message operations may sign (empty: all denied). */
  readonly messages: MessagePolicy;
  /** Every limit of each token (lower-case address), the key's and every rule's: approvals of the token count against all of them. */
  readonly tokenLimits: ReadonlyMap<string, readonly SpendingLimit[]>;
}

// The conditions that narrow what a transaction does (whom it pays, how much, which call); chain, type, gas
// and fee conditions do not.
const RESTRICTING: ReadonlySet<string> = new Set(['to', 'maxValue', 'selector', 'calls', 'maxDataBytes']);
const MAX_WINDOW_SECONDS = 366 * 86400;
const WINDOW_UNITS: ReadonlyMap<string, number> = new Map([['s', 1], ['m', 60], ['h', 3600], ['d', 86400]]);

/**
 * Checks what the schema cannot (checksums, amounts, signatures, argument names, duplicate ids) and
 * compiles the document. Throws PolicyValidationError naming the JSON path of every problem.
 */
export function compilePolicy(document: PolicyDocument): CompiledPolicy {
  const issues: PolicyIssue[] = [];
  const add = (path: string, problem: string) => issues.push({ path, problem });
  const keyLimits = compileLimits(document.limits ?? [], '$.limits', 'key:', add);
  const ids = new Set<string>();
  const rules = document.rules.map((rule, index) => {
    const path = `$.rules[${index}]`;
    if (ids.has(rule.id)) add(`${path}.id`, `"${rule.id}" is already the id of another rule; rule ids must be unique (decisions and spending limits name them)`);
    ids.add(rule.id);
    return compileRule(rule, path, add);
  });
  const messages = compileMessagePolicy(document.messages, '$.messages', add, parseAmount);
  if (issues.length > 0) throw new PolicyValidationError(issues);
  const allowRules = rules.filter((rule) => rule.effect === 'allow');
  const tokenLimits = new Map<string, SpendingLimit[]>();
  for (const limit of [...keyLimits, ...allowRules.flatMap((rule) => rule.limits)]) {
    if (limit.asset !== 'native') tokenLimits.set(limit.asset, [...(tokenLimits.get(limit.asset) ?? []), limit]);
  }
  return {
    document,
    denyRules: rules.filter((rule) => rule.effect === 'deny'),
    allowRules,
    keyLimits,
    allowsEverything: allowRules.some((rule) => rule.conditions.length === 0),
    unrestrictedAllowRules: rules
      .filter((rule, index) => rule.effect === 'allow' && document.rules[index]?.contractCreation !== 'only' && !rule.conditions.some((condition) => RESTRICTING.has(condition.name)))
      .map((rule) => rule.id),
    messages,
    tokenLimits,
  };
}

function compileRule(rule: RuleDocument, path: string, add: (path: string, problem: string) => void): CompiledRule {
  const conditions: Condition[] = [];
  const allow = rule.effect === 'allow';

  const creation = rule.contractCreation ?? !allow;
  if (creation !== true) conditions.push(appliesCondition('contractCreation', creation, (tx) => tx.creation, ['deploys a contract (it has no to)', 'does not deploy a contract']));
  const preEip155 = rule.preEip155 ?? !allow;
  if (preEip155 !== true) conditions.push(appliesCondition('preEip155', preEip155, (tx) => tx.request.preEip155, ['is signed without a chain id (pre-EIP-155)', 'is signed with a chain id (EIP-155)']));

  if (rule.chainId !== undefined) {
    // Typed to take undefined (a pre-EIP-155 transaction's chain id), which it never holds.
    const chains: ReadonlySet<bigint | undefined> = new Set((Array.isArray(rule.chainId) ? rule.chainId : [rule.chainId]).map((chain) => BigInt(chain)));
    conditions.push({
      name: 'chainId',
      matches: (tx) => chains.has(tx.request.chainId),
      explain: (tx) => (tx.request.chainId === undefined ? 'the transaction has no chain id (pre-EIP-155)' : `chain ${tx.request.chainId} is not ${[...chains].join(' or ')}`),
    });
  }
  if (rule.type !== undefined) {
    const types = new Set(Array.isArray(rule.type) ? rule.type : [rule.type]);
    conditions.push({ name: 'type', matches: (tx) => types.has(tx.request.type), explain: (tx) => `type ${tx.request.type} is not ${[...types].join(' or ')}` });
  }
  if (rule.to !== undefined) {
    // Typed to take undefined (the to of a contract creation), which it never holds.
    const addresses: ReadonlySet<string | undefined> = addressSet(rule.to, `${path}.to`, add);
    conditions.push({
      name: 'to',
      matches: (tx) => addresses.has(tx.to),
      explain: (tx) => (tx.to === undefined ? 'the transaction has no to (it deploys a contract)' : `${tx.request.to} is not one of the rule's ${addresses.size} addresses`),
    });
  }
  const maxValue = amountAt(rule.maxValue, `${path}.maxValue`, add);
  if (maxValue !== undefined) conditions.push(capCondition('maxValue', maxValue, (tx) => tx.request.value, 'value'));
  if (rule.selector !== undefined) conditions.push(selectorCondition(rule.selector, allow, path, add));
  if (rule.calls !== undefined) {
    const calls = rule.calls.map((call, index) => compileCall(call, allow, `${path}.calls[${index}]`, add));
    conditions.push({
      name: 'calls',
      matches: (tx) => calls.some((call) => call(tx) === undefined),
      // explain runs only when no call matched, so every call has a failure.
      explain: (tx) => calls.map((call) => call(tx)).join('; or '),
    });
  }
  if (rule.maxDataBytes !== undefined) {
    const max = rule.maxDataBytes;
    conditions.push({ name: 'maxDataBytes', matches: (tx) => tx.dataBytes <= max, explain: (tx) => `data is ${tx.dataBytes} bytes, more than maxDataBytes ${max}` });
  }
  if (rule.maxGasLimit !== undefined) conditions.push(capCondition('maxGasLimit', BigInt(rule.maxGasLimit), (tx) => tx.request.gasLimit, 'gasLimit'));
  const maxGasPrice = amountAt(rule.maxGasPrice, `${path}.maxGasPrice`, add);
  if (maxGasPrice !== undefined) conditions.push(capCondition('maxGasPrice', maxGasPrice, (tx) => tx.feeCap, 'maxFeePerGas or gasPrice'));
  const maxPriority = amountAt(rule.maxPriorityFeePerGas, `${path}.maxPriorityFeePerGas`, add);
  if (maxPriority !== undefined) conditions.push(capCondition('maxPriorityFeePerGas', maxPriority, (tx) => tx.request.maxPriorityFeePerGas, 'maxPriorityFeePerGas'));
  const maxTotalFee = amountAt(rule.maxTotalFee, `${path}.maxTotalFee`, add);
  if (maxTotalFee !== undefined) {
    conditions.push(capCondition('maxTotalFee', maxTotalFee, (tx) => (tx.feeCap === undefined || tx.request.gasLimit === undefined ? undefined : tx.feeCap * tx.request.gasLimit), 'gasLimit × max fee per gas'));
  }

  if (rule.limits !== undefined && !allow) add(`${path}.limits`, 'is only accepted on allow rules (a deny rule never signs, so it has nothing to count)');
  const limits = compileLimits(rule.limits ?? [], `${path}.limits`, `rule:${rule.id}:`, add);
  if (rule.unlimitedApprovalsTo !== undefined && !allow) add(`${path}.unlimitedApprovalsTo`, 'is only accepted on allow rules (a deny rule never signs, so it grants nothing)');
  const unlimitedApprovalsTo = addressSet(rule.unlimitedApprovalsTo ?? [], `${path}.unlimitedApprovalsTo`, add);
  return { id: rule.id, effect: rule.effect, description: rule.description, conditions, limits, unlimitedApprovalsTo };
}

function appliesCondition(name: string, applies: Exclude<Applies, true>, test: (tx: TransactionView) => boolean, [is, isNot]: readonly [string, string]): Condition {
  return applies === 'only'
    ? { name, matches: test, explain: () => `the transaction ${isNot}; this rule has ${name} "only"` }
    : { name, matches: (tx) => !test(tx), explain: () => `the transaction ${is}, which this rule does not cover (a rule must set ${name} to true or "only" to allow it)` };
}

function capCondition(name: string, cap: bigint, read: (tx: TransactionView) => bigint | undefined, field: string): Condition {
  return {
    name,
    // A transaction without the field never fits under the cap.
    matches: (tx) => (read(tx) ?? Infinity) <= cap,
    explain: (tx) => {
      const value = read(tx);
      return value === undefined ? `the transaction has no ${field}` : `${field} ${value} is more than ${name} ${cap}`;
    },
  };
}

/**
 * The `selector` condition. A selector given as a signature is also a promise about the arguments, so an
 * allow rule matches only the canonical ABI encoding of that function (a contract executes trailing bytes or
 * dirty high bits that the policy would not have read); a deny rule matches the selector whatever follows
 * it. A hex selector (`0xa9059cbb`) names no arguments and matches any data after it in either kind of rule.
 */
function selectorCondition(entries: readonly string[], allow: boolean, path: string, add: (path: string, problem: string) => void): Condition {
  // The function to decode for each selector; null when the selector was (also) given as hex: any data.
  const selectors = new Map<string, DecodableFunction | null>();
  entries.forEach((entry, index) => {
    const at = `${path}.selector[${index}]`;
    if (/^0x/.test(entry)) return void selectors.set(hexSelector(entry, at, add), null);
    const fragment = fragmentOf(entry, at, add);
    if (fragment && selectors.get(fragment.selector) !== null) selectors.set(fragment.selector, allow ? fragment : null);
  });
  const canonical = (tx: TransactionView): boolean => {
    const fragment = tx.selector === undefined ? undefined : selectors.get(tx.selector);
    return !fragment || tx.decode(fragment) !== null;
  };
  return {
    name: 'selector',
    matches: (tx) => tx.selector !== undefined && selectors.has(tx.selector) && canonical(tx),
    explain: (tx) => {
      if (tx.selector === undefined) return `data (${tx.dataBytes} bytes) has no 4-byte function selector`;
      const fragment = selectors.get(tx.selector);
      if (fragment) return `data is not the canonical ABI encoding of ${fragment.signature}`;
      return `selector ${tx.selector} is not one of ${[...selectors.keys()].slice(0, 5).join(', ')}${selectors.size > 5 ? ', …' : ''}`;
    },
  };
}

/** Why the transaction is not a matching call to the function, or undefined if it is. */
type CompiledCall = (tx: TransactionView) => string | undefined;

/** Why a decoded argument breaks its condition, or undefined if it meets it. */
type ArgumentCheck = (value: unknown) => string | undefined;

// Stands in for a call or argument condition reported as an issue: compilePolicy throws before it can run.
const UNCHECKED = (): undefined => undefined;

/**
 * One function of a `calls` condition. Calldata with the function's selector that does not decode canonically
 * fails closed: an allow rule never matches it (the contract would read what the policy did not check), and a
 * deny rule always does, whatever its argument conditions (they cannot be evaluated on it).
 */
function compileCall(call: CallDocument, allow: boolean, path: string, add: (path: string, problem: string) => void): CompiledCall {
  const fragment = fragmentOf(call.function, `${path}.function`, add);
  if (!fragment) return UNCHECKED;
  const checks: Array<{ index: number; name: string; check: ArgumentCheck }> = [];
  for (const [key, condition] of Object.entries(call.args ?? {})) {
    const argPath = `${path}.args[${JSON.stringify(key.slice(0, 40))}]`;
    const index = /^(0|[1-9][0-9]?)$/.test(key) ? Number(key) : fragment.inputs.findIndex((input) => input.name === key);
    const input = fragment.inputs[index];
    if (!input) {
      add(argPath, `names no parameter of ${fragment.signature}: use a parameter name given in the signature (${fragment.inputs.map((i) => i.name || '(unnamed)').join(', ')}) or a position from 0 to ${fragment.inputs.length - 1}`);
      continue;
    }
    checks.push({ index, name: input.name || String(index), check: compileArgument(input, condition, argPath, add) });
  }
  const { signature } = fragment;
  return (tx) => {
    if (tx.selector !== fragment.selector) return `data is not a call to ${signature}`;
    const args = tx.decode(fragment);
    if (!args) return allow ? `data is not the canonical ABI encoding of ${signature}` : undefined;
    for (const { index, name, check } of checks) {
      const failure = check(args[index]);
      if (failure !== undefined) return `${signature} argument ${name} ${failure}`;
    }
    return undefined;
  };
}

function compileArgument(
  input: ParamType,
  condition: ArgumentDocument,
  path: string,
  add: (path: string, problem: string) => void,
): ArgumentCheck {
  const type = input.baseType;
  if (type === 'array' || type === 'tuple') {
    add(path, `is a ${input.type} argument; conditions on arrays and tuples are not supported`);
    return UNCHECKED;
  }
  if ((condition.max !== undefined || condition.min !== undefined) && !isInteger(type)) {
    add(path, `max and min apply to integer arguments, but this one is ${input.type}`);
    return UNCHECKED;
  }
  const max = amountAt(condition.max, `${path}.max`, add);
  const min = amountAt(condition.min, `${path}.min`, add);
  // Holds undefined only beside an issue (an accepted value that did not normalise), so it is never used then.
  const allowed = condition.in && new Set(condition.in.map((text, index) => normaliseArgument(type, text, `${path}.in[${index}]`, add)));
  // Addresses and bytes compare as lower-case hex (normaliseArgument lower-cases the policy's side); strings exactly.
  const key = (value: unknown): string => (typeof value === 'string' && type !== 'string' ? value.toLowerCase() : String(value));
  return (value) => {
    if (allowed && !allowed.has(key(value))) return `${describe(value)} is not one of the ${allowed.size} accepted values`;
    // Stryker disable next-line ConditionalExpression: only integers have bounds; they decode to bigints
    if (typeof value !== 'bigint') return undefined;
    // An absent bound compares the value with itself.
    if (value > (max ?? value)) return `${value} is more than max ${max}`;
    if (value < (min ?? value)) return `${describe(value)} is less than min ${min}`;
    return undefined;
  };
}

/** Whether an ABI base type is an integer (intN or uintN). */
function isInteger(type: string): boolean {
  return type.startsWith('int') || type.startsWith('uint');
}

/** One accepted argument value in the form the decoder's value takes after `key()`: lower-case hex, decimal. */
function normaliseArgument(type: string, text: string, path: string, add: (path: string, problem: string) => void): string | undefined {
  if (type === 'address') return addressAt(text, path, add);
  if (isInteger(type)) {
    if (type.startsWith('int') && /^-(0|[1-9][0-9]*)$/.test(text)) return BigInt(text).toString();
    return amountAt(text, path, add)?.toString();
  }
  if (type === 'bool') {
    if (text === 'true' || text === 'false') return text;
    add(path, `must be "true" or "false" for a bool argument; got ${describe(text)}`);
    return text;
  }
  if (type.startsWith('bytes')) {
    if (/^0x(?:[0-9a-fA-F]{2})*$/.test(text)) return text.toLowerCase();
    add(path, `must be 0x-hex bytes for a ${type} argument; got ${describe(text)}`);
    return text;
  }
  return text; // strings compare exactly
}

function compileLimits(limits: readonly LimitDocument[], path: string, prefix: string, add: (path: string, problem: string) => void): SpendingLimit[] {
  const names = new Set<string>();
  return limits.flatMap((limit, index) => {
    const at = `${path}[${index}]`;
    if (names.has(limit.name)) add(`${at}.name`, `"${limit.name}" is already the name of another limit here; limit names must be unique`);
    names.add(limit.name);
    if (limit.maxValue === undefined && limit.maxCount === undefined) add(at, 'needs maxValue, maxCount or both: a limit without a cap limits nothing');
    // policy.schema.json's window pattern (^[1-9][0-9]{0,6}(s|m|h|d)$) has accepted the count and the unit.
    const windowSeconds = Number(limit.window.slice(0, -1)) * (WINDOW_UNITS.get(limit.window.slice(-1)) ?? NaN);
    if (windowSeconds > MAX_WINDOW_SECONDS) add(`${at}.window`, `is ${windowSeconds} seconds; at most 366 days are accepted`);
    const maxAmount = amountAt(limit.maxValue, `${at}.maxValue`, add);
    const asset = limit.token === undefined ? 'native' : addressAt(limit.token, `${at}.token`, add);
    return [{
      id: `${prefix}${limit.name}`,
      windowSeconds,
      asset,
      ...(maxAmount !== undefined && { maxAmount }),
      ...(limit.maxCount !== undefined && { maxCount: limit.maxCount }),
    }];
  });
}

function amountAt(text: string | undefined, path: string, add: (path: string, problem: string) => void): bigint | undefined {
  if (text === undefined) return undefined;
  try {
    return parseAmount(text);
  } catch (error) {
    return void add(path, `${(error as Error).message}; got ${describe(text)}`);
  }
}

/**
 * A checked address in lower case (the form TransactionView compares). An invalid one is reported and
 * returned as written: compilePolicy throws on the issue, so it is never compared.
 */
function addressAt(text: string, path: string, add: (path: string, problem: string) => void): string {
  try {
    return getAddress(text).toLowerCase();
  } catch {
    add(path, /^0x[0-9a-fA-F]{40}$/.test(text)
      ? `has an invalid EIP-55 checksum (${text}), so it may be mistyped; copy the address again from its source, or write it in lower case`
      : `must be an address: 0x and 40 hex digits; got ${describe(text)}`);
    return text;
  }
}

function addressSet(addresses: readonly string[], path: string, add: (path: string, problem: string) => void): Set<string> {
  return new Set(addresses.map((address, index) => addressAt(address, `${path}[${index}]`, add)));
}

function hexSelector(text: string, path: string, add: (path: string, problem: string) => void): string {
  // policy.schema.json's selector pattern has already accepted exactly 0x and 8 hex digits: the check below
  // is for compilePolicy called on a document the schema has not seen.
  if (/^0x[0-9a-fA-F]{8}$/.test(text)) return text.toLowerCase();
  add(path, `must be exactly 4 bytes (0x and 8 hex digits), got ${describe(text)}`);
  return '';
}

function fragmentOf(signature: string, path: string, add: (path: string, problem: string) => void): DecodableFunction | undefined {
  try {
    return decodableFunction(signature);
  } catch {
    return void add(path, `is not a function signature ethers can parse: ${describe(signature)}; write it as name(type1,type2) with Solidity types, e.g. "transfer(address,uint256)"`);
  }
}
