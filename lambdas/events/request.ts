import { getAddress, type AccessList, type TransactionRequest } from 'ethers';
import { idempotencyKeyProblem } from '../policy-state/idempotency-key';
import { SignerError } from '../signer/errors';
import { describeName, describeValue as describe, jsonLongerThan } from './describe';

/** Which Lambda reads the event: they accept different transaction types and fee fields. */
export type SignerKind = 'eip1559' | 'legacy';

/** A validated event. */
export type SignerRequest =
  | { readonly operation: 'status' }
  | {
      readonly operation: 'sign' | 'check';
      readonly transaction: TransactionRequest;
      readonly replayProtection: boolean;
      /** The caller's name for this request: a retry with the same key and transaction gets the first response back. */
      readonly idempotencyKey?: string;
    };

/** One thing wrong with the event: which field, and what was wrong with it. */
export interface RequestIssue {
  readonly field: string;
  readonly problem: string;
}

const UINT256_MAX = 2n ** 256n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_NONCE = BigInt(Number.MAX_SAFE_INTEGER); // ethers v6 holds nonces in JS numbers
const MIN_GAS_LIMIT = 21000n; // the intrinsic gas of the simplest transaction
const MAX_DATA_BYTES = 128 * 1024; // geth and reth do not relay transactions larger than 128 KiB
const MAX_ACCESS_LIST_ENTRIES = 1024;
/**
 * The largest event, as JSON characters: the largest valid transaction (128 KiB of data is 256 KiB of hex, plus
 * an access list) fits; anything larger is refused before any field is read.
 */
export const MAX_EVENT_LENGTH = 512 * 1024;
/** Issues listed in an error message (and kept on the error); the rest are counted. */
export const MAX_LISTED_ISSUES = 20;
/** The longest InvalidRequestError message, in characters (all ASCII: also bytes). */
export const MAX_MESSAGE_LENGTH = 4000;

const COMMON_FIELDS = ['type', 'to', 'from', 'value', 'data', 'nonce', 'gasLimit', 'chainId', 'accessList'];
const FEE_FIELDS: Record<SignerKind, string[]> = {
  eip1559: ['maxFeePerGas', 'maxPriorityFeePerGas'],
  legacy: ['gasPrice'],
};
const OTHER_KIND: Record<SignerKind, SignerKind> = { eip1559: 'legacy', legacy: 'eip1559' };
// ethers' Transaction#toJSON() carries `sig: null` for an unsigned transaction.
const SIGNATURE_FIELDS = ['sig', 'signature'];

/** Validates a Lambda event completely before anything else happens, or throws InvalidRequestError listing every problem. */
export function parseSignerEvent(event: unknown, kind: SignerKind, chainId: bigint): SignerRequest {
  const issues = new IssueList();
  const add = (field: string, problem: string) => issues.add({ field, problem });

  if (jsonLongerThan(event, MAX_EVENT_LENGTH)) {
    throw new InvalidRequestError([{ field: 'event', problem: `is larger than ${MAX_EVENT_LENGTH / 1024} KiB of JSON; no valid request is that large` }]);
  }
  if (!isRecord(event)) {
    throw new InvalidRequestError([{ field: 'event', problem: 'must be a JSON object such as {"operation": "status"}' }]);
  }
  const operation = event.operation;
  if (operation === 'status') {
    rejectUnknown(event, ['operation'], '', add);
    return finish(issues, { operation });
  }
  if (operation !== 'sign' && operation !== 'check') {
    add('operation', `must be "status", "sign", "check" (the signing policy's decision, without signing), "signMessage", "signTypedData" or "signAuthorization", got ${describe(operation)}`);
    throw issues.error();
  }

  rejectUnknown(event, kind === 'legacy' ? ['operation', 'transaction', 'replayProtection', 'idempotencyKey'] : ['operation', 'transaction', 'idempotencyKey'], '', add);
  const keyProblem = idempotencyKeyProblem(event.idempotencyKey);
  if (keyProblem) add('idempotencyKey', keyProblem);
  let replayProtection = true;
  if (event.replayProtection != null) {
    if (typeof event.replayProtection !== 'boolean') add('replayProtection', `must be true or false, got ${describe(event.replayProtection)}`);
    else replayProtection = event.replayProtection;
  }
  if (!isRecord(event.transaction)) {
    add('transaction', `must be a JSON object with the transaction's fields, got ${describe(event.transaction)}`);
    throw issues.error();
  }
  const transaction = parseTransaction(event.transaction, kind, chainId, replayProtection, add);
  const idempotencyKey = typeof event.idempotencyKey === 'string' ? event.idempotencyKey : undefined;
  return finish(issues, { operation, transaction, replayProtection, ...(idempotencyKey !== undefined && { idempotencyKey }) });
}

