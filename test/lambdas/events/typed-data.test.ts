import fc from 'fast-check';
import { concat, keccak256, TypedDataEncoder, type TypedDataField } from 'ethers';
import { describe as describeValue, domainSeparator, hasLoneSurrogate, isElementaryType, parseTypedData, structHash, typedDataDigest } from '../../../lambdas/events/typed-data';
import type { TypedDataPayload } from '../../../lambdas/policy/message';
import { MAIL, MAIL_VECTOR } from '../../fixtures/eip712-mail';
import { hashTypedData } from 'viem';
import { SignTypedDataVersion, TypedDataUtils } from '@metamask/eth-sig-util';

type Issue = { field: string; problem: string };
const parse = (input: Record<string, unknown>, chainId = 1n) => {
  const issues: Issue[] = [];
  const payload = parseTypedData(structuredClone(input), chainId, (field, problem) => void issues.push({ field, problem }));
  return { payload, issues };
};
const accepted = (input: Record<string, unknown>, chainId = 1n): TypedDataPayload => {
  const { payload, issues } = parse(input, chainId);
  if (!payload) throw new Error(`rejected: ${JSON.stringify(issues)}`);
  expect(issues).toEqual([]);
  return payload;
};
const DOMAIN_TYPE = { EIP712Domain: MAIL.types.EIP712Domain };
const withTypes = (types: Record<string, unknown>, message: unknown, primaryType = 'Mail') => ({ ...MAIL, types: { ...MAIL.types, ...types }, primaryType, message });

