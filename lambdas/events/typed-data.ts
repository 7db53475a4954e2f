// EIP-712 typed data as eth_signTypedData_v4 takes it ({ domain, types, primaryType, message }), checked
// completely before anything is hashed: every bad type or value is reported by its path.
import { concat, getAddress, keccak256, TypedDataEncoder, type TypedDataDomain, type TypedDataField } from 'ethers';
import type { TypedDataPayload } from '../policy/message';
import { describeName } from './describe';

/** Reports one problem with a field, named by its path. */
export type AddIssue = (field: string, problem: string) => void;

// Bounds that keep a hostile payload from costing much CPU or memory; real permits, orders and SafeTx fit easily.
const MAX_TYPES = 64;
const MAX_FIELDS_PER_TYPE = 64;
const MAX_ARRAY_LENGTH = 1024;
const MAX_VALUES = 10_000;
const MAX_DEPTH = 16;
const MAX_STRING_BYTES = 64 * 1024;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
// Struct names without $: eth-sig-util (MetaMask) reads a type name as /^\w*/ and would drop the rest from encodeType.
const STRUCT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const INTEGER_TYPE = /^(u?)int([1-9][0-9]{0,2})$/;
const FIXED_BYTES_TYPE = /^bytes([1-9][0-9]?)$/;
const FIELD_TYPE = /^([A-Za-z_$][A-Za-z0-9_$]{0,63})((?:\[[0-9]*\]){0,4})$/;

// The domain fields EIP-712 defines, in its order, with their types.
const DOMAIN_FIELDS: ReadonlyMap<string, string> = new Map([
  ['name', 'string'],
  ['version', 'string'],
  ['chainId', 'uint256'],
  ['verifyingContract', 'address'],
  ['salt', 'bytes32'],
]);

/** Whether `type` is an EIP-712 atomic or dynamic type (not a struct, not an array). */
export function isElementaryType(type: string): boolean {
  const integer = INTEGER_TYPE.exec(type);
  if (integer) return Number(integer[2]) % 8 === 0 && Number(integer[2]) <= 256;
  const bytes = FIXED_BYTES_TYPE.exec(type);
  if (bytes) return Number(bytes[1]) <= 32;
  return type === 'address' || type === 'bool' || type === 'string' || type === 'bytes';
}

/**
 * Checks `{ domain, types, primaryType, message }` (fields of `input`, reported under `prefix`) and returns the
 * normalised payload, or undefined after reporting every problem. `chainId` is the signer's chain: a domain
 * for another chain is refused, as a transaction for another chain is.
 */
export function parseTypedData(input: Record<string, unknown>, chainId: bigint, add: AddIssue, prefix = ''): TypedDataPayload | undefined {
  // Every check leaves its part undefined after reporting a problem: a payload is returned only if none was.
  const types = parseTypes(input.types, `${prefix}types`, add);
  // The domain is checked even when a struct type is bad, so that one reply names every problem.
  const domainFields = isRecord(input.types) ? parseDomainFields(input.types, input.domain, `${prefix}types.EIP712Domain`, add) : undefined;
  const domain = domainFields && parseDomain(input.domain, domainFields, chainId, `${prefix}domain`, add);

  const primaryType = input.primaryType;
  if (typeof primaryType !== 'string' || primaryType === '') {
    add(`${prefix}primaryType`, `must be the name of the struct type being signed, one of the keys of types; got ${describe(primaryType)}`);
    return undefined;
  }
  if (!types) return undefined;
  // parseTypes leaves EIP712Domain out of types, so it is refused here too.
  const primaryFields = types.get(primaryType);
  if (!primaryFields) {
    const names = [...types.keys()];
    add(`${prefix}primaryType`, `must name a struct type declared in types (${names.length > 0 ? names.slice(0, 10).join(', ') : 'none declared'}); got ${describe(primaryType)}`);
    return undefined;
  }
  const reachable = reachableTypes(primaryType, primaryFields, types, `${prefix}types`, add);
  if (!reachable) return undefined;
  const budget = { values: 0 };
  const message = checkValue(primaryType, input.message, `${prefix}message`, reachable, budget, 0, add);
  if (!domain || message === undefined) return undefined;
  return {
    domain,
    domainFields: domainFields as TypedDataField[], // defined: the domain was read with it
    types: Object.fromEntries(reachable),
    primaryType,
    message: message as Record<string, unknown>,
  };
}