function parseTransaction(
  tx: Record<string, unknown>,
  kind: SignerKind,
  chainId: bigint,
  replayProtection: boolean,
  add: (field: string, problem: string) => void,
): TransactionRequest {
  const field = (name: string) => `transaction.${name}`;
  for (const name of FEE_FIELDS[OTHER_KIND[kind]]) {
    if (tx[name] != null) {
      add(field(name), kind === 'eip1559'
        ? 'is a legacy fee field; this Lambda signs EIP-1559 (type 2) transactions: use maxFeePerGas and maxPriorityFeePerGas, or the legacy signer'
        : 'is an EIP-1559 fee field; this Lambda signs legacy (type 0, or type 1 with accessList) transactions: use gasPrice, or the EIP-1559 signer');
    }
  }
  rejectUnknown(tx, [...COMMON_FIELDS, ...FEE_FIELDS.eip1559, ...FEE_FIELDS.legacy, ...SIGNATURE_FIELDS], 'transaction.', add);
  for (const name of SIGNATURE_FIELDS) {
    if (tx[name] != null) add(field(name), 'is a signature: send the unsigned transaction (a signature of null, as in ethers\' toJSON, is ignored)');
  }

  const accessList = tx.accessList == null ? undefined : parseAccessList(tx.accessList, field('accessList'), add);
  const type = parseType(tx.type, kind, accessList !== undefined, add);
  // Stryker disable next-line ConditionalExpression: the EIP-1559 signer's type is always 2, so `type === 1` alone implies the legacy signer
  if (kind === 'legacy' && !replayProtection && type === 1) {
    add('replayProtection', 'cannot be false for a transaction with an accessList (type 1 always carries a chain id)');
  }

  const to = tx.to === undefined || tx.to === null ? undefined : parseAddress(tx.to, field('to'), add);
  const from = tx.from == null ? undefined : parseAddress(tx.from, field('from'), add);
  const data = tx.data == null ? '0x' : parseData(tx.data, field('data'), add);
  if ((tx.to === undefined || tx.to === null) && data === '0x') {
    add(field('to'), 'is required unless the transaction creates a contract, which needs non-empty data (the init code)');
  }
  const value = tx.value == null ? 0n : parseUint(tx.value, field('value'), UINT256_MAX, '2^256-1', add);
  const nonce = parseRequiredUint(tx, 'nonce', MAX_NONCE, '2^53-1', add);
  const gasLimit = parseRequiredUint(tx, 'gasLimit', UINT64_MAX, '2^64-1', add);
  // Stryker disable next-line ConditionalExpression: a type guard; `undefined < 21000n` is false, so the comparison alone decides the same
  if (gasLimit !== undefined && gasLimit < MIN_GAS_LIMIT) {
    add(field('gasLimit'), `must be at least ${MIN_GAS_LIMIT} (the intrinsic gas of any transaction), got ${gasLimit}`);
  }

  if (tx.chainId != null) {
    const requested = parseUint(tx.chainId, field('chainId'), UINT256_MAX, '2^256-1', add);
    if (requested !== undefined && requested !== chainId) {
      add(field('chainId'), `is ${requested}, but this signer is configured for chain ${chainId} (ETH_NETWORK); omit chainId or set it to ${chainId}`);
    }
  }

  const request: TransactionRequest = {
    type,
    chainId: kind === 'legacy' && !replayProtection ? 0n : chainId,
    // Stryker disable next-line ConditionalExpression: a missing nonce is an issue, so finish() throws and this request is never returned
    nonce: nonce === undefined ? undefined : Number(nonce),
    gasLimit,
    value,
    data,
    ...(to !== undefined && { to }),
    ...(from !== undefined && { from }),
    ...(accessList !== undefined && { accessList }),
  };
  if (kind === 'eip1559') {
    const maxFeePerGas = parseRequiredUint(tx, 'maxFeePerGas', UINT256_MAX, '2^256-1', add);
    const maxPriorityFeePerGas = parseRequiredUint(tx, 'maxPriorityFeePerGas', UINT256_MAX, '2^256-1', add);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: type guards; a bigint compared with undefined is false, so the comparison alone decides the same
    if (maxFeePerGas !== undefined && maxPriorityFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) {
      add(field('maxPriorityFeePerGas'), `(${maxPriorityFeePerGas}) must not exceed maxFeePerGas (${maxFeePerGas})`);
    }
    return { ...request, maxFeePerGas, maxPriorityFeePerGas };
  }
  return { ...request, gasPrice: parseRequiredUint(tx, 'gasPrice', UINT256_MAX, '2^256-1', add) };
}

