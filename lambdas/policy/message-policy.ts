// The signing policy for the message operations (signMessage, signTypedData, signAuthorization): pure, no I/O.
// Each operation is a signing power of its own, so nothing is allowed unless the policy says so.
import { getAddress, toUtf8Bytes } from 'ethers';
import { structFields, type MessageRequest, type TypedDataPayload } from './message';
import type { PolicyRequest } from './request';
import { safeTransactionRequest } from './safe-transaction';
import type { SpendCharge } from './spending';

/** EIP-2612 `Permit` caps. */
export interface PermitConditions {
  /** Largest Permit.value allowed (token base units). */
  readonly maxValue?: bigint;
  /** Permit.spender must be one of these (EIP-55 addresses). */
  readonly spenders?: readonly string[];
  /** Permit.deadline must be at most now + this many seconds. */
  readonly maxDeadlineSeconds?: number;
}

/** Uniswap Permit2 `PermitSingle` caps. */
export interface Permit2Conditions {
  /** Largest PermitSingle.details.amount allowed (token base units). */
  readonly maxAmount?: bigint;
  /** PermitSingle.spender must be one of these. */
  readonly spenders?: readonly string[];
  /** PermitSingle.details.token must be one of these. */
  readonly tokens?: readonly string[];
  /** sigDeadline and details.expiration must be at most now + this many seconds. */
  readonly maxDeadlineSeconds?: number;
}

/** One kind of typed data that may be signed: its domain, its primaryType, and caps on decoded fields. */
export interface TypedDataRule {
  readonly id: string;
  readonly primaryType: string;
  /** Each field given must match; verifyingContract is a list of allowed contracts. */
  readonly domain?: {
    readonly name?: string;
    readonly version?: string;
    readonly chainId?: bigint;
    readonly verifyingContract?: readonly string[];
  };
  readonly permit?: PermitConditions;
  readonly permit2?: Permit2Conditions;
  /** Spenders this rule may sign an unlimited permit for (EIP-55 addresses); without it unlimited permits are refused. */
  readonly unlimitedApprovalsTo?: readonly string[];
  /**
   * A Safe SafeTx: allowed only when the transaction rules allow the transaction it makes the Safe send (to, value,
   * calldata), whose charges count against the spending limits. Operation DELEGATECALL and gas refunds are denied.
   */
  readonly safeTransaction?: boolean;
}

/** The transaction rules, for the typed data that authorizes a transaction (a SafeTx). */
export type TransactionRules = (request: PolicyRequest) => TransactionVerdict;
/** What the transaction rules answer (evaluatePolicy's PolicyDecision has this shape; not imported, which would make a cycle). */
export type TransactionVerdict =
  | { readonly allowed: true; readonly ruleId: string; readonly charges: readonly SpendCharge[] }
  | { readonly allowed: false; readonly reason: string };

/** What the policy allows for the message operations. Anything left out is denied. */
export interface MessagePolicy {
  /** EIP-191 messages: absent or allow false denies them all; with prefixes or exact, only messages matching one. */
  readonly signMessage?: { readonly allow: boolean; readonly prefixes?: readonly string[]; readonly exact?: readonly string[] };
  /** EIP-712 typed data: allowed when one rule matches. */
  readonly signTypedData?: readonly TypedDataRule[];
  /** EIP-7702 delegations: only to these contracts; chain id 0 (every chain) only with allowAnyChain. */
  readonly signAuthorization?: { readonly delegates: readonly string[]; readonly allowAnyChain?: boolean };
}

/** The policy's answer for one request. */
export type MessageDecision =
  | {
      readonly allowed: true;
      readonly ruleId: string;
      /** A SafeTx: what its transaction adds to the spending limits (reserved before KMS signs). */
      readonly charges?: readonly SpendCharge[];
    }
  | { readonly allowed: false; readonly reason: string };

// The standard structs the decoded-field caps read; a look-alike with other fields is not decoded.
const PERMIT_FIELDS = 'owner:address,spender:address,value:uint256,nonce:uint256,deadline:uint256';
const PERMIT_SINGLE_FIELDS = 'details:PermitDetails,spender:address,sigDeadline:uint256';
const PERMIT_DETAILS_FIELDS = 'token:address,amount:uint160,expiration:uint48,nonce:uint48';

/**
 * Decides whether the policy allows a message request; `nowMs` is the time deadlines are measured from, and
 * `transactions` decides on the transaction a SafeTx authorizes (without it, such a rule denies).
 */