/** The EIP-712 digest: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(primaryType, message)), as eth_signTypedData_v4 computes it. */
export function typedDataDigest(payload: TypedDataPayload): string {
  return keccak256(concat(['0x1901', domainSeparator(payload), structHash(payload)]));
}

/** hashStruct(EIP712Domain, domain), with the domain fields in the order they were declared. */
export function domainSeparator({ domain, domainFields }: TypedDataPayload): string {
  return TypedDataEncoder.hashStruct('EIP712Domain', { EIP712Domain: [...domainFields] }, domain as Record<string, unknown>);
}

/** hashStruct(primaryType, message). */
export function structHash({ types, primaryType, message }: TypedDataPayload): string {
  const mutable = Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, [...fields]]));
  // Only the types reachable from primaryType are left, so ethers' deduced primary type is ours.
  return TypedDataEncoder.from(mutable).hashStruct(primaryType, message as Record<string, unknown>);
}

function parseTypes(value: unknown, field: string, add: AddIssue): Map<string, TypedDataField[]> | undefined {
  if (!isRecord(value)) {
    return void add(field, `must be an object mapping each struct type name to its fields, e.g. {"Mail": [{"name": "contents", "type": "string"}]}; got ${describe(value)}`);
  }
  const names = Object.keys(value).filter((name) => name !== 'EIP712Domain');
  if (names.length > MAX_TYPES) return void add(field, `declares ${names.length} types; at most ${MAX_TYPES} are accepted`);
  const declared = new Set(names);
  const types = new Map<string, TypedDataField[]>();
  let ok = true;
  for (const name of names) {
    const at = `${field}.${describeName(name)}`;
    if (IDENTIFIER.test(name) && name.includes('$')) {
      add(at, 'contains $, which MetaMask (eth-sig-util) drops from the type encoding, so its signature would not verify there; rename the type with letters, digits and _ only');
      ok = false;
      continue;
    }
    if (!STRUCT_NAME.test(name)) {
      add(at, 'is not a valid type name: letters, digits and _, not starting with a digit, at most 64 characters');
      ok = false;
      continue;
    }
    if (isElementaryType(name) || name === 'uint' || name === 'int') {
      add(at, `is the name of an elementary type and cannot name a struct`);
      ok = false;
      continue;
    }
    const fields = parseFields(value[name], at, (type) => declared.has(type) && type !== name ? 'struct' : undefined, add);
    if (fields) types.set(name, fields);
    else ok = false;
  }
  return ok ? types : undefined;
}

function parseFields(value: unknown, at: string, structKind: (type: string) => 'struct' | undefined, add: AddIssue): TypedDataField[] | undefined {
  if (!Array.isArray(value)) return void add(at, `must be an array of fields [{"name": "...", "type": "..."}]; got ${describe(value)}`);
  if (value.length > MAX_FIELDS_PER_TYPE) return void add(at, `has ${value.length} fields; at most ${MAX_FIELDS_PER_TYPE} are accepted`);
  const fields: TypedDataField[] = [];
  const seen = new Set<string>();
  let ok = true;
  value.forEach((entry: unknown, index) => {
    const fieldAt = `${at}[${index}]`;
    if (!isRecord(entry)) {
      ok = false;
      return add(fieldAt, `must be {"name": "...", "type": "..."}; got ${describe(entry)}`);
    }
    for (const key of Object.keys(entry)) {
      if (key !== 'name' && key !== 'type') {
        ok = false;
        add(`${fieldAt}.${describeName(key)}`, 'is not accepted; a field has only name and type');
      }
    }
    const { name, type } = entry;
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      ok = false;
      add(`${fieldAt}.name`, `must be an identifier (letters, digits, _ and $, not starting with a digit); got ${describe(name)}`);
    } else if (seen.has(name)) {
      ok = false;
      add(`${fieldAt}.name`, `duplicates the field ${JSON.stringify(name)}; field names must be unique within a type`);
    } else seen.add(name);
    const problem = fieldTypeProblem(type, structKind, at.slice(at.lastIndexOf('.') + 1));
    if (problem) {
      ok = false;
      add(`${fieldAt}.type`, problem);
    }
    // A name or type that is not a string was reported (ok is false), so the fields are discarded.
    fields.push({ name, type } as TypedDataField);
  });
  return ok ? fields : undefined;
}