function parseType(value: unknown, kind: SignerKind, hasAccessList: boolean, add: (field: string, problem: string) => void): number {
  const allowed = kind === 'eip1559' ? [2] : [0, 1];
  const implied = kind === 'eip1559' ? 2 : hasAccessList ? 1 : 0;
  if (value == null) return implied;
  // Stryker disable next-line ConditionalExpression: a type guard; includes() uses SameValueZero, so no non-number is among the allowed numbers anyway
  if (typeof value !== 'number' || !allowed.includes(value)) {
    add('transaction.type', `must be ${allowed.join(' or ')} for the ${kind === 'eip1559' ? 'EIP-1559' : 'legacy'} signer, or omitted; got ${describe(value)}`);
    return implied;
  }
  // Stryker disable next-line ConditionalExpression: only the legacy signer gets here with a type other than 2, so `value === 0` implies it
  if (kind === 'legacy' && value === 0 && hasAccessList) {
    add('transaction.type', 'is 0, but an accessList needs type 1 (EIP-2930); omit type or set it to 1');
  }
  // Stryker disable next-line ConditionalExpression: only the legacy signer gets here with a type other than 2, so `value === 1` implies it
  return kind === 'legacy' && value === 1 ? 1 : implied;
}

function parseRequiredUint(
  tx: Record<string, unknown>,
  name: string,
  max: bigint,
  maxLabel: string,
  add: (field: string, problem: string) => void,
): bigint | undefined {
  if (tx[name] == null) {
    add(`transaction.${name}`, `is required: ${INTEGER_FORMS}`);
    return undefined;
  }
  return parseUint(tx[name], `transaction.${name}`, max, maxLabel, add);
}

const INTEGER_FORMS = 'a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string';

/** Parses an unsigned integer given as a safe JSON number, a decimal string or a 0x-hex string. */
function parseUint(value: unknown, field: string, max: bigint, maxLabel: string, add: (field: string, problem: string) => void): bigint | undefined {
  let parsed: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return void add(field, `must be an integer, got ${describe(value)}`);
    if (value < 0) return void add(field, `must not be negative, got ${describe(value)}`);
    if (!Number.isSafeInteger(value)) {
      return void add(field, `is a JSON number above 2^53-1, which JSON parsers round; send it as a decimal or 0x-hex string`);
    }
    parsed = BigInt(value);
  } else if (typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value)) {
    parsed = BigInt(value);
  } else if (typeof value === 'string' && /^0x[0-9a-fA-F]+$/.test(value)) {
    parsed = BigInt(value);
  } else if (typeof value === 'string' && /^-/.test(value)) {
    return void add(field, `must not be negative, got ${describe(value)}`);
  } else {
    return void add(field, `must be ${INTEGER_FORMS}; got ${describe(value)}`);
  }
  if (parsed > max) {
    // Stryker disable next-line ConditionalExpression: the nonce is the only field whose limit is below 2^64-1, so for any other field over its limit `parsed <= UINT64_MAX` is false
    const reason = field === 'transaction.nonce' && parsed <= UINT64_MAX
      ? 'nonces above 2^53-1 are not supported (ethers v6 limit; EIP-2681 allows up to 2^64-1, no account reaches it)'
      : field === 'transaction.nonce' ? 'is beyond 2^64-1 (EIP-2681)' : `must be at most ${maxLabel}`;
    return void add(field, `${reason}; got ${describe(value)}`);
  }
  return parsed;
}

function parseAddress(value: unknown, field: string, add: (field: string, problem: string) => void): string | undefined {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    return void add(field, `must be an address: 0x and 40 hex digits; got ${describe(value)}`);
  }
  try {
    return getAddress(value);
  } catch {
    return void add(field, `has an invalid EIP-55 checksum (${describe(value)}), so it may be mistyped; copy the address again from its source`);
  }
}

