// Events for the signing operations other than transactions: signMessage (EIP-191), signTypedData (EIP-712)
// and signAuthorization (EIP-7702). Validated completely before anything is hashed or sent to KMS.
import { getAddress, getBytes, toUtf8Bytes } from 'ethers';
import { InvalidRequestError, type RequestIssue } from './request';
import { describeName, describeValue as describe } from './describe';
import { hasLoneSurrogate, parseTypedData, type AddIssue } from './typed-data';
import { isAmbiguousMessage } from '../signer/personal-message';
import type { AuthorizationTuple, MessageRequest, PersonalMessage } from '../policy/message';

/** The operations this module reads. */
export const MESSAGE_OPERATIONS = ['signMessage', 'signTypedData', 'signAuthorization'] as const;
export type MessageOperation = (typeof MESSAGE_OPERATIONS)[number];

const MAX_MESSAGE_BYTES = 64 * 1024;
// EIP-7702: an authorization's nonce must be below 2^64-1 (clients skip one that is not).
const MAX_AUTHORIZATION_NONCE = 2n ** 64n - 2n;
const HEX_BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;

/** Whether the event asks for one of the message operations (so parseMessageEvent, not parseSignerEvent, reads it). */
export function isMessageEvent(event: unknown): event is Record<string, unknown> & { operation: MessageOperation } {
  return isRecord(event) && (MESSAGE_OPERATIONS as readonly unknown[]).includes(event.operation);
}

/** Validates a message-operation event, or throws InvalidRequestError listing every problem. `chainId` is the signer's chain. */
export function parseMessageEvent(event: Record<string, unknown> & { operation: MessageOperation }, chainId: bigint): MessageRequest {
  const issues: RequestIssue[] = [];
  // Every message is printable ASCII whatever the event holds: one place, so that no error path can miss it.
  const add: AddIssue = (field, problem) => void issues.push({ field: printableAscii(field), problem: printableAscii(problem) });
  const request = parseOperation(event, chainId, add);
  if (issues.length > 0 || !request) throw new InvalidRequestError(issues);
  return request;
}

function parseOperation(event: Record<string, unknown> & { operation: MessageOperation }, chainId: bigint, add: AddIssue): MessageRequest | undefined {
  switch (event.operation) {
    case 'signMessage': {
      rejectUnknown(event, ['operation', 'message', 'encoding'], add);
      const message = parsePersonalMessage(event.message, event.encoding, add);
      return message && { operation: 'signMessage', message };
    }
    case 'signTypedData': {
      rejectUnknown(event, ['operation', 'domain', 'types', 'primaryType', 'message'], add);
      const typedData = parseTypedData(event, chainId, add);
      return typedData && { operation: 'signTypedData', typedData };
    }
    case 'signAuthorization': {
      rejectUnknown(event, ['operation', 'address', 'nonce', 'chainId'], add);
      const authorization = parseAuthorization(event, chainId, add);
      return authorization && { operation: 'signAuthorization', authorization };
    }
  }
}

function parsePersonalMessage(value: unknown, encoding: unknown, add: AddIssue): PersonalMessage | undefined {
  if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'hex') {
    add('encoding', `must be "utf8" (sign the text) or "hex" (sign the bytes the 0x-hex string spells), or omitted; got ${describe(encoding)}`);
    return undefined;
  }
  if (typeof value !== 'string') {
    return void add('message', `must be a string: UTF-8 text, or 0x-prefixed hex with "encoding": "hex" for raw bytes; got ${describe(value)}`);
  }
  // One meaning per message: wallets and libraries disagree on a string that looks like hex (ethers and viem
  // sign its text, personal_sign and cast its bytes, "0x" and odd digits differ again), so the caller says which.
  if (encoding === undefined && isAmbiguousMessage(value)) {
    return void add('message', `looks like 0x-hex, which tools read either as text or as bytes; add "encoding": "hex" to sign the bytes it spells, or "encoding": "utf8" to sign the text (${value.length} characters, not echoed)`);
  }
  if (encoding === 'hex') {
    if (!/^0x[0-9a-fA-F]*$/.test(value)) return void add('message', `must be 0x-prefixed hex when encoding is "hex" ("0x" is the empty message); got ${describe(value)}`);
    if (!HEX_BYTES.test(value)) return void add('message', `has an odd number of hex digits (${value.length - 2}), so it spells no whole bytes (eth-sig-util would sign a leading 0, cast refuses it); write every byte as two digits`);
    if ((value.length - 2) / 2 > MAX_MESSAGE_BYTES) return void add('message', `is ${(value.length - 2) / 2} bytes; at most ${MAX_MESSAGE_BYTES} are accepted`);
    return { bytes: getBytes(value) };
  }
  if (hasLoneSurrogate(value)) return void add('message', 'contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding');
  const bytes = toUtf8Bytes(value);
  if (bytes.length > MAX_MESSAGE_BYTES) return void add('message', `is ${bytes.length} bytes of UTF-8; at most ${MAX_MESSAGE_BYTES} are accepted`);
  return { bytes, text: value };
}