function fieldTypeProblem(type: unknown, structKind: (type: string) => 'struct' | undefined, owner: string): string | undefined {
  const match = typeof type === 'string' ? FIELD_TYPE.exec(type) : null;
  if (!match) {
    return `must be an EIP-712 type: an elementary type (uint8 to uint256, int8 to int256, bytes1 to bytes32, bytes, string, bool, address), a declared struct type, or either followed by [] or [N]; got ${describe(type)}`;
  }
  // Every group takes part in a match (the dimensions as the empty string), so none is undefined.
  const base = match[1] as string;
  for (const dimension of (match[2] as string).matchAll(/\[([0-9]*)\]/g)) {
    const length = dimension[1] as string;
    // The length is digits only (FIELD_TYPE), or none for a dynamic array, which neither test refuses: 0, a leading
    // zero and above the bound are what is left to refuse.
    if (length.startsWith('0') || Number(length) > MAX_ARRAY_LENGTH) {
      return `has a fixed array length ${length}; it must be from 1 to ${MAX_ARRAY_LENGTH}`;
    }
  }
  if (base === 'uint' || base === 'int') return `uses ${base}, which EIP-712 hashes by its canonical name: write ${base}256`;
  if (isElementaryType(base) || structKind(base)) return undefined;
  if (base === owner) return `refers to its own type ${owner}: recursive types are not supported`;
  if (INTEGER_TYPE.test(base)) return `${base} is not an integer type: the width must be a multiple of 8 from 8 to 256`;
  if (FIXED_BYTES_TYPE.test(base)) return `${base} is not a bytes type: fixed-size bytes are bytes1 to bytes32`;
  if (base === 'EIP712Domain') return 'refers to EIP712Domain, which only describes the domain and cannot be a field';
  return `refers to the unknown type ${JSON.stringify(base)}: declare it in types, or use an elementary type`;
}

/** The struct types primaryType depends on (itself included), or undefined after reporting a recursive type. */
function reachableTypes(
  primaryType: string,
  primaryFields: TypedDataField[],
  types: Map<string, TypedDataField[]>,
  field: string,
  add: AddIssue,
): Map<string, TypedDataField[]> | undefined {
  const reachable = new Map<string, TypedDataField[]>();
  const path = new Set<string>(); // the types being visited, in order
  const visit = (name: string, fields: TypedDataField[]): boolean => {
    if (path.has(name)) {
      const order = [...path];
      add(`${field}.${name}`, `is recursive (${[...order.slice(order.indexOf(name)), name].join(' -> ')}): recursive types are not supported`);
      return false;
    }
    // Each type is visited once: a chain of types each used twice would otherwise cost 2^64 visits.
    if (reachable.has(name)) return true;
    path.add(name);
    for (const { type } of fields) {
      const base = baseType(type);
      const inner = types.get(base);
      if (inner && !visit(base, inner)) return false;
    }
    path.delete(name);
    reachable.set(name, fields);
    return true;
  };
  return visit(primaryType, primaryFields) ? reachable : undefined;
}

function parseDomainFields(types: Record<string, unknown>, domain: unknown, field: string, add: AddIssue): TypedDataField[] | undefined {
  if (!Object.hasOwn(types, 'EIP712Domain')) {
    // Verifiers disagree on the domain type when it is left out: ethers and viem derive it from the domain's fields,
    // MetaMask's eth-sig-util (V4) hashes an empty EIP712Domain(). One meaning per payload: the caller declares it.
    const present = isRecord(domain) ? [...DOMAIN_FIELDS].filter(([name]) => Object.hasOwn(domain, name)) : [];
    const suggestion = present.map(([name, type]) => `{"name": "${name}", "type": "${type}"}`).join(', ');
    return void add(field, `is required: without it ethers and viem derive the domain type from the domain's fields but MetaMask (eth-sig-util V4) hashes an empty EIP712Domain(), so the signature would verify in some tools and not others; declare it${present.length > 0 ? `, here [${suggestion}]` : ''}`);
  }
  const fields = parseFields(types.EIP712Domain, field, () => undefined, add);
  if (!fields) return undefined;
  let ok = true;
  fields.forEach(({ name, type }, index) => {
    const expected = DOMAIN_FIELDS.get(name);
    if (expected === undefined) {
      ok = false;
      add(`${field}[${index}].name`, `is ${JSON.stringify(name)}; EIP-712 domain fields are ${[...DOMAIN_FIELDS.keys()].join(', ')}`);
    } else if (type !== expected) {
      ok = false;
      add(`${field}[${index}].type`, `must be ${expected} for the domain field ${name}; got ${describe(type)}`);
    }
  });
  return ok ? fields : undefined;
}