function parseData(value: unknown, field: string, add: (field: string, problem: string) => void): string | undefined {
  if (typeof value !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) {
    return void add(field, `must be 0x-prefixed hex with an even number of digits; got ${describe(value)}`);
  }
  const bytes = (value.length - 2) / 2;
  if (bytes > MAX_DATA_BYTES) return void add(field, `is ${bytes} bytes; at most ${MAX_DATA_BYTES} bytes are accepted (nodes do not relay larger transactions)`);
  return value.toLowerCase();
}

function parseAccessList(value: unknown, field: string, add: (field: string, problem: string) => void): AccessList | undefined {
  if (!Array.isArray(value)) return void add(field, `must be an array of {"address": "0x…", "storageKeys": ["0x…32 bytes"]}; got ${describe(value)}`);
  if (value.length > MAX_ACCESS_LIST_ENTRIES) return void add(field, `has ${value.length} entries; at most ${MAX_ACCESS_LIST_ENTRIES} are accepted`);
  const list: AccessList = [];
  value.forEach((entry: unknown, index) => {
    const at = `${field}[${index}]`;
    if (!isRecord(entry)) return add(at, `must be an object {"address": "0x…", "storageKeys": [...]}; got ${describe(entry)}`);
    rejectUnknown(entry, ['address', 'storageKeys'], `${at}.`, add);
    const address = parseAddress(entry.address, `${at}.address`, add);
    const keys = entry.storageKeys ?? [];
    if (!Array.isArray(keys)) return add(`${at}.storageKeys`, `must be an array of 32-byte 0x-hex strings; got ${describe(keys)}`);
    const storageKeys: string[] = [];
    keys.forEach((key: unknown, keyIndex) => {
      if (typeof key === 'string' && /^0x[0-9a-fA-F]{64}$/.test(key)) storageKeys.push(key.toLowerCase());
      else add(`${at}.storageKeys[${keyIndex}]`, `must be a 32-byte 0x-hex string (66 characters); got ${describe(key)}`);
    });
    // Stryker disable next-line ConditionalExpression: a bad address is an issue, so finish() throws and this list is never returned
    if (address !== undefined) list.push({ address, storageKeys });
  });
  return list;
}

function rejectUnknown(object: Record<string, unknown>, known: string[], prefix: string, add: (field: string, problem: string) => void): void {
  for (const name of Object.keys(object)) {
    if (!known.includes(name)) add(`${prefix}${describeName(name)}`, `is not an accepted field; accepted: ${known.join(', ')}`);
  }
}

function finish<T extends SignerRequest>(issues: IssueList, request: T): T {
  if (issues.count > 0) throw issues.error();
  return request;
}

/** Collects issues, keeping the first MAX_LISTED_ISSUES and counting the rest (100,000 bad fields cost no memory). */
class IssueList {
  readonly listed: RequestIssue[] = [];
  count = 0;

  add(issue: RequestIssue): void {
    this.count++;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound only limits memory; InvalidRequestError keeps the first MAX_LISTED_ISSUES either way
    if (this.listed.length < MAX_LISTED_ISSUES) this.listed.push(issue);
  }

  error(): InvalidRequestError {
    return new InvalidRequestError(this.listed, this.count);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The event is invalid; nothing was sent to KMS. `issues` lists the first bad fields (at most
 * MAX_LISTED_ISSUES), `issueCount` counts them all; the message stays under MAX_MESSAGE_LENGTH.
 */
export class InvalidRequestError extends SignerError {
  override readonly name = 'InvalidRequestError';
  readonly issues: readonly RequestIssue[];
  readonly issueCount: number;

  constructor(issues: readonly RequestIssue[], issueCount = issues.length) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    super(requestErrorMessage(listed, issueCount));
    this.issues = listed;
    this.issueCount = issueCount;
  }
}

function requestErrorMessage(issues: readonly RequestIssue[], count: number): string {
  const head = `Invalid request (${count} problem${count === 1 ? '' : 's'}): `;
  const parts: string[] = [];
  let length = head.length;
  for (const { field, problem } of issues) {
    const part = `${field} ${problem}`;
    // Keep room for the "; and N more problems" tail.
    if (length + part.length + 2 > MAX_MESSAGE_LENGTH - 40) break;
    parts.push(part);
    length += part.length + 2;
  }
  const more = count - parts.length;
  return `${head}${parts.join('; ')}${more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : ''}`;
}
