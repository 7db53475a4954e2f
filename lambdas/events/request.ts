import { getAddress, type AccessList, type TransactionRequest } from 'ethers';
import { idempotencyKeyProblem } from '../policy-state/idempotency-key';
import { SignerError } from '../signer/errors';
import { describeName, describeValue as describe, jsonLongerThan } from './describe';
import { validateEip1559TransactionRequest, validateLegacyTransactionRequest, validateStatusRequest } from './schema-validator';

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

// The fields each object of a transaction event accepts, as events.schema.json lists them (a test checks that
// they agree); named in the message for a field that is not one of them.
const TRANSACTION_FIELDS = ['type', 'to', 'from', 'value', 'data', 'nonce', 'gasLimit', 'chainId', 'accessList', 'maxFeePerGas', 'maxPriorityFeePerGas', 'gasPrice', 'sig', 'signature'];
/** The fields events.schema.json accepts in each object of a transaction event, by its place. */
export const ACCEPTED_FIELDS = {
  statusRequest: ['operation'],
  eip1559TransactionRequest: ['operation', 'idempotencyKey', 'transaction'],
  legacyTransactionRequest: ['operation', 'idempotencyKey', 'replayProtection', 'transaction'],
  transaction: TRANSACTION_FIELDS,
  accessListEntry: ['address', 'storageKeys'],
} as const;
const FEE_FIELDS: Record<SignerKind, readonly string[]> = { eip1559: ['maxFeePerGas', 'maxPriorityFeePerGas'], legacy: ['gasPrice'] };
// The largest integer each integer field takes, and how a message names it.
const UINT_LIMITS = {
  value: [UINT256_MAX, '2^256-1'],
  nonce: [MAX_NONCE, '2^53-1'],
  gasLimit: [UINT64_MAX, '2^64-1'],
  chainId: [UINT256_MAX, '2^256-1'],
  maxFeePerGas: [UINT256_MAX, '2^256-1'],
  maxPriorityFeePerGas: [UINT256_MAX, '2^256-1'],
  gasPrice: [UINT256_MAX, '2^256-1'],
} as const;
type UintField = keyof typeof UINT_LIMITS;
const REQUIRED_UINTS: Record<SignerKind, ReadonlySet<string>> = {
  eip1559: new Set(['nonce', 'gasLimit', 'maxFeePerGas', 'maxPriorityFeePerGas']),
  legacy: new Set(['nonce', 'gasLimit', 'gasPrice']),
};

/** One error of a validator generated from events.schema.json (lambdas/events/schema-validator.ts). */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: { readonly missingProperty?: string; readonly additionalProperty?: string };
}
/** A generated validator: it sets `errors` whenever it returns false; only then are they read. */
export type SchemaValidator = ((data: unknown) => boolean) & { errors: readonly SchemaError[] };
const VALIDATORS = {
  status: validateStatusRequest as SchemaValidator,
  eip1559: validateEip1559TransactionRequest as SchemaValidator,
  legacy: validateLegacyTransactionRequest as SchemaValidator,
};

/** Validates a Lambda event completely before anything else happens, or throws InvalidRequestError listing every problem. */
export function parseSignerEvent(event: unknown, kind: SignerKind, chainId: bigint): SignerRequest {
  if (jsonLongerThan(event, MAX_EVENT_LENGTH)) {
    throw new InvalidRequestError([{ field: 'event', problem: `is larger than ${MAX_EVENT_LENGTH / 1024} KiB of JSON; no valid request is that large` }]);
  }
  if (!isRecord(event)) {
    throw new InvalidRequestError([{ field: 'event', problem: 'must be a JSON object such as {"operation": "status"}' }]);
  }
  const issues = new IssueList();
  const operation = event.operation;
  if (operation === 'status') {
    schemaIssues(VALIDATORS.status, event, kind, issues);
    return finish(issues, { operation });
  }
  if (operation !== 'sign' && operation !== 'check') {
    issues.add({ field: 'operation', problem: `must be "status", "sign", "check" (the signing policy's decision, without signing), "signMessage", "signTypedData" or "signAuthorization", got ${describe(operation)}` });
    throw issues.error();
  }
  const failed = schemaIssues(VALIDATORS[kind], event, kind, issues);
  if (failed.has('/transaction')) throw issues.error();
  // What the schema let through has its shape: a failed field is skipped below (it is an issue already).
  const replayProtection = event.replayProtection !== false;
  const add = (field: string, problem: string) => issues.add({ field, problem });
  const transaction = parseTransaction(event.transaction as Record<string, unknown>, kind, chainId, replayProtection, failed, add);
  const idempotencyKey = typeof event.idempotencyKey === 'string' ? event.idempotencyKey : undefined;
  return finish(issues, { operation, transaction, replayProtection, ...(idempotencyKey !== undefined && { idempotencyKey }) });
}