function parseAuthorization(event: Record<string, unknown>, chainId: bigint, add: AddIssue): AuthorizationTuple | undefined {
  let address: string | undefined;
  if (typeof event.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(event.address)) {
    add('address', `must be the address of the contract to delegate to: 0x and 40 hex digits; got ${describe(event.address)}`);
  } else {
    try {
      address = getAddress(event.address);
    } catch {
      add('address', `has an invalid EIP-55 checksum (${event.address}), so it may be mistyped; copy the address again from its source`);
    }
  }
  const nonce = event.nonce === undefined
    ? void add('nonce', "is required: the account's nonce when the authorization is processed (if the account itself sends the type 4 transaction, its nonce + 1), below 2^64-1")
    : parseUint(event.nonce, 'nonce', MAX_AUTHORIZATION_NONCE, '2^64-2 (EIP-7702 requires nonce < 2^64-1; clients skip an authorization with a larger one)', add);
  let authChainId: bigint | undefined = chainId;
  if (event.chainId !== undefined) {
    authChainId = parseUint(event.chainId, 'chainId', 2n ** 256n - 1n, '2^256-1', add);
    if (authChainId !== undefined && authChainId !== 0n && authChainId !== chainId) {
      add('chainId', `is ${authChainId}, but this signer is configured for chain ${chainId} (ETH_NETWORK); use ${chainId}, or 0 for every chain if the signing policy allows it`);
      authChainId = undefined;
    }
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: each missing part was reported as an issue, so parseMessageEvent throws whatever is returned here
  if (address === undefined || nonce === undefined || authChainId === undefined) return undefined;
  return { address, nonce, chainId: authChainId };
}

/** Parses an unsigned integer given as a safe JSON number, a decimal string or a 0x-hex string. */
function parseUint(value: unknown, field: string, max: bigint, maxLabel: string, add: AddIssue): bigint | undefined {
  let parsed: bigint | undefined;
  // Stryker disable next-line ConditionalExpression: Number.isSafeInteger is false for every non-number; the typeof only narrows the type
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) parsed = BigInt(value);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: Number.isInteger is false for every non-number, and 0 is a safe integer read by the branch above
  else if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    return void add(field, 'is a JSON number above 2^53-1, which JSON parsers round; send it as a decimal or 0x-hex string');
  } else if (typeof value === 'string' && value.length <= 80 && (/^(0|[1-9][0-9]*)$/.test(value) || /^0x[0-9a-fA-F]+$/.test(value))) {
    parsed = BigInt(value);
  }
  if (parsed === undefined) {
    return void add(field, `must be a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string; got ${describe(value)}`);
  }
  if (parsed > max) return void add(field, `must be at most ${maxLabel}; got ${parsed}`);
  return parsed;
}

function rejectUnknown(object: Record<string, unknown>, known: string[], add: AddIssue): void {
  // At most 20 reported: an event with 100,000 unknown fields must not make a 100,000-line error.
  for (const name of Object.keys(object).filter((key) => !known.includes(key)).slice(0, 20)) {
    add(describeName(name), `is not accepted by ${String(object.operation)}; accepted: ${known.join(', ')}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  // Stryker disable next-line ConditionalExpression: a Lambda event is JSON; its non-objects (strings, numbers, booleans) have no operation property either
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Escapes every character outside printable ASCII as \uXXXX: error messages reach terminals, logs and JSON consumers. */
export function printableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