function parseDomain(value: unknown, fields: readonly TypedDataField[], chainId: bigint, field: string, add: AddIssue): TypedDataDomain | undefined {
  if (!isRecord(value)) return void add(field, `must be an object with some of ${[...DOMAIN_FIELDS.keys()].join(', ')}; got ${describe(value)}`);
  const declared = new Set(fields.map((f) => f.name));
  let ok = true;
  for (const key of Object.keys(value)) {
    if (!declared.has(key)) {
      ok = false;
      add(`${field}.${describeName(key)}`, DOMAIN_FIELDS.has(key)
        ? 'is not declared in types.EIP712Domain, so it would not be signed; declare it or leave it out'
        : `is not an EIP-712 domain field; accepted: ${[...DOMAIN_FIELDS.keys()].join(', ')}`);
    }
  }
  const domain: Record<string, unknown> = {};
  for (const { name, type } of fields) {
    if (!Object.hasOwn(value, name)) {
      ok = false;
      add(`${field}.${name}`, `is declared in types.EIP712Domain but missing: a ${type}`);
      continue;
    }
    // Domain fields have elementary types (parseDomainFields): no structs, arrays or value budget.
    const checked = checkElementary(type, value[name], `${field}.${name}`, add);
    if (checked === undefined) ok = false;
    else domain[name] = checked;
  }
  if (typeof domain.chainId === 'bigint' && domain.chainId !== chainId) {
    ok = false;
    add(`${field}.chainId`, `is ${domain.chainId}, but this signer is configured for chain ${chainId} (ETH_NETWORK)`);
  }
  return ok ? (domain as TypedDataDomain) : undefined;
}