/**
 * Checks the event against its schema, adds an issue for each bad field (one per field, named by its path and
 * worded for a caller), and returns the JSON pointers of those fields.
 */
function schemaIssues(validate: SchemaValidator, event: Record<string, unknown>, kind: SignerKind, issues: IssueList): Set<string> {
  const failed = new Set<string>();
  if (validate(event)) return failed;
  let cut: string | undefined; // a list over its length: what is inside it is not reported
  for (const error of validate.errors) {
    const name = error.params.missingProperty ?? error.params.additionalProperty;
    const pointer = name === undefined ? error.instancePath : `${error.instancePath}/${name}`;
    if (failed.has(pointer) || (cut !== undefined && pointer.startsWith(`${cut}/`))) continue;
    failed.add(pointer);
    if (error.keyword === 'maxItems') cut = pointer;
    const leaf = error.params.additionalProperty === undefined ? name : describeName(error.params.additionalProperty);
    const field = [fieldPath(error.instancePath), leaf].filter(Boolean).join('.');
    const problem = error.keyword === 'additionalProperties'
      ? `is not an accepted field; accepted: ${acceptedAt(error.instancePath, kind).join(', ')}`
      : problemAt(pointer, valueAt(event, pointer), kind);
    issues.add({ field, problem });
  }
  return failed;
}

function acceptedAt(pointer: string, kind: SignerKind): readonly string[] {
  if (pointer === '/transaction') return ACCEPTED_FIELDS.transaction;
  if (pointer.startsWith('/transaction/accessList/')) return ACCEPTED_FIELDS.accessListEntry;
  return ACCEPTED_FIELDS[kind === 'legacy' ? 'legacyTransactionRequest' : 'eip1559TransactionRequest'];
}

/** What a caller is told about the bad value at `pointer` (a field the schema refused, or a missing one). */
function problemAt(pointer: string, value: unknown, kind: SignerKind): string {
  const path = pointer.split('/').slice(1);
  const [top, name, index, inner, keyIndex] = path;
  if (top === 'idempotencyKey') return String(idempotencyKeyProblem(value));
  if (top === 'replayProtection') return `must be true or false, got ${describe(value)}`;
  if (name === undefined) return `must be a JSON object with the transaction's fields, got ${describe(value)}`;
  if (name === 'to' || name === 'from') return `must be an address: 0x and 40 hex digits; got ${describe(value)}`;
  if (name === 'data') return dataProblem(value);
  if (name === 'type') return `must be ${kind === 'eip1559' ? '2' : '0 or 1'} for the ${kind === 'eip1559' ? 'EIP-1559' : 'legacy'} signer, or omitted; got ${describe(value)}`;
  if (name === 'sig' || name === 'signature') return 'is a signature: send the unsigned transaction (a signature of null, as in ethers\' toJSON, is ignored)';
  if (name === 'accessList') return accessListProblem(value, index, inner, keyIndex);
  if (FEE_FIELDS[kind === 'eip1559' ? 'legacy' : 'eip1559'].includes(name)) {
    return kind === 'eip1559'
      ? 'is a legacy fee field; this Lambda signs EIP-1559 (type 2) transactions: use maxFeePerGas and maxPriorityFeePerGas, or the legacy signer'
      : 'is an EIP-1559 fee field; this Lambda signs legacy (type 0, or type 1 with accessList) transactions: use gasPrice, or the EIP-1559 signer';
  }
  if (value == null && REQUIRED_UINTS[kind].has(name)) return `is required: ${INTEGER_FORMS}`;
  return uintProblem(value);
}

