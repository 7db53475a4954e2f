// Events for the signing operations other than transactions: signMessage (EIP-191), signTypedData (EIP-712)
// and signAuthorization (EIP-7702). Validated completely before anything is hashed or sent to KMS.
import { getAddress, getBytes, toUtf8Bytes } from 'ethers';
import { InvalidRequestError, type RequestIssue, type SchemaValidator } from './request';
import { describeName, describeValue as describe } from './describe';
import { validateSignAuthorizationRequest, validateSignMessageRequest, validateSignTypedDataRequest } from './schema-validator';
import { hasLoneSurrogate, parseTypedData, type AddIssue } from './typed-data';
import { isAmbiguousMessage } from '../signer/personal-message';
import type { AuthorizationTuple, MessageRequest, PersonalMessage } from '../policy/message';

/** The operations this module reads. */
export const MESSAGE_OPERATIONS = ['signMessage', 'signTypedData', 'signAuthorization'] as const;
export type MessageOperation = (typeof MESSAGE_OPERATIONS)[number];

/** The fields events.schema.json accepts in each message event (a test checks that they agree); named for one that is not. */
export const ACCEPTED_MESSAGE_FIELDS: Readonly<Record<MessageOperation, readonly string[]>> = {
  signMessage: ['operation', 'message', 'encoding'],
  signTypedData: ['operation', 'domain', 'types', 'primaryType', 'message'],
  signAuthorization: ['operation', 'address', 'nonce', 'chainId'],
};
const VALIDATORS: Readonly<Record<MessageOperation, SchemaValidator>> = {
  signMessage: validateSignMessageRequest as SchemaValidator,
  signTypedData: validateSignTypedDataRequest as SchemaValidator,
  signAuthorization: validateSignAuthorizationRequest as SchemaValidator,
};

const MAX_MESSAGE_BYTES = 64 * 1024;
// EIP-7702: an authorization's nonce must be below 2^64-1 (clients skip one that is not).
const MAX_AUTHORIZATION_NONCE = 2n ** 64n - 2n;
// An event with 100,000 unknown fields must not make a 100,000-line error.
const MAX_UNKNOWN_FIELDS = 20;
const UINT_FORMS = 'a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string';

/** Whether the event asks for one of the message operations (so parseMessageEvent, not parseSignerEvent, reads it). */
export function isMessageEvent(event: unknown): event is Record<string, unknown> & { operation: MessageOperation } {
  return typeof event === 'object' && event !== null && !Array.isArray(event) && (MESSAGE_OPERATIONS as readonly unknown[]).includes((event as Record<string, unknown>).operation);
}

/**
 * Validates a message-operation event, or throws InvalidRequestError listing every problem. `chainId` is the
 * signer's chain. The shape is checked against events.schema.json first; the code below words what the schema
 * refused and checks what a schema cannot say (checksums, the signer's chain, bounds above 2^53-1, UTF-8 lengths,
 * EIP-712 type graphs).
 */
export function parseMessageEvent(event: Record<string, unknown> & { operation: MessageOperation }, chainId: bigint): MessageRequest {
  const issues: RequestIssue[] = [];
  // Every message is printable ASCII whatever the event holds: one place, so that no error path can miss it.
  const add: AddIssue = (field, problem) => void issues.push({ field: printableAscii(field), problem: printableAscii(problem) });
  const failed = schemaFailures(event, add);
  const request = parseOperation(event, chainId, failed, add);
  // Fail closed: what the schema refuses is never signed, even if no check below words why.
  if (issues.length === 0) {
    for (const pointer of [...failed].slice(0, MAX_UNKNOWN_FIELDS)) add(describeName(pointer.slice(1).replaceAll('/', '.')), `does not match events.schema.json (#/definitions/${event.operation}Request)`);
  }
  if (issues.length > 0 || !request) throw new InvalidRequestError(issues);
  return request;
}

/** Checks the event against its schema: reports unknown fields, and returns the JSON pointers of the fields it refused. */
function schemaFailures(event: Record<string, unknown> & { operation: MessageOperation }, add: AddIssue): Set<string> {
  const failed = new Set<string>();
  const validate = VALIDATORS[event.operation];
  if (validate(event)) return failed;
  let unknown = 0;
  for (const { instancePath, params } of validate.errors) {
    const name = params.missingProperty ?? params.additionalProperty;
    failed.add(name === undefined ? instancePath : `${instancePath}/${name}`);
    // Only an additionalProperties error names an additionalProperty.
    const unknownField = params.additionalProperty;
    if (unknownField !== undefined && instancePath === '' && ++unknown <= MAX_UNKNOWN_FIELDS) {
      add(describeName(unknownField), `is not accepted by ${event.operation}; accepted: ${ACCEPTED_MESSAGE_FIELDS[event.operation].join(', ')}`);
    }
  }
  return failed;
}

function parseOperation(event: Record<string, unknown> & { operation: MessageOperation }, chainId: bigint, failed: ReadonlySet<string>, add: AddIssue): MessageRequest | undefined {
  switch (event.operation) {
    case 'signMessage': {
      const message = parsePersonalMessage(event.message, event.encoding, failed, add);
      return message && { operation: 'signMessage', message };
    }
    case 'signTypedData': {
      // parseTypedData words what the schema refused inside the payload, by its EIP-712 path.
      const typedData = parseTypedData(event, chainId, add);
      return typedData && { operation: 'signTypedData', typedData };
    }
    case 'signAuthorization': {
      const authorization = parseAuthorization(event, chainId, failed, add);
      return authorization && { operation: 'signAuthorization', authorization };
    }
  }
}