/** Checks one value against its EIP-712 type and returns it normalised, or undefined after reporting why not. */
function checkValue(
  type: string,
  value: unknown,
  path: string,
  types: Map<string, TypedDataField[]>,
  budget: { values: number },
  depth: number,
  add: AddIssue,
): unknown {
  if (++budget.values > MAX_VALUES) {
    if (budget.values === MAX_VALUES + 1) add(path, `is beyond the ${MAX_VALUES}th value of the message; smaller typed data is accepted`);
    return undefined;
  }
  if (depth > MAX_DEPTH) return void add(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (type.endsWith(']')) {
    // An array of its last dimension: uint8[2][] is a dynamic array of uint8[2].
    const open = type.lastIndexOf('[');
    const element = type.slice(0, open);
    const length = type.slice(open + 1, -1);
    if (!Array.isArray(value)) return void add(path, `must be an array (${type}); got ${describe(value)}`);
    if (length !== '' && value.length !== Number(length)) return void add(path, `must have exactly ${length} elements (${type}); got ${value.length}`);
    if (value.length > MAX_ARRAY_LENGTH) return void add(path, `has ${value.length} elements; at most ${MAX_ARRAY_LENGTH} are accepted`);
    const items = value.map((item: unknown, index) => checkValue(element, item, `${path}[${index}]`, types, budget, depth + 1, add));
    return items.includes(undefined) ? undefined : items;
  }
  const fields = types.get(type);
  if (fields) {
    if (!isRecord(value)) return void add(path, `must be an object of type ${type}; got ${describe(value)}`);
    let ok = true;
    const known = new Set(fields.map((f) => f.name));
    for (const key of Object.keys(value)) {
      if (!known.has(key)) {
          ok = false;
        add(`${path}.${describeName(key)}`, `is not a field of ${type}, so it would not be signed; ${type} has ${[...known].join(', ') || 'no fields'}`);
      }
    }
    const entries: Array<[string, unknown]> = [];
    for (const { name, type: fieldType } of fields) {
      if (!Object.hasOwn(value, name)) {
          ok = false;
        add(`${path}.${name}`, `is missing: ${type}.${name} is a ${fieldType}`);
        continue;
      }
      const checked = checkValue(fieldType, value[name], `${path}.${name}`, types, budget, depth + 1, add);
        if (checked === undefined) ok = false;
      else entries.push([name, checked]);
    }
    // fromEntries defines own properties, so a field named __proto__ stays a field.
    return ok ? Object.fromEntries(entries) : undefined;
  }
  return checkElementary(type, value, path, add);
}

function checkElementary(type: string, value: unknown, path: string, add: AddIssue): unknown {
  const integer = INTEGER_TYPE.exec(type);
  if (integer) {
    const signed = integer[1] === '';
    const bits = BigInt(integer[2] as string); // the width group takes part in every match
    const parsed = parseInteger(value);
    if (parsed === undefined) {
      return void add(path, `must be ${signed ? 'an' : 'a non-negative'} integer (${type}) as a JSON number (safe integer), a decimal string${signed ? ' (may start with -)' : ''} or a 0x-hex string; got ${describe(value)}`);
    }
    const min = signed ? -(2n ** (bits - 1n)) : 0n;
    const max = signed ? 2n ** (bits - 1n) - 1n : 2n ** bits - 1n;
    if (parsed < min || parsed > max) return void add(path, `is ${parsed}, which does not fit ${type} (${min} to ${signed ? `2^${bits - 1n}-1` : `2^${bits}-1`})`);
    return parsed;
  }
  const fixed = FIXED_BYTES_TYPE.exec(type);
  if (fixed) {
    const size = Number(fixed[1]);
    if (typeof value !== 'string' || !new RegExp(`^0x[0-9a-fA-F]{${size * 2}}$`).test(value)) {
      return void add(path, `must be exactly ${size} bytes (${type}) as 0x and ${size * 2} hex digits; got ${describe(value)}`);
    }
    return value.toLowerCase();
  }
  switch (type) {
    case 'address':
      if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(value)) return void add(path, `must be an address: 0x and 40 hex digits; got ${describe(value)}`);
      try {
        return getAddress(value);
      } catch {
        return void add(path, `has an invalid EIP-55 checksum (${value}), so it may be mistyped; copy the address again from its source`);
      }
    case 'bool':
      if (typeof value !== 'boolean') return void add(path, `must be true or false (bool); got ${describe(value)}`);
      return value;
    case 'string':
      if (typeof value !== 'string') return void add(path, `must be a string; got ${describe(value)}`);
      if (hasLoneSurrogate(value)) return void add(path, 'contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding');
      if (Buffer.byteLength(value) > MAX_STRING_BYTES) return void add(path, `is longer than ${MAX_STRING_BYTES} bytes`);
      return value;
  }
  // bytes: the one type left, as fieldTypeProblem admitted only elementary types and declared structs.
  if (typeof value !== 'string' || !/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) return void add(path, `must be bytes as 0x-prefixed hex with an even number of digits; got ${describe(value)}`);
  if ((value.length - 2) / 2 > MAX_STRING_BYTES) return void add(path, `is longer than ${MAX_STRING_BYTES} bytes`);
  return value.toLowerCase();
}

function parseInteger(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (typeof value !== 'string' || value.length > 80) return undefined;
  if (/^-?(0|[1-9][0-9]*)$/.test(value) && value !== '-0') return BigInt(value);
  if (/^0x[0-9a-fA-F]+$/.test(value)) return BigInt(value);
  return undefined;
}

function baseType(type: string): string {
  const bracket = type.indexOf('[');
  return bracket === -1 ? type : type.slice(0, bracket);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a string holds a UTF-16 surrogate without its pair: it has no UTF-8 encoding to hash. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Shows a bad value in an error message, bounded whatever its size: never stringifies a whole payload. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = asciiJson(value.slice(0, 80));
    return value.length > 80 ? `${shown.slice(0, -1)}..." (${value.length} characters)` : shown;
  }
  if (Array.isArray(value)) return `an array of ${value.length} element${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    return `an object with ${keys.length === 0 ? 'no fields' : `fields ${keys.slice(0, 5).map((k) => asciiJson(k.slice(0, 40))).join(', ')}${keys.length > 5 ? ', ...' : ''}`}`;
  }
  return asciiJson(String(value).slice(0, 80)).slice(1, -1);
}

// JSON text with every character outside printable ASCII escaped: error messages are printable ASCII.
function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