export function evaluateMessagePolicy(policy: MessagePolicy | undefined, request: MessageRequest, nowMs: number, transactions?: TransactionRules): MessageDecision {
  switch (request.operation) {
    case 'signMessage':
      return decideMessage(policy?.signMessage, request.message.bytes);
    case 'signTypedData':
      return decideTypedData(policy?.signTypedData ?? [], request.typedData, nowMs, transactions);
    case 'signAuthorization':
      return decideAuthorization(policy?.signAuthorization, request.authorization);
  }
}

function decideMessage(rule: MessagePolicy['signMessage'], bytes: Uint8Array): MessageDecision {
  if (!rule?.allow) return deny('the policy does not allow signMessage (set signMessage.allow)');
  const { prefixes, exact } = rule;
  if (prefixes === undefined && exact === undefined) return { allowed: true, ruleId: 'signMessage' };
  if (exact?.some((text) => equalBytes(toUtf8Bytes(text), bytes))) return { allowed: true, ruleId: 'signMessage.exact' };
  if (prefixes?.some((text) => startsWith(bytes, toUtf8Bytes(text)))) return { allowed: true, ruleId: 'signMessage.prefixes' };
  return deny('the message is neither one of signMessage.exact nor starts with one of signMessage.prefixes');
}

function decideTypedData(rules: readonly TypedDataRule[], data: TypedDataPayload, nowMs: number, transactions: TransactionRules | undefined): MessageDecision {
  if (rules.length === 0) return deny('the policy has no signTypedData rules');
  const reasons: string[] = [];
  for (const rule of rules) {
    const reason = typedDataMismatch(rule, data, nowMs);
    if (reason === undefined && rule.safeTransaction) return decideSafeTransaction(rule, data, transactions);
    if (reason === undefined) return { allowed: true, ruleId: rule.id };
    reasons.push(`${rule.id}: ${reason}`);
  }
  return deny(`no signTypedData rule matches (${reasons.slice(0, 5).join('; ')}${reasons.length > 5 ? '; ...' : ''})`);
}

/** Why the rule does not allow this typed data, or undefined when it does. */
function typedDataMismatch(rule: TypedDataRule, data: TypedDataPayload, nowMs: number): string | undefined {
  if (data.primaryType !== rule.primaryType) return `primaryType is ${data.primaryType}, not ${rule.primaryType}`;
  const { domain } = data;
  const wanted = rule.domain ?? {};
  if (wanted.name !== undefined && domain.name !== wanted.name) return `domain.name is ${show(domain.name)}, not ${JSON.stringify(wanted.name)}`;
  if (wanted.version !== undefined && domain.version !== wanted.version) return `domain.version is ${show(domain.version)}, not ${JSON.stringify(wanted.version)}`;
  if (wanted.chainId !== undefined && domain.chainId !== wanted.chainId) return `domain.chainId is ${show(domain.chainId)}, not ${wanted.chainId}`;
  if (wanted.verifyingContract !== undefined && !inList(domain.verifyingContract, wanted.verifyingContract)) {
    return `domain.verifyingContract ${show(domain.verifyingContract)} is not in the rule's list`;
  }
  if (rule.permit) return permitMismatch(rule.permit, data, nowMs);
  if (rule.permit2) return permit2Mismatch(rule.permit2, data, nowMs);
  return undefined;
}

/** A SafeTx that matched its rule's domain: decided as the transaction it makes the Safe send, never as a mere message. */
function decideSafeTransaction(rule: TypedDataRule, data: TypedDataPayload, transactions: TransactionRules | undefined): MessageDecision {
  const request = safeTransactionRequest(data);
  if (typeof request === 'string') return deny(`${rule.id}: ${request}`);
  if (!transactions) return deny(`${rule.id}: the SafeTx's transaction cannot be checked against the transaction rules here`);
  const decision = transactions(request);
  if (!decision.allowed) return deny(`${rule.id}: the SafeTx's transaction (to ${request.to}, value ${request.value}) is not allowed by the transaction rules: ${decision.reason}`);
  return { allowed: true, ruleId: `${rule.id}/${decision.ruleId}`, charges: decision.charges };
}

function permitMismatch(caps: PermitConditions, data: TypedDataPayload, nowMs: number): string | undefined {
  if (structFields(data, 'Permit') !== PERMIT_FIELDS) return 'the typed data is not an EIP-2612 Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)';
  const { spender, value, deadline } = data.message as { spender: string; value: bigint; deadline: bigint };
  // Stryker disable next-line ConditionalExpression: `value > undefined` is false as well
  if (caps.maxValue !== undefined && value > caps.maxValue) return `Permit.value ${value} exceeds the cap ${caps.maxValue}`;
  if (caps.spenders !== undefined && !inList(spender, caps.spenders)) return `Permit.spender ${spender} is not in the rule's list`;
  if (caps.maxDeadlineSeconds !== undefined && deadline > latest(nowMs, caps.maxDeadlineSeconds)) {
    return `Permit.deadline ${deadline} is more than ${caps.maxDeadlineSeconds} s from now`;
  }
  return undefined;
}