function parsePersonalMessage(value: unknown, encoding: unknown, failed: ReadonlySet<string>, add: AddIssue): PersonalMessage | undefined {
  if (failed.has('/encoding')) {
    return void add('encoding', `must be "utf8" (sign the text) or "hex" (sign the bytes the 0x-hex string spells), or omitted; got ${describe(encoding)}`);
  }
  if (failed.has('/message')) return void add('message', personalMessageProblem(value, encoding));
  // The schema let through a string: 0x-hex of at most 64 KiB with encoding "hex", else at most 65,536 characters.
  const text = value as string;
  if (encoding === 'hex') return { bytes: getBytes(text) };
  if (hasLoneSurrogate(text)) return void add('message', 'contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding');
  const bytes = toUtf8Bytes(text);
  if (bytes.length > MAX_MESSAGE_BYTES) return void add('message', `is ${bytes.length} bytes of UTF-8; at most ${MAX_MESSAGE_BYTES} are accepted`);
  return { bytes, text };
}

/** Why the schema refused a personal message. */
function personalMessageProblem(value: unknown, encoding: unknown): string {
  if (typeof value !== 'string') return `must be a string: UTF-8 text, or 0x-prefixed hex with "encoding": "hex" for raw bytes; got ${describe(value)}`;
  if (encoding === 'hex') {
    if (!/^0x[0-9a-fA-F]*$/.test(value)) return `must be 0x-prefixed hex when encoding is "hex" ("0x" is the empty message); got ${describe(value)}`;
    if (value.length % 2 === 1) return `has an odd number of hex digits (${value.length - 2}), so it spells no whole bytes (eth-sig-util would sign a leading 0, cast refuses it); write every byte as two digits`;
    return `is ${(value.length - 2) / 2} bytes; at most ${MAX_MESSAGE_BYTES} are accepted`;
  }
  // One meaning per message: wallets and libraries disagree on a string that looks like hex (ethers and viem
  // sign its text, personal_sign and cast its bytes, "0x" and odd digits differ again), so the caller says which.
  if (encoding === undefined && isAmbiguousMessage(value)) {
    return `looks like 0x-hex, which tools read either as text or as bytes; add "encoding": "hex" to sign the bytes it spells, or "encoding": "utf8" to sign the text (${value.length} characters, not echoed)`;
  }
  return `is ${Buffer.byteLength(value)} bytes of UTF-8; at most ${MAX_MESSAGE_BYTES} are accepted`;
}

function parseAuthorization(event: Record<string, unknown>, chainId: bigint, failed: ReadonlySet<string>, add: AddIssue): AuthorizationTuple | undefined {
  const address = failed.has('/address')
    ? void add('address', `must be the address of the contract to delegate to: 0x and 40 hex digits; got ${describe(event.address)}`)
    : checksummed(event.address as string, add);
  const nonce = event.nonce === undefined
    ? void add('nonce', "is required: the account's nonce when the authorization is processed (if the account itself sends the type 4 transaction, its nonce + 1), below 2^64-1")
    : boundedUint(event.nonce, 'nonce', failed, MAX_AUTHORIZATION_NONCE, '2^64-2 (EIP-7702 requires nonce < 2^64-1; clients skip an authorization with a larger one)', add);
  let authChainId: bigint | undefined = chainId;
  if (event.chainId !== undefined) {
    authChainId = boundedUint(event.chainId, 'chainId', failed, 2n ** 256n - 1n, '2^256-1', add);
    if (authChainId !== undefined && authChainId !== 0n && authChainId !== chainId) {
      add('chainId', `is ${authChainId}, but this signer is configured for chain ${chainId} (ETH_NETWORK); use ${chainId}, or 0 for every chain if the signing policy allows it`);
      authChainId = undefined;
    }
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: each undefined part added an issue
  return address && nonce !== undefined && authChainId !== undefined ? { address, nonce, chainId: authChainId } : undefined;
}

/** An address the schema accepted (0x and 40 hex digits), checksummed; a mixed-case one must have a valid EIP-55 checksum. */
function checksummed(address: string, add: AddIssue): string | undefined {
  try {
    return getAddress(address);
  } catch {
    return void add('address', `has an invalid EIP-55 checksum (${address}), so it may be mistyped; copy the address again from its source`);
  }
}

/** An integer the schema accepted (a safe JSON number, or a decimal or 0x-hex string of at most 80 characters), within `max`. */
function boundedUint(value: unknown, field: string, failed: ReadonlySet<string>, max: bigint, maxLabel: string, add: AddIssue): bigint | undefined {
  if (failed.has(`/${field}`)) {
    // Stryker disable next-line EqualityOperator: 0 passes the schema, so it never gets here
    return void add(field, Number.isInteger(value) && (value as number) > 0
      ? 'is a JSON number above 2^53-1, which JSON parsers round; send it as a decimal or 0x-hex string'
      : `must be ${UINT_FORMS}; got ${describe(value)}`);
  }
  const parsed = BigInt(value as number | string);
  if (parsed > max) return void add(field, `must be at most ${maxLabel}; got ${parsed}`);
  return parsed;
}

/** Escapes every character outside printable ASCII as \uXXXX: error messages reach terminals, logs and JSON consumers. */
export function printableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
