import fc from 'fast-check';
import { concat, keccak256, TypedDataEncoder, type TypedDataField } from 'ethers';
import { domainSeparator, parseTypedData, structHash, typedDataDigest, type TypedDataPayload } from '../../lambdas/typed-data';
import { MAIL, MAIL_VECTOR } from '../fixtures/eip712-mail';

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
const withTypes = (types: Record<string, unknown>, message: unknown, primaryType = 'Mail') => ({ ...MAIL, types: { ...MAIL.types, ...types }, primaryType, message });

describe('parseTypedData and typedDataDigest', () => {
  it("reproduces EIP-712's Mail example: domain separator, struct hash and digest", () => {
    const payload = accepted(MAIL);
    expect(domainSeparator(payload)).toBe(MAIL_VECTOR.domainSeparator);
    expect(structHash(payload)).toBe(MAIL_VECTOR.structHash);
    expect(typedDataDigest(payload)).toBe(MAIL_VECTOR.digest);
  });

  it('derives EIP712Domain from the domain when types leave it out (as ethers and viem do)', () => {
    const { EIP712Domain: _omitted, ...types } = MAIL.types;
    expect(typedDataDigest(accepted({ ...MAIL, types }))).toBe(MAIL_VECTOR.digest);
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
    const types = { T: [{ name: 'a', type: 'uint256' }, { name: 'b', type: 'int8' }, { name: 'c', type: 'address' }, { name: 'd', type: 'bytes2' }, { name: 'e', type: 'uint8[2]' }] };
    const payload = accepted({ ...MAIL, types, primaryType: 'T', message: { a: '0xff', b: '-128', c: MAIL_VECTOR.address.toLowerCase(), d: '0xABCD', e: [1, '2'] } });
    expect(payload.message).toEqual({ a: 255n, b: -128n, c: MAIL_VECTOR.address, d: '0xabcd', e: [1n, 2n] });
  });

  it('keeps a field named __proto__ as a field (no prototype pollution)', () => {
    const types = { T: [{ name: '__proto__', type: 'uint256' }] };
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
          const payload = accepted({ ...MAIL, types: { T: fields }, primaryType: 'T', message });
          const ethersValue = { ...message, u, i };
          expect(typedDataDigest(payload)).toBe(TypedDataEncoder.hash(MAIL.domain, { T: fields }, ethersValue));
        },
      ),
      { numRuns: 100 },
    );
  });

  const person = (extra: Record<string, unknown> = {}) => ({ name: 'Cow', wallet: MAIL_VECTOR.address, ...extra });
  const rejections: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['an unknown field type', withTypes({ Person: [{ name: 'name', type: 'Strin' }] }, MAIL.message), 'types.Person[0].type', /unknown type "Strin"/],
    ['an integer width that is not a multiple of 8', withTypes({ Person: [{ name: 'name', type: 'uint7' }] }, MAIL.message), 'types.Person[0].type', /multiple of 8/],
    ['bytes33', withTypes({ Person: [{ name: 'name', type: 'bytes33' }] }, MAIL.message), 'types.Person[0].type', /bytes1 to bytes32/],
    ['the alias uint (hashed differently by different wallets)', withTypes({ Person: [{ name: 'name', type: 'uint' }] }, MAIL.message), 'types.Person[0].type', /write uint256/],
    ['a type that refers to itself', withTypes({ Person: [{ name: 'name', type: 'string' }, { name: 'friend', type: 'Person[]' }] }, MAIL.message), 'types.Person[1].type', /recursive/],
    ['mutually recursive types', withTypes({ Person: [{ name: 'mail', type: 'Mail' }] }, MAIL.message), 'types.Mail', /recursive \(Mail → Person → Mail\)/],
    ['duplicate field names', withTypes({ Person: [{ name: 'name', type: 'string' }, { name: 'name', type: 'address' }] }, MAIL.message), 'types.Person[1].name', /duplicates/],
    ['a field name that is not an identifier', withTypes({ Person: [{ name: 'my name', type: 'string' }] }, MAIL.message), 'types.Person[0].name', /identifier/],
    ['a struct named like an elementary type', withTypes({ address: [{ name: 'x', type: 'string' }] }, MAIL.message), 'types.address', /elementary type/],
    ['a primaryType that is not declared', { ...MAIL, primaryType: 'Letter' }, 'primaryType', /must name a struct type declared in types \(Person, Mail\)/],
    ['EIP712Domain as primaryType', { ...MAIL, primaryType: 'EIP712Domain' }, 'primaryType', /must name a struct type/],
    ['a missing field', { ...MAIL, message: { ...MAIL.message, from: { name: 'Cow' } } }, 'message.from.wallet', /is missing: Person.wallet is a address/],
    ['a field the type does not have (it would not be signed)', { ...MAIL, message: { ...MAIL.message, to: person({ amount: 1 }) } }, 'message.to.amount', /is not a field of Person/],
    ['a struct given as a string', { ...MAIL, message: { ...MAIL.message, to: 'Bob' } }, 'message.to', /must be an object of type Person/],
    ['an address with a bad checksum', { ...MAIL, message: { ...MAIL.message, to: person({ wallet: '0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' }) } }, 'message.to.wallet', /checksum/],
    ['a string that is not UTF-16 well formed', { ...MAIL, message: { ...MAIL.message, contents: 'a\uD800b' } }, 'message.contents', /unpaired UTF-16 surrogate/],
    ['an unknown domain field', { ...MAIL, domain: { ...MAIL.domain, owner: 'me' } }, 'domain.owner', /not an EIP-712 domain field/],
    ['a domain field that EIP712Domain does not declare', { ...MAIL, domain: { ...MAIL.domain, salt: `0x${'11'.repeat(32)}` } }, 'domain.salt', /not declared in types.EIP712Domain/],
    ['a declared domain field missing from the domain', { ...MAIL, domain: { name: 'Ether Mail', version: '1', chainId: 1 } }, 'domain.verifyingContract', /missing/],
    ['a non-standard EIP712Domain field type', { ...MAIL, types: { ...MAIL.types, EIP712Domain: [{ name: 'chainId', type: 'uint64' }] }, domain: { chainId: 1 } }, 'types.EIP712Domain[0].type', /must be uint256/],
    ['a domain chainId of another chain', { ...MAIL, domain: { ...MAIL.domain, chainId: 5 } }, 'domain.chainId', /configured for chain 1/],
  ];
  it.each(rejections)('rejects %s, naming the field', (_label, input, field, problem) => {
    const { payload, issues } = parse(input);
    expect(payload).toBeUndefined();
    expect(issues).toContainEqual({ field, problem: expect.stringMatching(problem) });
  });

  const valueCases: Array<[string, string, unknown, RegExp]> = [
    ['300 for uint8', 'uint8', 300, /is 300, which does not fit uint8 \(0 to 2\^8-1\)/],
    ['-1 for uint256', 'uint256', '-1', /is -1, which does not fit uint256 \(0 to 2\^256-1\)/],
    ['-129 for int8', 'int8', -129, /does not fit int8 \(-128 to 2\^7-1\)/],
    ['2^256 for uint256', 'uint256', (2n ** 256n).toString(), /does not fit uint256/],
    ['an unsafe JSON number', 'uint256', 2 ** 60, /integer \(uint256\)/],
    ['a fraction', 'uint256', 1.5, /integer/],
    ['the string "true" for bool', 'bool', 'true', /must be true or false/],
    ['31 bytes for bytes32', 'bytes32', `0x${'00'.repeat(31)}`, /exactly 32 bytes/],
    ['odd-length hex for bytes', 'bytes', '0xabc', /even number of digits/],
    ['a number for string', 'string', 5, /must be a string/],
    ['2 elements for uint8[3]', 'uint8[3]', [1, 2], /exactly 3 elements/],
    ['an object for uint8[]', 'uint8[]', { 0: 1 }, /must be an array/],
  ];
  it.each(valueCases)('rejects %s', (_label, type, value, problem) => {
    const { issues } = parse({ ...MAIL, types: { T: [{ name: 'x', type }] }, primaryType: 'T', message: { x: value } });
    expect(issues).toEqual([{ field: 'message.x', problem: expect.stringMatching(problem) }]);
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
    const long = parse({ ...MAIL, types: { T: [{ name: 'x', type: 'uint8[]' }] }, primaryType: 'T', message: { x: new Array(100_000).fill(1) } });
    expect(long.issues).toEqual([{ field: 'message.x', problem: expect.stringMatching(/at most 1024/) }]);
    const big = parse({ ...MAIL, message: { ...MAIL.message, contents: 'x'.repeat(200_000) } });
    expect(big.issues).toEqual([{ field: 'message.contents', problem: expect.stringMatching(/longer than 65536 bytes/) }]);
    const nested = parse({ ...MAIL, types: { T: [{ name: 'x', type: 'uint8[][][][]' }] }, primaryType: 'T', message: { x: 'no' } });
    expect(nested.issues[0]?.problem.length).toBeLessThan(200);
    const many = parse({ ...MAIL, types: { T: [{ name: 'x', type: 'uint8[][]' }] }, primaryType: 'T', message: { x: new Array(1000).fill(new Array(1000).fill(1)) } });
    expect(many.issues).toHaveLength(1);
    expect(many.issues[0]?.problem).toMatch(/10000th value/);
  });
});