function accessListProblem(value: unknown, index: string | undefined, inner: string | undefined, keyIndex: string | undefined): string {
  if (index === undefined) {
    return Array.isArray(value)
      ? `has ${value.length} entries; at most ${MAX_ACCESS_LIST_ENTRIES} are accepted`
      : `must be an array of {"address": "0x…", "storageKeys": ["0x…32 bytes"]}; got ${describe(value)}`;
  }
  if (inner === undefined) return `must be an object {"address": "0x…", "storageKeys": [...]}; got ${describe(value)}`;
  if (inner === 'address') return `must be an address: 0x and 40 hex digits; got ${describe(value)}`;
  if (keyIndex === undefined) return `must be an array of 32-byte 0x-hex strings; got ${describe(value)}`;
  return `must be a 32-byte 0x-hex string (66 characters); got ${describe(value)}`;
}

function dataProblem(value: unknown): string {
  if (typeof value !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) return `must be 0x-prefixed hex with an even number of digits; got ${describe(value)}`;
  return `is ${(value.length - 2) / 2} bytes; at most ${MAX_DATA_BYTES} bytes are accepted (nodes do not relay larger transactions)`;
}

const INTEGER_FORMS = 'a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string';

function uintProblem(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `must be an integer, got ${describe(value)}`;
    if (value < 0) return `must not be negative, got ${describe(value)}`;
    return 'is a JSON number above 2^53-1, which JSON parsers round; send it as a decimal or 0x-hex string';
  }
  if (typeof value === 'string' && value.startsWith('-')) return `must not be negative, got ${describe(value)}`;
  return `must be ${INTEGER_FORMS}; got ${describe(value)}`;
}

/** `/transaction/accessList/0/address` → `transaction.accessList[0].address` (the schema's field names are identifiers). */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => (/^[0-9]+$/.test(token) ? `[${token}]` : `.${token}`))
    .join('')
    .slice(1);
}

function valueAt(event: Record<string, unknown>, pointer: string): unknown {
  let value: unknown = event;
  for (const token of pointer.split('/').slice(1)) value = isRecord(value) || Array.isArray(value) ? (value as Record<string, unknown>)[token] : undefined;
  return value;
}

