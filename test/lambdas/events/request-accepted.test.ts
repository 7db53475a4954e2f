// What the event parser accepts at its edges, and how it reports what it refuses: the cases a mutation
// run showed were never exercised (explicit types, exact limits, anchored hex patterns, issue paths).
import { parseSignerEvent, InvalidRequestError, MAX_MESSAGE_LENGTH, type RequestIssue, type SignerKind } from '../../../lambdas/events/request';
import { thrownBy } from '../../helpers/rejection';

const CHAIN = 11155111n;
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const eip1559 = { to: TO, value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' };
const legacy = { to: TO, value: '1', nonce: 0, gasLimit: 21000, gasPrice: '1000000000' };

const sign = (transaction: object, kind: SignerKind, extra: object = {}) =>
  parseSignerEvent({ operation: 'sign', transaction, ...extra }, kind, CHAIN);

const refusal = (transaction: object, kind: SignerKind): InvalidRequestError => thrownBy(InvalidRequestError, () => sign(transaction, kind));

describe('parseSignerEvent accepts', () => {
  it('an EIP-1559 transaction that names its type 2', () => {
    expect(sign({ ...eip1559, type: 2 }, 'eip1559')).toMatchObject({ transaction: { type: 2 } });
  });

  it('a legacy transaction that names its type 0', () => {
    expect(sign({ ...legacy, type: 0 }, 'legacy')).toMatchObject({ transaction: { type: 0 } });
  });

  it('a legacy transaction that names type 1, with and without an accessList', () => {
    expect(sign({ ...legacy, type: 1 }, 'legacy')).toMatchObject({ transaction: { type: 1 } });
    const accessList = [{ address: TO, storageKeys: [] }];
    expect(sign({ ...legacy, type: 1, accessList }, 'legacy')).toMatchObject({ transaction: { type: 1, accessList } });
  });

  it('an accessList entry without storageKeys, as an empty list', () => {
    expect(sign({ ...eip1559, accessList: [{ address: TO }] }, 'eip1559')).toMatchObject({ transaction: { accessList: [{ address: TO, storageKeys: [] }] } });
  });

  it('"to": null as a contract creation', () => {
    const request = sign({ ...eip1559, to: null, data: '0x60006000' }, 'eip1559');
    expect(request.operation === 'sign' && 'to' in request.transaction).toBe(false);
  });

  it('a priority fee equal to the max fee', () => {
    expect(sign({ ...eip1559, maxPriorityFeePerGas: eip1559.maxFeePerGas }, 'eip1559')).toMatchObject({
      transaction: { maxFeePerGas: 30000000000n, maxPriorityFeePerGas: 30000000000n },
    });
  });

  it('from equal to an address in lower case, returned checksummed', () => {
    expect(sign({ ...eip1559, from: TO.toLowerCase() }, 'eip1559')).toMatchObject({ transaction: { from: TO } });
  });

  it('exactly 128 KiB of data', () => {
    const data = '0x' + 'ab'.repeat(128 * 1024);
    expect(sign({ ...eip1559, data }, 'eip1559')).toMatchObject({ transaction: { data } });
  });

  it('exactly 1,024 access-list entries', () => {
    const accessList = Array.from({ length: 1024 }, () => ({ address: TO, storageKeys: [] }));
    const request = sign({ ...eip1559, accessList }, 'eip1559');
    expect(request.operation === 'sign' && request.transaction.accessList).toHaveLength(1024);
  });

  it('a value of exactly 2^256-1 and a gas limit of exactly 2^64-1', () => {
    const request = sign({ ...eip1559, value: (2n ** 256n - 1n).toString(), gasLimit: '0xffffffffffffffff' }, 'eip1559');
    expect(request).toMatchObject({ transaction: { value: 2n ** 256n - 1n, gasLimit: 2n ** 64n - 1n } });
  });

  it('a nonce of exactly 2^53-1, as a decimal string and as a JSON number', () => {
    expect(sign({ ...eip1559, nonce: '9007199254740991' }, 'eip1559')).toMatchObject({ transaction: { nonce: Number.MAX_SAFE_INTEGER } });
    expect(sign({ ...eip1559, nonce: Number.MAX_SAFE_INTEGER }, 'eip1559')).toMatchObject({ transaction: { nonce: Number.MAX_SAFE_INTEGER } });
  });

  it('a gas limit of exactly 21000, the intrinsic minimum', () => {
    expect(sign({ ...eip1559, gasLimit: '21000' }, 'eip1559')).toMatchObject({ transaction: { gasLimit: 21000n } });
  });

  it('upper-case hex in data and storage keys, normalised to lower case', () => {
    const key = '0x' + 'AB'.repeat(32);
    const request = sign({ ...eip1559, data: '0xABCD', accessList: [{ address: TO, storageKeys: [key] }] }, 'eip1559');
    expect(request).toMatchObject({ transaction: { data: '0xabcd', accessList: [{ storageKeys: [key.toLowerCase()] }] } });
  });

  it('only the fields the event sets, plus the type, chain id, value and data it implies', () => {
    const fieldsOf = (request: ReturnType<typeof sign>) => (request.operation === 'status' ? [] : Object.keys(request.transaction).sort());
    expect(fieldsOf(sign(eip1559, 'eip1559'))).toEqual(['chainId', 'data', 'gasLimit', 'maxFeePerGas', 'maxPriorityFeePerGas', 'nonce', 'to', 'type', 'value']);
    expect(fieldsOf(sign(legacy, 'legacy'))).toEqual(['chainId', 'data', 'gasLimit', 'gasPrice', 'nonce', 'to', 'type', 'value']);
    expect(fieldsOf(sign({ ...legacy, from: TO, accessList: [] }, 'legacy'))).toEqual(['accessList', 'chainId', 'data', 'from', 'gasLimit', 'gasPrice', 'nonce', 'to', 'type', 'value']);
  });

  it('zero as "0" and as "0x0"', () => {
    expect(sign({ ...eip1559, value: '0' }, 'eip1559')).toMatchObject({ transaction: { value: 0n } });
    expect(sign({ ...eip1559, value: '0x0' }, 'eip1559')).toMatchObject({ transaction: { value: 0n } });
  });
});

describe('parseSignerEvent refuses, as InvalidRequestError naming the field', () => {
  it.each([
    ['value', 'x0x10'],
    ['value', '0x1g'],
    ['value', 'ab0x00'],
    ['value', '12a'],
    ['value', ' 1'],
    ['nonce', '1\n'],
    ['gasLimit', '0x'],
  ])('%s = %j (hex or decimal junk)', (name, junk) => {
    const error = refusal({ ...eip1559, [name]: junk }, 'eip1559');
    expect(error.issues.map((i) => i.field)).toContain(`transaction.${name}`);
  });

  it.each(['ab0x00', '0xab\n', 'x0xab', '0x0g'])('data %j that is not exactly 0x-prefixed hex', (data) => {
    expect(refusal({ ...eip1559, data }, 'eip1559').issues.map((i) => i.field)).toEqual(['transaction.data']);
  });

  it.each(['xx0x' + '00'.repeat(32), '0x' + '00'.repeat(32) + 'zz', '0x' + '00'.repeat(31) + 'g0'])('storage key %j', (key) => {
    const error = refusal({ ...eip1559, accessList: [{ address: TO, storageKeys: [key] }] }, 'eip1559');
    expect(error.issues.map((i) => i.field)).toEqual(['transaction.accessList[0].storageKeys[0]']);
  });

  it.each(['x0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8a'])('address %j, as not an address rather than a bad checksum', (to) => {
    expect(refusal({ ...eip1559, to }, 'eip1559').issues).toEqual([{ field: 'transaction.to', problem: expect.stringMatching(/^must be an address: 0x and 40 hex digits; got /) }]);
  });

  it('"to": null without data, which would create a contract with no code', () => {
    expect(refusal({ ...eip1559, to: null }, 'eip1559').issues).toEqual([
      { field: 'transaction.to', problem: 'is required unless the transaction creates a contract, which needs non-empty data (the init code)' },
    ]);
  });

  it.each<[SignerKind, string]>([
    ['eip1559', 'chainId'],
    ['eip1559', 'maxFeePerGas'],
    ['eip1559', 'maxPriorityFeePerGas'],
    ['legacy', 'gasPrice'],
  ])('a %s %s beyond 2^256-1, naming the limit', (kind, name) => {
    const base = kind === 'eip1559' ? eip1559 : legacy;
    const issues = refusal({ ...base, [name]: (2n ** 256n).toString() }, kind).issues;
    expect(issues).toContainEqual({ field: `transaction.${name}`, problem: `must be at most 2^256-1; got "${2n ** 256n}"` });
  });

  it.each([[['1']], [['0x1']], [[-1]]])('an integer wrapped in an array (%j), as not an integer', (value) => {
    expect(refusal({ ...eip1559, value }, 'eip1559').issues).toEqual([
      { field: 'transaction.value', problem: expect.stringMatching(/^must be a non-negative integer as a JSON number .*; got \[/) },
    ]);
  });

  it('a data field of 128 KiB and one byte', () => {
    const error = refusal({ ...eip1559, data: '0x' + '00'.repeat(128 * 1024 + 1) }, 'eip1559');
    expect(error.issues).toEqual([{ field: 'transaction.data', problem: expect.stringMatching(/^is 131073 bytes; at most 131072 bytes/) }]);
  });

  it('1,025 access-list entries', () => {
    const accessList = Array.from({ length: 1025 }, () => ({ address: TO, storageKeys: [] }));
    expect(refusal({ ...eip1559, accessList }, 'eip1559').issues).toEqual([
      { field: 'transaction.accessList', problem: expect.stringMatching(/^has 1025 entries; at most 1024/) },
    ]);
  });

  it('an access-list entry that is not an object, at its index', () => {
    expect(refusal({ ...eip1559, accessList: [{ address: TO }, 'x'] }, 'eip1559').issues).toEqual([
      { field: 'transaction.accessList[1]', problem: expect.stringMatching(/^must be an object \{"address": "0x…", "storageKeys": \[\.\.\.\]\}; got "x"$/) },
    ]);
  });

  it('a bad address inside an access-list entry, with its full path', () => {
    expect(refusal({ ...eip1559, accessList: [{ address: TO }, { address: '0x1234' }] }, 'eip1559').issues).toEqual([
      { field: 'transaction.accessList[1].address', problem: expect.stringMatching(/^must be an address: 0x and 40 hex digits; got "0x1234"$/) },
    ]);
  });

  it('storageKeys that are not an array, with its full path', () => {
    expect(refusal({ ...eip1559, accessList: [{ address: TO, storageKeys: '0x01' }] }, 'eip1559').issues).toEqual([
      { field: 'transaction.accessList[0].storageKeys', problem: expect.stringMatching(/^must be an array of 32-byte 0x-hex strings; got "0x01"$/) },
    ]);
  });

  it('a storage key wrapped in an array, as a bad key rather than an internal error', () => {
    const key = '0x' + '11'.repeat(32);
    expect(refusal({ ...eip1559, accessList: [{ address: TO, storageKeys: [key, [key]] }] }, 'eip1559').issues).toEqual([
      { field: 'transaction.accessList[0].storageKeys[1]', problem: expect.stringMatching(/^must be a 32-byte 0x-hex string \(66 characters\); got \[/) },
    ]);
  });

  it('an address wrapped in an array, as not an address', () => {
    expect(refusal({ ...eip1559, to: [TO] }, 'eip1559').issues).toEqual([
      { field: 'transaction.to', problem: expect.stringMatching(/^must be an address: 0x and 40 hex digits; got \[/) },
    ]);
  });

  it('data wrapped in an array, as not hex rather than an internal error', () => {
    expect(refusal({ ...eip1559, data: ['0x00'] }, 'eip1559').issues).toEqual([
      { field: 'transaction.data', problem: expect.stringMatching(/^must be 0x-prefixed hex with an even number of digits; got \[/) },
    ]);
  });

  it('a chainId that is not an integer, once, without comparing it to the configured chain', () => {
    expect(refusal({ ...eip1559, chainId: 'sepolia' }, 'eip1559').issues).toEqual([
      { field: 'transaction.chainId', problem: expect.stringMatching(/^must be a non-negative integer .*; got "sepolia"$/) },
    ]);
  });

  it('a nonce of exactly 2^64-1 as beyond what ethers signs, though EIP-2681 allows it', () => {
    expect(refusal({ ...eip1559, nonce: (2n ** 64n - 1n).toString() }, 'eip1559').issues).toEqual([
      { field: 'transaction.nonce', problem: expect.stringMatching(/^nonces above 2\^53-1 are not supported .*; got "18446744073709551615"$/) },
    ]);
  });

  it('a string with a minus sign inside as not an integer, not as a negative number', () => {
    expect(refusal({ ...eip1559, value: '1-2' }, 'eip1559').issues).toEqual([
      { field: 'transaction.value', problem: expect.stringMatching(/^must be a non-negative integer .*; got "1-2"$/) },
    ]);
  });

  it.each<[SignerKind, object, string]>([
    ['eip1559', { ...eip1559, type: 0 }, 'must be 2 for the EIP-1559 signer, or omitted; got 0'],
    ['eip1559', { ...eip1559, type: '2' }, 'must be 2 for the EIP-1559 signer, or omitted; got "2"'],
    ['legacy', { ...legacy, type: 2 }, 'must be 0 or 1 for the legacy signer, or omitted; got 2'],
  ])('a type the %s signer does not sign, saying which types it does', (kind, transaction, problem) => {
    expect(refusal(transaction, kind).issues).toEqual([{ field: 'transaction.type', problem }]);
  });

  it('an unknown field inside an access-list entry, with its full path', () => {
    const error = refusal({ ...eip1559, accessList: [{ address: TO, storageKeys: [], slot: 1 }] }, 'eip1559');
    expect(error.issues).toEqual([{ field: 'transaction.accessList[0].slot', problem: expect.stringMatching(/^is not an accepted field; accepted: address, storageKeys$/) }]);
  });
});

describe('InvalidRequestError', () => {
  it('is named InvalidRequestError, the errorType callers branch on', () => {
    expect(refusal({ ...eip1559, value: -1 }, 'eip1559').name).toBe('InvalidRequestError');
  });

  it('says how many problems there are and lists each as "field problem"', () => {
    const error = refusal({ ...eip1559, value: -1, nonce: 'x' }, 'eip1559');
    expect(error.issues.map((i) => i.field)).toEqual(['transaction.value', 'transaction.nonce']);
    expect(error.message).toBe(
      `Invalid request (2 problems): transaction.value ${error.issues[0]!.problem}; transaction.nonce ${error.issues[1]!.problem}`,
    );
  });

  it('says "1 problem" in the singular', () => {
    expect(refusal({ ...eip1559, value: -1 }, 'eip1559').message).toMatch(/^Invalid request \(1 problem\): transaction\.value must not be negative, got -1$/);
  });

  const issue = (i: number, problemLength = 6): RequestIssue => ({ field: `f${i}`, problem: 'x'.repeat(problemLength) });
  const listing = (issues: readonly RequestIssue[]) => issues.map((i) => `${i.field} ${i.problem}`).join('; ');

  it('keeps the first 20 issues of a longer list, counts them all and says how many it left out', () => {
    const issues = Array.from({ length: 30 }, (_, i) => issue(i));
    const error = new InvalidRequestError(issues);
    expect(error.issues).toEqual(issues.slice(0, 20));
    expect(error.issueCount).toBe(30);
    expect(error.message).toBe(`Invalid request (30 problems): ${listing(issues.slice(0, 20))}; and 10 more problems`);
  });

  it('says "and 1 more problem" in the singular', () => {
    const issues = Array.from({ length: 20 }, (_, i) => issue(i));
    expect(new InvalidRequestError(issues, 21).message).toBe(`Invalid request (21 problems): ${listing(issues)}; and 1 more problem`);
  });

  it('lists a problem when 40 characters remain after it and its "; " for "and N more problems", and cuts it when 39 remain', () => {
    const head = 'Invalid request (2 problems): ';
    const first = { field: 'a', problem: 'b' };
    const fitting = MAX_MESSAGE_LENGTH - 40 - head.length - 'a b; '.length - 'c '.length - '; '.length;
    const both = [first, { field: 'c', problem: 'x'.repeat(fitting) }];
    expect(new InvalidRequestError(both).message).toBe(`${head}${listing(both)}`);
    const over = [first, { field: 'c', problem: 'x'.repeat(fitting + 1) }];
    expect(new InvalidRequestError(over).message).toBe(`${head}a b; and 1 more problem`);
  });

  // Every problem length from 1 to 400 puts the cut at a different place near the limit.
  it.each([21, 100_000])(`stays within MAX_MESSAGE_LENGTH and leaves a problem out only when fewer than 50 characters would remain (%i problems)`, (count) => {
    for (let problemLength = 1; problemLength <= 400; problemLength++) {
      const issues = Array.from({ length: 20 }, (_, i) => issue(i, problemLength));
      const { message } = new InvalidRequestError(issues, count);
      const render = (listed: number) => {
        const more = count - listed;
        return `Invalid request (${count} problems): ${listing(issues.slice(0, listed))}; and ${more} more problem${more === 1 ? '' : 's'}`;
      };
      const listed = Array.from({ length: 21 }, (_, k) => k).find((k) => render(k) === message);
      expect({ problemLength, listed }).toEqual({ problemLength, listed: expect.any(Number) });
      expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
      if (listed! < 20) expect(render(listed! + 1).length).toBeGreaterThan(MAX_MESSAGE_LENGTH - 50);
    }
  });
});
