// What the policy sees of a message operation: the validated request, after events/ has checked every field.
import type { TypedDataDomain, TypedDataField } from 'ethers';

/** Typed data that passed every check, with values normalised for hashing (integers as bigint, hex lower-case). */
export interface TypedDataPayload {
  readonly domain: TypedDataDomain;
  /** The EIP712Domain fields in the order they are hashed (as declared, or derived from `domain`). */
  readonly domainFields: readonly TypedDataField[];
  /** The struct types reachable from `primaryType` (EIP712Domain and unused types left out). */
  readonly types: Readonly<Record<string, readonly TypedDataField[]>>;
  readonly primaryType: string;
  readonly message: Readonly<Record<string, unknown>>;
}

/** Fields as "name:type,…", the form in which a struct is compared with a standard definition. */
export function fieldList(fields: readonly TypedDataField[]): string {
  return fields.map((field) => `${field.name}:${field.type}`).join(',');
}

/** The fields of one of `data`'s struct types as "name:type,…" (fieldList), or undefined if it has no such type. */
export function structFields(data: TypedDataPayload, type: string): string | undefined {
  const fields = Object.hasOwn(data.types, type) ? data.types[type] : undefined;
  return fields && fieldList(fields);
}

/** An EIP-191 personal message: the bytes signed, and the text when it was given as text. */
export interface PersonalMessage {
  readonly bytes: Uint8Array;
  readonly text?: string;
}

/** An EIP-7702 authorization tuple, without its signature. */
export interface AuthorizationTuple {
  /** The contract whose code the account will run. */
  readonly address: string;
  readonly nonce: bigint;
  /** The signer's chain, or 0 (valid on every chain). */
  readonly chainId: bigint;
}

/** A validated event for one of the message operations. */
export type MessageRequest =
  | { readonly operation: 'signMessage'; readonly message: PersonalMessage }
  | { readonly operation: 'signTypedData'; readonly typedData: TypedDataPayload }
  | { readonly operation: 'signAuthorization'; readonly authorization: AuthorizationTuple };
