// What the event parser accepts at its edges, and how it reports what it refuses: the cases a mutation
// run showed were never exercised (explicit types, exact limits, anchored hex patterns, issue paths).
import { parseSignerEvent, InvalidRequestError, type SignerKind } from '../../lambdas/request';

const CHAIN = 11155111n;
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const eip1559 = { to: TO, value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' };
const legacy = { to: TO, value: '1', nonce: 0, gasLimit: 21000, gasPrice: '1000000000' };

const sign = (transaction: object, kind: SignerKind, extra: object = {}) =>
  parseSignerEvent({ operation: 'sign', transaction, ...extra }, kind, CHAIN);

const refusal = (transaction: object, kind: SignerKind): InvalidRequestError => {
  try {
    sign(transaction, kind);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error('expected InvalidRequestError');
};

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

  it.each(['x0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8a'])('address %j', (to) => {
    expect(refusal({ ...eip1559, to }, 'eip1559').issues.map((i) => i.field)).toEqual(['transaction.to']);
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
});