function permit2Mismatch(caps: Permit2Conditions, data: TypedDataPayload, nowMs: number): string | undefined {
  if (structFields(data, 'PermitSingle') !== PERMIT_SINGLE_FIELDS || structFields(data, 'PermitDetails') !== PERMIT_DETAILS_FIELDS) {
    return 'the typed data is not a Permit2 PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)';
  }
  const { details, spender, sigDeadline } = data.message as { details: { token: string; amount: bigint; expiration: bigint }; spender: string; sigDeadline: bigint };
  // Stryker disable next-line ConditionalExpression: `amount > undefined` is false as well
  if (caps.maxAmount !== undefined && details.amount > caps.maxAmount) return `PermitSingle.details.amount ${details.amount} exceeds the cap ${caps.maxAmount}`;
  if (caps.tokens !== undefined && !inList(details.token, caps.tokens)) return `PermitSingle.details.token ${details.token} is not in the rule's list`;
  if (caps.spenders !== undefined && !inList(spender, caps.spenders)) return `PermitSingle.spender ${spender} is not in the rule's list`;
  if (caps.maxDeadlineSeconds !== undefined) {
    const limit = latest(nowMs, caps.maxDeadlineSeconds);
    if (sigDeadline > limit) return `PermitSingle.sigDeadline ${sigDeadline} is more than ${caps.maxDeadlineSeconds} s from now`;
    if (details.expiration > limit) return `PermitSingle.details.expiration ${details.expiration} is more than ${caps.maxDeadlineSeconds} s from now`;
  }
  return undefined;
}

function decideAuthorization(rule: MessagePolicy['signAuthorization'], auth: { address: string; chainId: bigint }): MessageDecision {
  if (!rule) return deny('the policy does not allow signAuthorization (EIP-7702 delegation)');
  if (!inList(auth.address, rule.delegates)) return deny(`delegation to ${auth.address} is not allowed: it is not in signAuthorization.delegates`);
  if (auth.chainId === 0n && !rule.allowAnyChain) return deny('chainId 0 makes the authorization valid on every chain; the policy allows it only with signAuthorization.allowAnyChain');
  return { allowed: true, ruleId: 'signAuthorization' };
}

function inList(address: unknown, list: readonly string[]): boolean {
  if (typeof address !== 'string') return false;
  const wanted = getAddress(address);
  return list.some((entry) => getAddress(entry) === wanted);
}

function latest(nowMs: number, seconds: number): bigint {
  return BigInt(Math.floor(nowMs / 1000)) + BigInt(seconds);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  // Past the end of the bytes, bytes[i] is undefined: a longer prefix does not match.
  return prefix.every((byte, i) => bytes[i] === byte);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}

function show(value: unknown): string {
  return value === undefined ? 'absent' : typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
}

function deny(reason: string): MessageDecision {
  return { allowed: false, reason };
}

/** The `messages` section of a policy document, as JSON holds it (after the schema has accepted it). */
export interface MessagesDocument {
  readonly signMessage?: { readonly allow: boolean; readonly prefixes?: readonly string[]; readonly exact?: readonly string[] };
  readonly signTypedData?: readonly TypedDataRuleDocument[];
  readonly signAuthorization?: { readonly delegates: readonly string[]; readonly allowAnyChain?: boolean };
}

/** One signTypedData rule as written in the policy. */
export interface TypedDataRuleDocument {
  readonly id: string;
  readonly description?: string;
  readonly primaryType: string;
  readonly domain?: { readonly name?: string; readonly version?: string; readonly chainId?: number; readonly verifyingContract?: readonly string[] };
  readonly permit?: { readonly maxValue?: string; readonly spenders?: readonly string[]; readonly maxDeadlineSeconds?: number };
  readonly permit2?: { readonly maxAmount?: string; readonly spenders?: readonly string[]; readonly tokens?: readonly string[]; readonly maxDeadlineSeconds?: number };
  readonly unlimitedApprovalsTo?: readonly string[];
  readonly safeTransaction?: boolean;
}

/**
 * Checks what a schema cannot (checksums, amounts, rule ids, caps that fit their primaryType) and compiles the
 * `messages` section; reports each problem by its JSON path through `add`. `parseAmount` reads amount strings.
 */