function parseTransaction(
  tx: Record<string, unknown>,
  kind: SignerKind,
  chainId: bigint,
  replayProtection: boolean,
  failed: ReadonlySet<string>,
  add: (field: string, problem: string) => void,
): TransactionRequest {
  const ok = (name: string) => !failed.has(`/transaction/${name}`);
  const field = (name: string) => `transaction.${name}`;
  const accessList = Array.isArray(tx.accessList) ? parseAccessList(tx.accessList, failed, add) : undefined;
  const type = ok('type') ? transactionType(tx.type, kind, Array.isArray(tx.accessList), add) : kind === 'eip1559' ? 2 : 0;
  if (!replayProtection && type === 1) {
    add('replayProtection', 'cannot be false for a transaction with an accessList (type 1 always carries a chain id)');
  }
  const to = ok('to') ? checksummed(tx.to, field('to'), add) : undefined;
  const from = ok('from') ? checksummed(tx.from, field('from'), add) : undefined;
  const data = typeof tx.data === 'string' && ok('data') ? tx.data.toLowerCase() : '0x';
  if (tx.to == null && ok('data') && data === '0x') {
    add(field('to'), 'is required unless the transaction creates a contract, which needs non-empty data (the init code)');
  }
  const uint = (name: UintField) => (ok(name) ? boundedUint(tx[name], name, add) : undefined);
  const value = uint('value') ?? 0n;
  const nonce = uint('nonce');
  const gasLimit = uint('gasLimit');
  if (gasLimit !== undefined && gasLimit < MIN_GAS_LIMIT) {
    add(field('gasLimit'), `must be at least ${MIN_GAS_LIMIT} (the intrinsic gas of any transaction), got ${gasLimit}`);
  }
  const requested = uint('chainId');
  if (requested !== undefined && requested !== chainId) {
    add(field('chainId'), `is ${requested}, but this signer is configured for chain ${chainId} (ETH_NETWORK); omit chainId or set it to ${chainId}`);
  }

  const request: TransactionRequest = {
    type,
    chainId: replayProtection ? chainId : 0n,
    nonce: Number(nonce),
    gasLimit,
    value,
    data,
    ...(to !== undefined && { to }),
    ...(from !== undefined && { from }),
    ...(accessList !== undefined && { accessList }),
  };
  if (kind === 'eip1559') {
    const maxFeePerGas = uint('maxFeePerGas');
    const maxPriorityFeePerGas = uint('maxPriorityFeePerGas');
    if (maxFeePerGas !== undefined && maxPriorityFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) {
      add(field('maxPriorityFeePerGas'), `(${maxPriorityFeePerGas}) must not exceed maxFeePerGas (${maxFeePerGas})`);
    }
    return { ...request, maxFeePerGas, maxPriorityFeePerGas };
  }
  return { ...request, gasPrice: uint('gasPrice') };
}

/** The transaction type: the one the event names (2, or 0 or 1, as the schema allows) or the one it implies. */
function transactionType(value: unknown, kind: SignerKind, hasAccessList: boolean, add: (field: string, problem: string) => void): number {
  if (kind === 'eip1559') return 2;
  if (value === 0 && hasAccessList) add('transaction.type', 'is 0, but an accessList needs type 1 (EIP-2930); omit type or set it to 1');
  return value === 1 || hasAccessList ? 1 : 0;
}

/** An integer the schema accepted (a safe JSON number, a decimal or a 0x-hex string), within its field's limit. */
function boundedUint(value: unknown, name: UintField, add: (field: string, problem: string) => void): bigint | undefined {
  if (value == null) return undefined;
  const parsed = BigInt(value as number | string);
  const [max, maxLabel] = UINT_LIMITS[name];
  if (parsed <= max) return parsed;
  const reason = name !== 'nonce' ? `must be at most ${maxLabel}`
    : parsed <= UINT64_MAX ? 'nonces above 2^53-1 are not supported (ethers v6 limit; EIP-2681 allows up to 2^64-1, no account reaches it)'
      : 'is beyond 2^64-1 (EIP-2681)';
  return void add(`transaction.${name}`, `${reason}; got ${describe(value)}`);
}

/** An address the schema accepted (0x and 40 hex digits), checksummed; a mixed-case one must have a valid EIP-55 checksum. */
function checksummed(value: unknown, field: string, add: (field: string, problem: string) => void): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return getAddress(value);
  } catch {
    return void add(field, `has an invalid EIP-55 checksum (${describe(value)}), so it may be mistyped; copy the address again from its source`);
  }
}

function parseAccessList(entries: readonly unknown[], failed: ReadonlySet<string>, add: (field: string, problem: string) => void): AccessList | undefined {
  if (failed.has('/transaction/accessList')) return undefined;
  const list: AccessList = [];
  entries.forEach((entry, index) => {
    const at = `/transaction/accessList/${index}`;
    if (failed.has(at) || failed.has(`${at}/address`) || !isRecord(entry)) return;
    const address = checksummed(entry.address, `transaction.accessList[${index}].address`, add);
    const keys = Array.isArray(entry.storageKeys) ? (entry.storageKeys as unknown[]) : [];
    if (address !== undefined) list.push({ address, storageKeys: keys.map((key) => String(key).toLowerCase()) });
  });
  return list;
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
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound only limits memory
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