describe('parseTypedData and typedDataDigest', () => {
  it("reproduces EIP-712's Mail example: domain separator, struct hash and digest", () => {
    const payload = accepted(MAIL);
    expect(domainSeparator(payload)).toBe(MAIL_VECTOR.domainSeparator);
    expect(structHash(payload)).toBe(MAIL_VECTOR.structHash);
    expect(typedDataDigest(payload)).toBe(MAIL_VECTOR.digest);
  });

  it('refuses typed data without types.EIP712Domain (ethers and viem derive it, eth-sig-util V4 hashes an empty one), suggesting the declaration', () => {
    const { EIP712Domain: _omitted, ...types } = MAIL.types;
    const input = { ...MAIL, types };
    // The disagreement the rule prevents: the same JSON gives two digests in the references.
    const viemDigest = hashTypedData(input as Parameters<typeof hashTypedData>[0]);
    const metamaskDigest = `0x${Buffer.from(TypedDataUtils.eip712Hash(input as never, SignTypedDataVersion.V4)).toString('hex')}`;
    expect(viemDigest).toBe(MAIL_VECTOR.digest);
    expect(metamaskDigest).not.toBe(viemDigest);
    const { payload, issues } = parse(input);
    expect(payload).toBeUndefined();
    expect(issues).toEqual([{
      field: 'types.EIP712Domain',
      problem: expect.stringMatching(/^is required: .*MetaMask \(eth-sig-util V4\) hashes an empty EIP712Domain\(\).*; declare it, here \[\{"name": "name", "type": "string"\}, \{"name": "version", "type": "string"\}, \{"name": "chainId", "type": "uint256"\}, \{"name": "verifyingContract", "type": "address"\}\]$/),
    }]);
  });

  it('suggests no declaration for a missing EIP712Domain when the domain has none of its fields', () => {
    const { EIP712Domain: _omitted, ...types } = MAIL.types;
    const { issues } = parse({ ...MAIL, types, domain: {} });
    expect(issues).toContainEqual({ field: 'types.EIP712Domain', problem: expect.stringMatching(/MetaMask \(eth-sig-util V4\) hashes an empty EIP712Domain\(\).*; declare it$/) });
  });

  it('refuses struct names with $, on which viem and ethers disagree with eth-sig-util (which encodes only /^\\w*/ of a type name)', () => {
    const input = { ...MAIL, types: { EIP712Domain: MAIL.types.EIP712Domain, Person$: MAIL.types.Person, Mail: [{ name: 'from', type: 'Person$' }, { name: 'to', type: 'Person$' }, { name: 'contents', type: 'string' }] } };
    const viemDigest = hashTypedData(input as Parameters<typeof hashTypedData>[0]);
    const { EIP712Domain: _omitted, ...types } = input.types;
    expect(TypedDataEncoder.hash(MAIL.domain, types, MAIL.message)).toBe(viemDigest);
    expect(`0x${Buffer.from(TypedDataUtils.eip712Hash(input as never, SignTypedDataVersion.V4)).toString('hex')}`).not.toBe(viemDigest);
    const { payload, issues } = parse(input);
    expect(payload).toBeUndefined();
    expect(issues).toContainEqual({ field: 'types.Person$', problem: expect.stringMatching(/^contains \$, which MetaMask \(eth-sig-util\) drops/) });
  });

  it('agrees with viem, eth-sig-util (V4) and ethers on the digest when types.EIP712Domain is declared', () => {
    const payload = accepted(MAIL);
    const metamaskDigest = `0x${Buffer.from(TypedDataUtils.eip712Hash(MAIL as never, SignTypedDataVersion.V4)).toString('hex')}`;
    expect(typedDataDigest(payload)).toBe(hashTypedData(MAIL as Parameters<typeof hashTypedData>[0]));
    expect(typedDataDigest(payload)).toBe(metamaskDigest);
    const { EIP712Domain: _omitted, ...types } = MAIL.types;
    expect(typedDataDigest(payload)).toBe(TypedDataEncoder.hash(MAIL.domain, types, MAIL.message));
  });

  it('hashes the domain fields in the order types.EIP712Domain declares them, as eth_signTypedData_v4 does', () => {
    const EIP712Domain = [...MAIL.types.EIP712Domain].reverse();
    const payload = accepted({ ...MAIL, types: { ...MAIL.types, EIP712Domain } });
    const expected = TypedDataEncoder.hashStruct('EIP712Domain', { EIP712Domain: EIP712Domain.map((f) => ({ ...f })) }, MAIL.domain);
    expect(domainSeparator(payload)).toBe(expected);
    expect(domainSeparator(payload)).not.toBe(MAIL_VECTOR.domainSeparator);
    expect(typedDataDigest(payload)).toBe(keccak256(concat(['0x1901', expected, MAIL_VECTOR.structHash])));
  });

  it('ignores declared types that primaryType does not use, as eth_signTypedData_v4 does', () => {
    const payload = accepted(withTypes({ Unused: [{ name: 'x', type: 'uint256' }] }, MAIL.message));
    expect(Object.keys(payload.types).sort()).toEqual(['Mail', 'Person']);
    expect(typedDataDigest(payload)).toBe(MAIL_VECTOR.digest);
  });

  it('normalises values: integers to bigint from numbers, decimal and hex strings; addresses to EIP-55; hex to lower case', () => {
    const types = { ...DOMAIN_TYPE, T: [{ name: 'a', type: 'uint256' }, { name: 'b', type: 'int8' }, { name: 'c', type: 'address' }, { name: 'd', type: 'bytes2' }, { name: 'e', type: 'uint8[2]' }] };
    const payload = accepted({ ...MAIL, types, primaryType: 'T', message: { a: '0xff', b: '-128', c: MAIL_VECTOR.address.toLowerCase(), d: '0xABCD', e: [1, '2'] } });
    expect(payload.message).toEqual({ a: 255n, b: -128n, c: MAIL_VECTOR.address, d: '0xabcd', e: [1n, 2n] });
  });

  it('keeps a field named __proto__ as a field (no prototype pollution)', () => {
    const types = { ...DOMAIN_TYPE, T: [{ name: '__proto__', type: 'uint256' }] };
    const message = JSON.parse('{"__proto__": "5"}') as unknown;
    const payload = accepted({ ...MAIL, types, primaryType: 'T', message });
    expect(Object.hasOwn(payload.message, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(payload.message)).toBe(Object.prototype);
  });

  it('agrees with ethers TypedDataEncoder on random values of every elementary type (property)', () => {
    const fields: TypedDataField[] = [
      { name: 'u', type: 'uint256' }, { name: 'i', type: 'int64' }, { name: 's', type: 'string' }, { name: 'b', type: 'bytes' },
      { name: 'f', type: 'bytes32' }, { name: 't', type: 'bool' }, { name: 'l', type: 'uint16[]' },
    ];
    const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.string(),
        fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 5 }),
        (u, i, s, b, f, t, l) => {
          fc.pre(!/[\uD800-\uDFFF]/.test(s));
          const message = { u: u.toString(), i: i.toString(), s, b: hex(b), f: hex(f), t, l };
          const payload = accepted({ ...MAIL, types: { ...DOMAIN_TYPE, T: fields }, primaryType: 'T', message });
          const ethersValue = { ...message, u, i };
          expect(typedDataDigest(payload)).toBe(TypedDataEncoder.hash(MAIL.domain, { T: fields }, ethersValue));
        },
      ),
      { numRuns: 100 },
    );
  });

  const person = (extra: Record<string, unknown> = {}) => ({ name: 'Cow', wallet: MAIL_VECTOR.address, ...extra });
  const rejections: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['an unknown field type', withTypes({ Person: [{ name: 'name', type: 'Strin' }] }, MAIL.message), 'types.Person[0].type', /^refers to the unknown type "Strin": declare it in types, or use an elementary type$/],
    ['an integer width that is not a multiple of 8', withTypes({ Person: [{ name: 'name', type: 'uint7' }] }, MAIL.message), 'types.Person[0].type', /^uint7 is not an integer type: the width must be a multiple of 8 from 8 to 256$/],
    ['bytes33', withTypes({ Person: [{ name: 'name', type: 'bytes33' }] }, MAIL.message), 'types.Person[0].type', /^bytes33 is not a bytes type: fixed-size bytes are bytes1 to bytes32$/],
    ['the alias uint (hashed differently by different wallets)', withTypes({ Person: [{ name: 'name', type: 'uint' }] }, MAIL.message), 'types.Person[0].type', /^uses uint, which EIP-712 hashes by its canonical name: write uint256$/],
    ['a type that refers to itself', withTypes({ Person: [{ name: 'name', type: 'string' }, { name: 'friend', type: 'Person[]' }] }, MAIL.message), 'types.Person[1].type', /recursive/],
    ['mutually recursive types', withTypes({ Person: [{ name: 'mail', type: 'Mail' }] }, MAIL.message), 'types.Mail', /^is recursive \(Mail -> Person -> Mail\): recursive types are not supported$/],
    ['a cycle below primaryType, from where it starts', withTypes({ Root: [{ name: 'mail', type: 'Mail[]' }], Person: [{ name: 'mail', type: 'Mail' }] }, { mail: [] }, 'Root'), 'types.Mail', /^is recursive \(Mail -> Person -> Mail\)/],
    ['duplicate field names', withTypes({ Person: [{ name: 'name', type: 'string' }, { name: 'name', type: 'address' }] }, MAIL.message), 'types.Person[1].name', /^duplicates the field "name"; field names must be unique within a type$/],
    ['a field name that is not an identifier', withTypes({ Person: [{ name: 'my name', type: 'string' }] }, MAIL.message), 'types.Person[0].name', /identifier/],
    ['a struct named like an elementary type', withTypes({ address: [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.address', /elementary type/],
    ['a primaryType that is not declared', { ...MAIL, primaryType: 'Letter' }, 'primaryType', /^must name a struct type declared in types \(Person, Mail\); got "Letter"$/],
    ['a primaryType when no struct is declared', { ...MAIL, types: { EIP712Domain: MAIL.types.EIP712Domain } }, 'primaryType', /^must name a struct type declared in types \(none declared\); got "Mail"$/],
    ['a primaryType not among many declared types, naming the first ten', { ...MAIL, types: { ...DOMAIN_TYPE, ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`T${i}`, []])) } }, 'primaryType', /^must name a struct type declared in types \(T0, T1, T2, T3, T4, T5, T6, T7, T8, T9\); got "Mail"$/],
    ['EIP712Domain as primaryType', { ...MAIL, primaryType: 'EIP712Domain' }, 'primaryType', /must name a struct type/],
    ['a missing field', { ...MAIL, message: { ...MAIL.message, from: { name: 'Cow' } } }, 'message.from.wallet', /^is missing: Person.wallet is a address$/],
    ['a field the type does not have (it would not be signed)', { ...MAIL, message: { ...MAIL.message, to: person({ amount: 1 }) } }, 'message.to.amount', /^is not a field of Person, so it would not be signed; Person has name, wallet$/],
    ['a field of a type without fields', { ...withTypes({ Empty: [] }, { extra: 1 }, 'Empty') }, 'message.extra', /^is not a field of Empty, so it would not be signed; Empty has no fields$/],
    ['a struct given as a string', { ...MAIL, message: { ...MAIL.message, to: 'Bob' } }, 'message.to', /must be an object of type Person/],
    ['an address with a bad checksum', { ...MAIL, message: { ...MAIL.message, to: person({ wallet: '0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' }) } }, 'message.to.wallet', /checksum/],
    ['a string that is not UTF-16 well formed', { ...MAIL, message: { ...MAIL.message, contents: 'a\uD800b' } }, 'message.contents', /unpaired UTF-16 surrogate/],
    ['an unknown domain field', { ...MAIL, domain: { ...MAIL.domain, owner: 'me' } }, 'domain.owner', /^is not an EIP-712 domain field; accepted: name, version, chainId, verifyingContract, salt$/],
    ['a domain field that EIP712Domain does not declare', { ...MAIL, domain: { ...MAIL.domain, salt: `0x${'11'.repeat(32)}` } }, 'domain.salt', /^is not declared in types.EIP712Domain, so it would not be signed; declare it or leave it out$/],
    ['a declared domain field missing from the domain', { ...MAIL, domain: { name: 'Ether Mail', version: '1', chainId: 1 } }, 'domain.verifyingContract', /^is declared in types.EIP712Domain but missing: a address$/],
    ['a non-standard EIP712Domain field type', { ...MAIL, types: { ...MAIL.types, EIP712Domain: [{ name: 'chainId', type: 'uint64' }] }, domain: { chainId: 1 } }, 'types.EIP712Domain[0].type', /^must be uint256 for the domain field chainId; got "uint64"$/],
    ['a domain name declared as bytes32', { ...MAIL, types: { ...MAIL.types, EIP712Domain: [{ name: 'name', type: 'bytes32' }] }, domain: { name: 'Ether Mail' } }, 'types.EIP712Domain[0].type', /^must be string for the domain field name; got "bytes32"$/],
    ['EIP712Domain given as an object', { ...MAIL, types: { ...MAIL.types, EIP712Domain: { name: 'string' } } }, 'types.EIP712Domain', /^must be an array of fields/],
    ['a struct type that is also the primaryType and not an identifier', { ...MAIL, types: { ...DOMAIN_TYPE, '1Mail': MAIL.types.Mail, Person: MAIL.types.Person }, primaryType: '1Mail' }, 'types.1Mail', /not a valid type name/],
    ['a struct named like an elementary type that is also the primaryType', { ...MAIL, types: { ...DOMAIN_TYPE, address: MAIL.types.Mail, Person: MAIL.types.Person }, primaryType: 'address' }, 'types.address', /elementary type/],
    ['a field type given as an array', withTypes({ Person: [{ name: 'name', type: ['string'] }, MAIL.types.Person[1]] }, MAIL.message), 'types.Person[0].type', /^must be an EIP-712 type: .*; got an array of 1 element$/],
    ['a domain chainId of another chain', { ...MAIL, domain: { ...MAIL.domain, chainId: 5 } }, 'domain.chainId', /^is 5, but this signer is configured for chain 1 \(ETH_NETWORK\)$/],
    ['types given as an array', { ...MAIL, types: [] }, 'types', /^must be an object mapping each struct type name to its fields, .*; got an array of 0 elements$/],
    ['a type name that is not an identifier', withTypes({ '1Mail': [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.1Mail', /^is not a valid type name: letters, digits and _, not starting with a digit, at most 64 characters$/],
    ['a type name of 65 characters', withTypes({ ['T'.repeat(65)]: [{ name: 'x', type: 'string' }] }, MAIL.message), `types.${'T'.repeat(61)}...(65 characters)`, /not a valid type name/],
    ['a struct name with $ (MetaMask drops it from encodeType)', withTypes({ Person$1: [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.Person$1', /^contains \$, which MetaMask \(eth-sig-util\) drops from the type encoding, so its signature would not verify there; rename the type with letters, digits and _ only$/],
    ['a primaryType with $', { ...MAIL, types: { ...DOMAIN_TYPE, Mail$: MAIL.types.Mail, Person: MAIL.types.Person }, primaryType: 'Mail$' }, 'types.Mail$', /^contains \$/],
    ['a struct named uint', withTypes({ uint: [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.uint', /^is the name of an elementary type and cannot name a struct$/],
    ['a struct named int', withTypes({ int: [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.int', /elementary type/],
    ['fields given as an object', withTypes({ Person: { name: 'string' } }, MAIL.message), 'types.Person', /^must be an array of fields \[\{"name": "...", "type": "..."\}\]; got an object with fields "name"$/],
    ['a field given as a string', withTypes({ Person: ['name string'] }, MAIL.message), 'types.Person[0]', /^must be \{"name": "...", "type": "..."\}; got "name string"$/],
    ['a field with a third key', withTypes({ Person: [{ name: 'name', type: 'string', indexed: true }, MAIL.types.Person[1]] }, MAIL.message), 'types.Person[0].indexed', /^is not accepted; a field has only name and type$/],
    ['a field without a name', withTypes({ Person: [{ type: 'string' }] }, MAIL.message), 'types.Person[0].name', /^must be an identifier \(letters, digits, _ and \$, not starting with a digit\); got nothing$/],
    ['a field without a type', withTypes({ Person: [{ name: 'name' }] }, MAIL.message), 'types.Person[0].type', /^must be an EIP-712 type: an elementary type .*; got nothing$/],
    ['five array dimensions', withTypes({ Person: [{ name: 'name', type: 'string[][][][][]' }] }, MAIL.message), 'types.Person[0].type', /must be an EIP-712 type/],
    ['a fixed array length of 0', withTypes({ Person: [{ name: 'name', type: 'string[0]' }] }, MAIL.message), 'types.Person[0].type', /^has a fixed array length 0; it must be from 1 to 1024$/],
    ['a fixed array length with a leading zero', withTypes({ Person: [{ name: 'name', type: 'string[2][01]' }] }, MAIL.message), 'types.Person[0].type', /fixed array length 01/],
    ['a fixed array length of 1025', withTypes({ Person: [{ name: 'name', type: 'string[1025]' }] }, MAIL.message), 'types.Person[0].type', /fixed array length 1025/],
    ['the alias int', withTypes({ Person: [{ name: 'name', type: 'int[]' }] }, MAIL.message), 'types.Person[0].type', /^uses int, which EIP-712 hashes by its canonical name: write int256$/],
    ['a field of type EIP712Domain', withTypes({ Person: [{ name: 'name', type: 'EIP712Domain' }] }, MAIL.message), 'types.Person[0].type', /^refers to EIP712Domain, which only describes the domain and cannot be a field$/],
    ['a struct that is its own field type', withTypes({ Person: [{ name: 'name', type: 'Person' }] }, MAIL.message), 'types.Person[0].type', /^refers to its own type Person: recursive types are not supported$/],
    ['too many fields', withTypes({ Person: Array.from({ length: 65 }, (_, i) => ({ name: `f${i}`, type: 'string' })) }, MAIL.message), 'types.Person', /^has 65 fields; at most 64 are accepted$/],
    ['too many types', { ...MAIL, types: { ...MAIL.types, ...Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`T${i}`, []])) } }, 'types', /^declares 65 types; at most 64 are accepted$/],
    ['a primaryType that is not a string', { ...MAIL, primaryType: 7 }, 'primaryType', /^must be the name of the struct type being signed, one of the keys of types; got 7$/],
    ['an empty primaryType', { ...MAIL, primaryType: '' }, 'primaryType', /must be the name of the struct type being signed/],
    ['a domain that is not an object', { ...MAIL, domain: 'Ether Mail' }, 'domain', /^must be an object with some of name, version, chainId, verifyingContract, salt; got "Ether Mail"$/],
    ['an EIP712Domain field EIP-712 does not define', { ...MAIL, types: { ...MAIL.types, EIP712Domain: [{ name: 'owner', type: 'address' }] }, domain: {} }, 'types.EIP712Domain[0].name', /^is "owner"; EIP-712 domain fields are name, version, chainId, verifyingContract, salt$/],
    ['a bad domain value, by its field', { ...MAIL, domain: { ...MAIL.domain, verifyingContract: 'nobody' } }, 'domain.verifyingContract', /must be an address/],
    ['a message that is not an object', { ...MAIL, message: 'Hello, Bob!' }, 'message', /^must be an object of type Mail; got "Hello, Bob!"$/],
  ];
  // Each is reported once: the rest of the payload is not checked again against a half-read declaration.
  it.each(rejections)('rejects %s, naming the field, and nothing else', (_label, input, field, problem) => {
    const { payload, issues } = parse(input);
    expect(payload).toBeUndefined();
    expect(issues).toEqual([{ field, problem: expect.stringMatching(problem) }]);
  });

  const valueCases: Array<[string, string, unknown, RegExp]> = [
    ['300 for uint8', 'uint8', 300, /^is 300, which does not fit uint8 \(0 to 2\^8-1\)$/],
    ['256 for uint8', 'uint8', '256', /does not fit uint8/],
    ['128 for int8', 'int8', 128, /^is 128, which does not fit int8 \(-128 to 2\^7-1\)$/],
    ['"-0" for int8', 'int8', '-0', /^must be an integer \(int8\) as a JSON number \(safe integer\), a decimal string \(may start with -\) or a 0x-hex string; got "-0"$/],
    ['a negative hex string', 'int8', '-0x1', /must be an integer \(int8\)/],
    ['a decimal with a leading zero', 'uint8', '01', /^must be a non-negative integer \(uint8\) as a JSON number \(safe integer\), a decimal string or a 0x-hex string; got "01"$/],
    ['a decimal with trailing text', 'uint8', '1a', /must be a non-negative integer/],
    ['hex with a non-hex digit', 'uint8', '0x1g', /must be a non-negative integer/],
    ['text before a hex integer', 'uint8', 'ab0x1', /must be a non-negative integer/],
    ['a bare 0x for an integer', 'uint8', '0x', /must be a non-negative integer/],
    ['an 81-character integer string', 'uint256', `0x${'0'.repeat(77)}ff`, /must be a non-negative integer/],
    ['a boolean for an integer', 'uint8', true, /must be a non-negative integer \(uint8\).*; got true$/],
    ['-1 for uint256', 'uint256', '-1', /is -1, which does not fit uint256 \(0 to 2\^256-1\)/],
    ['-129 for int8', 'int8', -129, /does not fit int8 \(-128 to 2\^7-1\)/],
    ['2^256 for uint256', 'uint256', (2n ** 256n).toString(), /does not fit uint256/],
    ['an unsafe JSON number', 'uint256', 2 ** 60, /integer \(uint256\)/],
    ['a fraction', 'uint256', 1.5, /integer/],
    ['the string "true" for bool', 'bool', 'true', /must be true or false/],
    ['31 bytes for bytes32', 'bytes32', `0x${'00'.repeat(31)}`, /^must be exactly 32 bytes \(bytes32\) as 0x and 64 hex digits; got "0x0{62}"$/],
    ['33 bytes for bytes32', 'bytes32', `0x${'00'.repeat(33)}`, /exactly 32 bytes/],
    ['text before bytes1', 'bytes1', 'x0x00', /exactly 1 bytes/],
    ['a number for bytes1', 'bytes1', 1, /exactly 1 bytes \(bytes1\) as 0x and 2 hex digits; got 1$/],
    ['odd-length hex for bytes', 'bytes', '0xabc', /^must be bytes as 0x-prefixed hex with an even number of digits; got "0xabc"$/],
    ['text before the 0x of bytes', 'bytes', 'ab0x00', /even number of digits/],
    ['a non-hex digit in bytes', 'bytes', '0x00zz', /even number of digits/],
    ['a number for bytes', 'bytes', 0, /even number of digits/],
    ['more than 64 KiB of bytes', 'bytes', `0x${'00'.repeat(65537)}`, /^is longer than 65536 bytes$/],
    ['a number for string', 'string', 5, /^must be a string; got 5$/],
    ['more than 64 KiB of UTF-8 for string', 'string', 'é'.repeat(32768) + 'x', /^is longer than 65536 bytes$/],
    ['a lone surrogate in a string', 'string', '\uDC00', /^contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding$/],
    ['an address with text before it', 'address', `x${MAIL_VECTOR.address}`, /^must be an address: 0x and 40 hex digits; got "x0x/],
    ['an address with text after it', 'address', `${MAIL_VECTOR.address}00`, /must be an address/],
    ['a number for address', 'address', 1, /must be an address: 0x and 40 hex digits; got 1$/],
    ['an address inside an array', 'address', [MAIL_VECTOR.address], /^must be an address: 0x and 40 hex digits; got an array of 1 element$/],
    ['bytes1 inside an array', 'bytes1', ['0xab'], /^must be exactly 1 bytes \(bytes1\) as 0x and 2 hex digits; got an array of 1 element$/],
    ['bytes inside an array', 'bytes', ['0x00'], /^must be bytes as 0x-prefixed hex with an even number of digits; got an array of 1 element$/],
    ['an integer inside an array', 'uint8', ['5'], /^must be a non-negative integer \(uint8\) .*; got an array of 1 element$/],
    ['1025 elements for uint8[]', 'uint8[]', new Array(1025).fill(0), /^has 1025 elements; at most 1024 are accepted$/],
    ['4 elements for uint8[3]', 'uint8[3]', [1, 2, 3, 4], /^must have exactly 3 elements \(uint8\[3\]\); got 4$/],
    ['2 elements for uint8[3]', 'uint8[3]', [1, 2], /exactly 3 elements/],
    ['an object for uint8[]', 'uint8[]', { 0: 1 }, /^must be an array \(uint8\[\]\); got an object with fields "0"$/],
  ];
  it.each(valueCases)('rejects %s', (_label, type, value, problem) => {
    const { payload, issues } = parse({ ...MAIL, types: { ...DOMAIN_TYPE, T: [{ name: 'x', type }] }, primaryType: 'T', message: { x: value } });
    expect(payload).toBeUndefined();
    expect(issues).toEqual([{ field: 'message.x', problem: expect.stringMatching(problem) }]);
  });

  it('names a bad array element by its index, and a bad struct field by its path', () => {
    const types = { ...DOMAIN_TYPE, T: [{ name: 'x', type: 'uint8[]' }, { name: 'p', type: 'Person[2]' }], Person: MAIL.types.Person };
    const { payload, issues } = parse({ ...MAIL, types, primaryType: 'T', message: { x: [1, 2, 'x'], p: [person(), person({ name: 7 })] } });
    expect(payload).toBeUndefined();
    expect(issues.map((i) => i.field)).toEqual(['message.x[2]', 'message.p[1].name']);
  });

  const acceptedValues: Array<[string, string, unknown, unknown]> = [
    ['the largest uint8', 'uint8', 255, 255n],
    ['the largest int8', 'int8', '127', 127n],
    ['the smallest int8', 'int8', -128, -128n],
    ['0 for uint256', 'uint256', 0, 0n],
    ['2^256-1 for uint256', 'uint256', (2n ** 256n - 1n).toString(), 2n ** 256n - 1n],
    ['-2^255 for int256', 'int256', (-(2n ** 255n)).toString(), -(2n ** 255n)],
    ['2^53-1 as a JSON number', 'uint64', Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n],
    ['an 80-character hex integer', 'uint256', `0x${'0'.repeat(76)}ff`, 255n],
    ['bytes1', 'bytes1', '0xAB', '0xab'],
    ['bytes of 64 KiB', 'bytes', `0x${'AB'.repeat(65536)}`, `0x${'ab'.repeat(65536)}`],
    ['empty bytes', 'bytes', '0x', '0x'],
    ['a string of 64 KiB of UTF-8', 'string', 'é'.repeat(32768), 'é'.repeat(32768)],
    ['true for bool', 'bool', true, true],
    ['1024 elements for uint8[]', 'uint8[]', new Array(1024).fill(1), new Array(1024).fill(1n)],
    ['1024 elements for uint8[1024]', 'uint8[1024]', new Array(1024).fill(0), new Array(1024).fill(0n)],
  ];
  it.each(acceptedValues)('accepts %s', (_label, type, value, normalised) => {
    expect(accepted({ ...MAIL, types: { ...DOMAIN_TYPE, T: [{ name: 'x', type }] }, primaryType: 'T', message: { x: value } }).message).toEqual({ x: normalised });
  });

  it('accepts the largest typed data the bounds allow: 64 types, 64 fields, 64-character names, 10,000 values, 16 levels', () => {
    const manyTypes = Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`T${i}`, []]));
    expect(typedDataDigest(accepted({ ...MAIL, types: { ...MAIL.types, ...manyTypes } }))).toBe(MAIL_VECTOR.digest);
    const longName = 'N'.repeat(64);
    const fields = Array.from({ length: 64 }, (_, i) => ({ name: i === 0 ? longName : `f${i}`, type: 'bool' }));
    expect(accepted({ ...MAIL, types: { ...DOMAIN_TYPE, [longName]: fields }, primaryType: longName, message: Object.fromEntries(fields.map((f) => [f.name, true])) }).primaryType).toBe(longName);
    // 1 struct + x + 10 arrays of 1 + 899 + y + 997 elements = 10,000 values.
    const counted = { ...DOMAIN_TYPE, T: [{ name: 'x', type: 'uint8[][]' }, { name: 'y', type: 'uint8[]' }] };
    expect(accepted({ ...MAIL, types: counted, primaryType: 'T', message: { x: new Array(10).fill(new Array(899).fill(0)), y: new Array(997).fill(0) } }).message.y).toHaveLength(997);
    expect(parse({ ...MAIL, types: counted, primaryType: 'T', message: { x: new Array(10).fill(new Array(899).fill(0)), y: new Array(998).fill(0) } }).issues).toEqual([
      { field: 'message.y[997]', problem: 'is beyond the 10000th value of the message; smaller typed data is accepted' },
    ]);
  });

  it('accepts structs nested 16 levels deep and refuses a 17th level', () => {
    const chain = (levels: number) => {
      const types = { ...DOMAIN_TYPE, ...Object.fromEntries(Array.from({ length: levels }, (_, i) => [`L${i}`, [{ name: 'x', type: i === levels - 1 ? 'uint8' : `L${i + 1}` }]])) };
      let message: unknown = 1;
      for (let i = 0; i < levels; i += 1) message = { x: message };
      return { ...MAIL, types, primaryType: 'L0', message };
    };
    expect(accepted(chain(16)).primaryType).toBe('L0');
    expect(parse(chain(17)).issues).toEqual([{ field: `message${'.x'.repeat(17)}`, problem: 'is nested deeper than 16 levels' }]);
  });

  it('reads each type once however many fields use it (60 types, each used twice by the one before: 2^60 paths)', () => {
    const types = { ...DOMAIN_TYPE, ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`D${i}`, i === 59 ? [] : [{ name: 'a', type: `D${i + 1}` }, { name: 'b', type: `D${i + 1}` }]])) };
    expect(parse({ ...MAIL, types, primaryType: 'D0', message: {} }).issues.map((i) => i.field)).toEqual(['message.a', 'message.b']);
  });

  it('counts each array dimension as a level of nesting', () => {
    const levels = 16;
    const types = { ...DOMAIN_TYPE, ...Object.fromEntries(Array.from({ length: levels }, (_, i) => [`L${i}`, [{ name: 'x', type: i === levels - 1 ? 'uint8[]' : `L${i + 1}` }]])) };
    let message: unknown = [1];
    for (let i = 0; i < levels; i += 1) message = { x: message };
    expect(parse({ ...MAIL, types, primaryType: 'L0', message }).issues).toEqual([{ field: `message${'.x'.repeat(16)}[0]`, problem: 'is nested deeper than 16 levels' }]);
  });

  it('accepts a domain chain id given as a decimal or hex string, and every domain field EIP-712 defines', () => {
    const salt = `0x${'AB'.repeat(32)}`;
    const types = { ...MAIL.types, EIP712Domain: [...MAIL.types.EIP712Domain, { name: 'salt', type: 'bytes32' }] };
    expect(accepted({ ...MAIL, types, domain: { ...MAIL.domain, chainId: '0x01', salt } }).domain).toEqual({ ...MAIL.domain, chainId: 1n, salt: salt.toLowerCase() });
    expect(accepted({ ...MAIL, domain: { ...MAIL.domain, chainId: '1' } }).domain.chainId).toBe(1n);
    expect(accepted({ ...MAIL, domain: { ...MAIL.domain, chainId: 5 } }, 5n).domain.chainId).toBe(5n);
  });

  it('hashes only the domain fields types.EIP712Domain declares (a domain without chainId)', () => {
    const EIP712Domain = MAIL.types.EIP712Domain.filter((f) => f.name !== 'chainId');
    const { chainId: _chain, ...domain } = MAIL.domain;
    expect(accepted({ ...MAIL, types: { ...MAIL.types, EIP712Domain }, domain }).domainFields.map((f) => f.name)).toEqual(['name', 'version', 'verifyingContract']);
  });

  it('refuses a domain that is not an object', () => {
    const { payload, issues } = parse({ ...MAIL, domain: null });
    expect(payload).toBeUndefined();
    expect(issues).toEqual([{ field: 'domain', problem: expect.stringMatching(/^must be an object with some of .*; got null$/) }]);
  });

  it('prefixes every path with the given prefix', () => {
    const issues: Issue[] = [];
    parseTypedData({ ...MAIL, domain: { ...MAIL.domain, chainId: 5 }, primaryType: 'Letter' }, 1n, (field, problem) => void issues.push({ field, problem }), 'typedData.');
    expect(issues.map((i) => i.field)).toEqual(['typedData.domain.chainId', 'typedData.primaryType']);
  });

  it('reports every bad field at once, each by its path', () => {
    const { issues } = parse({ ...MAIL, message: { from: { name: 1, wallet: 'me' }, to: person(), contents: null } });
    expect(issues.map((i) => i.field)).toEqual(['message.from.name', 'message.from.wallet', 'message.contents']);
  });

  it('checks the domain even when a struct type is bad', () => {
    const { issues } = parse({ ...withTypes({ Person: [{ name: 'name', type: 'Strin' }] }, MAIL.message), domain: { ...MAIL.domain, chainId: 5 } });
    expect(issues.map((i) => i.field)).toEqual(['types.Person[0].type', 'domain.chainId']);
  });

  it('bounds hostile inputs: huge arrays, deep nesting and long strings are refused with a short message', () => {
    const long = parse({ ...MAIL, types: { ...DOMAIN_TYPE, T: [{ name: 'x', type: 'uint8[]' }] }, primaryType: 'T', message: { x: new Array(100_000).fill(1) } });
    expect(long.issues).toEqual([{ field: 'message.x', problem: expect.stringMatching(/at most 1024/) }]);
    const big = parse({ ...MAIL, message: { ...MAIL.message, contents: 'x'.repeat(200_000) } });
    expect(big.issues).toEqual([{ field: 'message.contents', problem: expect.stringMatching(/longer than 65536 bytes/) }]);
    const nested = parse({ ...MAIL, types: { ...DOMAIN_TYPE, T: [{ name: 'x', type: 'uint8[][][][]' }] }, primaryType: 'T', message: { x: 'no' } });
    expect(nested.issues[0]?.problem.length).toBeLessThan(200);
    const many = parse({ ...MAIL, types: { ...DOMAIN_TYPE, T: [{ name: 'x', type: 'uint8[][]' }] }, primaryType: 'T', message: { x: new Array(1000).fill(new Array(1000).fill(1)) } });
    expect(many.issues).toHaveLength(1);
    expect(many.issues[0]?.problem).toMatch(/10000th value/);
  });
});

describe('isElementaryType', () => {
  it.each(['uint8', 'uint256', 'int8', 'int128', 'int256', 'bytes1', 'bytes32', 'bytes', 'string', 'bool', 'address'])('accepts %s', (type) => {
    expect(isElementaryType(type)).toBe(true);
  });
  it.each(['uint', 'int', 'uint7', 'uint264', 'int0', 'uint2560', 'bytes0', 'bytes33', 'byte', 'Address', 'string[]', 'Mail', 'xuint8', 'uint8x', 'xbytes1', 'bytes1x', 'xaddress'])('refuses %s', (type) => {
    expect(isElementaryType(type)).toBe(false);
  });
});

describe('hasLoneSurrogate', () => {
  it.each([['a high surrogate at the end', 'a\uD800'], ['a low surrogate first', '\uDC00a'], ['two high surrogates', '\uD800\uD800\uDC00'], ['a reversed pair', '\uDC00\uD800']])('finds %s', (_label, text) => {
    expect(hasLoneSurrogate(text)).toBe(true);
  });
  it.each([['plain text', 'hello'], ['a pair (an emoji)', 'a\uD83D\uDE00b'], ['the empty string', '']])('accepts %s', (_label, text) => {
    expect(hasLoneSurrogate(text)).toBe(false);
  });
});

describe('describe (a bad value in an error message)', () => {
  it.each<[string, unknown, string]>([
    ['nothing for undefined', undefined, 'nothing'],
    ['a short string quoted', 'abc', '"abc"'],
    ['an 80-character string whole', 'x'.repeat(80), `"${'x'.repeat(80)}"`],
    ['a longer string cut to 80 characters, with its length', 'y'.repeat(81), `"${'y'.repeat(80)}..." (81 characters)`],
    ['an array by its length', [1, 2], 'an array of 2 elements'],
    ['a one-element array in the singular', [1], 'an array of 1 element'],
    ['an empty object', {}, 'an object with no fields'],
    ['an object by its first five field names', { a: 1, b: 2, c: 3, d: 4, e: 5 }, 'an object with fields "a", "b", "c", "d", "e"'],
    ['a larger object with an ellipsis', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }, 'an object with fields "a", "b", "c", "d", "e", ...'],
    ['a long field name cut to 40 characters', { ['k'.repeat(50)]: 1 }, `an object with fields "${'k'.repeat(40)}"`],
    ['null', null, 'null'],
    ['a number', 1.5, '1.5'],
    ['a boolean', false, 'false'],
    ['a huge bigint cut to 80 characters', 10n ** 100n, '1' + '0'.repeat(79)],
    ['a string with characters outside printable ASCII escaped', 'naïve→\n', '"na\\u00efve\\u2192\\n"'],
    ['a symbol with its description escaped', Symbol('ö'), 'Symbol(\\u00f6)'],
  ])('shows %s', (_label, value, shown) => {
    expect(describeValue(value)).toBe(shown);
  });
});