export function compileMessagePolicy(
  document: MessagesDocument | undefined,
  path: string,
  add: (path: string, problem: string) => void,
  parseAmount: (text: string) => bigint,
): MessagePolicy {
  if (!document) return {};
  const address = (value: string, at: string): string => {
    try {
      return getAddress(value);
    } catch {
      // The schema accepts only 0x and 40 hex digits here: the value is short.
      add(at, `has an invalid EIP-55 checksum (${value}); copy the address again, or write it in lower case`);
      return value;
    }
  };
  const addresses = (values: readonly string[] | undefined, at: string) => values?.map((value, i) => address(value, `${at}[${i}]`));
  const amount = (value: string | undefined, at: string): bigint | undefined => {
    if (value === undefined) return undefined;
    try {
      return parseAmount(value);
    } catch (error) {
      add(at, (error as Error).message);
      return undefined;
    }
  };
  const ids = new Set<string>();
  const signTypedData = document.signTypedData?.map((rule, index): TypedDataRule => {
    const at = `${path}.signTypedData[${index}]`;
    if (ids.has(rule.id)) add(`${at}.id`, `"${rule.id}" is already the id of another signTypedData rule; ids must be unique (denials name them)`);
    ids.add(rule.id);
    if (rule.permit && rule.permit2) add(at, 'has both permit and permit2; a rule decodes one kind of permit');
    if (rule.permit && rule.primaryType !== 'Permit') add(`${at}.primaryType`, `must be "Permit" for a rule with permit caps (EIP-2612); got "${rule.primaryType}"`);
    if (rule.permit2 && rule.primaryType !== 'PermitSingle') add(`${at}.primaryType`, `must be "PermitSingle" for a rule with permit2 caps; got "${rule.primaryType}"`);
    if (rule.safeTransaction && rule.primaryType !== 'SafeTx') add(`${at}.primaryType`, `must be "SafeTx" for a rule with safeTransaction; got "${rule.primaryType}"`);
    if (rule.safeTransaction && (rule.permit || rule.permit2)) add(at, 'has safeTransaction and permit caps; a rule decodes one kind of typed data');
    if (rule.primaryType === 'SafeTx' && !rule.safeTransaction) add(`${at}.safeTransaction`, 'must be true for a SafeTx rule: a SafeTx authorizes a transaction, which the transaction rules and spending limits must decide on');
    const domain = rule.domain && {
      // Stryker disable next-line ConditionalExpression: an undefined name reads as none
      ...(rule.domain.name !== undefined && { name: rule.domain.name }),
      // Stryker disable next-line ConditionalExpression: an undefined version reads as none
      ...(rule.domain.version !== undefined && { version: rule.domain.version }),
      ...(rule.domain.chainId !== undefined && { chainId: BigInt(rule.domain.chainId) }),
      // Stryker disable next-line ConditionalExpression: addresses(undefined) is undefined, read as none
      ...(rule.domain.verifyingContract !== undefined && { verifyingContract: addresses(rule.domain.verifyingContract, `${at}.domain.verifyingContract`) }),
    };
    const permit = rule.permit && {
      maxValue: amount(rule.permit.maxValue, `${at}.permit.maxValue`),
      spenders: addresses(rule.permit.spenders, `${at}.permit.spenders`),
      maxDeadlineSeconds: rule.permit.maxDeadlineSeconds,
    };
    const permit2 = rule.permit2 && {
      maxAmount: amount(rule.permit2.maxAmount, `${at}.permit2.maxAmount`),
      spenders: addresses(rule.permit2.spenders, `${at}.permit2.spenders`),
      tokens: addresses(rule.permit2.tokens, `${at}.permit2.tokens`),
      maxDeadlineSeconds: rule.permit2.maxDeadlineSeconds,
    };
    const unlimitedApprovalsTo = addresses(rule.unlimitedApprovalsTo, `${at}.unlimitedApprovalsTo`);
    return {
      id: rule.id,
      primaryType: rule.primaryType,
      ...(domain && { domain }),
      ...(permit && { permit }),
      ...(permit2 && { permit2 }),
      ...(unlimitedApprovalsTo && { unlimitedApprovalsTo }),
      ...(rule.safeTransaction && { safeTransaction: true }),
    };
  });
  const authorization = document.signAuthorization;
  return {
    ...(document.signMessage && { signMessage: document.signMessage }),
    ...(signTypedData && { signTypedData }),
    ...(authorization && {
      // The schema requires delegates.
      signAuthorization: { delegates: authorization.delegates.map((value, i) => address(value, `${path}.signAuthorization.delegates[${i}]`)), allowAnyChain: authorization.allowAnyChain ?? false },
    }),
  };
}
