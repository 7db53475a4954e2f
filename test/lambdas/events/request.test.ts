import { Transaction } from 'ethers';
import { parseSignerEvent, InvalidRequestError, MAX_EVENT_LENGTH, type SignerKind } from '../../../lambdas/events/request';
import { thrownBy } from '../../helpers/rejection';

const CHAIN = 11155111n;
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const eip1559 = { to: TO, value: '1000000000000000', nonce: 0, gasLimit: 21000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '0x3b9aca00' };
const legacy = { to: TO, value: 1, nonce: '7', gasLimit: '0x5208', gasPrice: 1000000000 };

const issuesOf = (event: unknown, kind: SignerKind) => thrownBy(InvalidRequestError, () => parseSignerEvent(event, kind, CHAIN)).issues;

describe('parseSignerEvent', () => {
  it('accepts a status request', () => {
    expect(parseSignerEvent({ operation: 'status' }, 'eip1559', CHAIN)).toEqual({ operation: 'status' });
  });

  it('turns an EIP-1559 event into a type 2 ethers transaction request on the configured chain', () => {
    expect(parseSignerEvent({ operation: 'sign', transaction: eip1559 }, 'eip1559', CHAIN)).toEqual({
      operation: 'sign',
      replayProtection: true,
      transaction: {
        type: 2,
        chainId: CHAIN,
        to: TO,
        value: 10n ** 15n,
        data: '0x',
        nonce: 0,
        gasLimit: 21000n,
        maxFeePerGas: 30n * 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
      },
    });
  });

  it('reads integers given as JSON numbers, decimal strings and 0x-hex strings alike', () => {
    const request = parseSignerEvent({ operation: 'sign', transaction: legacy }, 'legacy', CHAIN);
    expect(request).toMatchObject({ transaction: { type: 0, nonce: 7, gasLimit: 21000n, gasPrice: 10n ** 9n, value: 1n } });
  });

  it('makes a legacy transaction with an accessList type 1 (EIP-2930)', () => {
    const accessList = [{ address: TO.toLowerCase(), storageKeys: ['0x' + 'AB'.repeat(32)] }];
    const request = parseSignerEvent({ operation: 'sign', transaction: { ...legacy, accessList } }, 'legacy', CHAIN);
    expect(request).toMatchObject({ transaction: { type: 1, accessList: [{ address: TO, storageKeys: ['0x' + 'ab'.repeat(32)] }] } });
  });

  it('signs for chain id 0 (pre-EIP-155) only when the legacy event sets replayProtection to false', () => {
    const request = parseSignerEvent({ operation: 'sign', transaction: legacy, replayProtection: false }, 'legacy', CHAIN);
    expect(request).toMatchObject({ replayProtection: false, transaction: { chainId: 0n, type: 0 } });
  });

  it('accepts a contract creation: no to, with init code', () => {
    const { to: _to, ...creation } = eip1559;
    const request = parseSignerEvent({ operation: 'sign', transaction: { ...creation, data: '0x6000' } }, 'eip1559', CHAIN);
    expect(request).toMatchObject({ transaction: { data: '0x6000' } });
    expect(request.operation === 'sign' && 'to' in request.transaction).toBe(false);
  });

  it('accepts a chainId equal to the configured one, in any integer form', () => {
    expect(() => parseSignerEvent({ operation: 'sign', transaction: { ...eip1559, chainId: '0xaa36a7' } }, 'eip1559', CHAIN)).not.toThrow();
  });

  const bad: Array<[string, SignerKind, unknown, string, RegExp]> = [
    ['a non-object event', 'eip1559', 'sign', 'event', /JSON object/],
    ['an array as the event', 'eip1559', [{ operation: 'status' }], 'event', /JSON object/],
    ['an array as the transaction', 'eip1559', { operation: 'sign', transaction: [eip1559] }, 'transaction', /JSON object/],
    ['an unknown operation', 'eip1559', { operation: 'sign_message' }, 'operation', /"status", "sign", "check" .*"signMessage", "signTypedData" or "signAuthorization"/],
    ['an unknown top-level field', 'eip1559', { operation: 'status', debug: true }, 'debug', /not an accepted field/],
    ['replayProtection on the EIP-1559 signer', 'eip1559', { operation: 'sign', transaction: eip1559, replayProtection: false }, 'replayProtection', /not an accepted field/],
    ['a missing transaction', 'eip1559', { operation: 'sign' }, 'transaction', /JSON object/],
    ['an unknown transaction field', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gas: 1 } }, 'transaction.gas', /accepted: type, to/],
    ['gasPrice given to the EIP-1559 signer', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gasPrice: 1 } }, 'transaction.gasPrice', /legacy fee field/],
    ['maxFeePerGas given to the legacy signer', 'legacy', { operation: 'sign', transaction: { ...legacy, maxFeePerGas: 1 } }, 'transaction.maxFeePerGas', /EIP-1559 fee field/],
    ['a bad address checksum', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: '0x70997970c51812dc3A010C7d01b50e0d17dc79C8' } }, 'transaction.to', /invalid EIP-55 checksum/],
    ['an address of the wrong length', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: '0x1234' } }, 'transaction.to', /40 hex digits/],
    ['an ENS name', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: 'vitalik.eth' } }, 'transaction.to', /40 hex digits/],
    ['a negative value', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: -1 } }, 'transaction.value', /must not be negative/],
    ['a negative decimal string', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: '-5' } }, 'transaction.value', /must not be negative/],
    ['a value beyond uint256', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: (2n ** 256n).toString() } }, 'transaction.value', /at most 2\^256-1/],
    ['a fractional value', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: 1.5 } }, 'transaction.value', /must be an integer/],
    ['a JSON number beyond 2^53-1', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: 2 ** 60 } }, 'transaction.value', /decimal or 0x-hex string/],
    ['an exponent string', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: '1e18' } }, 'transaction.value', /decimal string or a 0x-hex string/],
    ['a decimal string with leading zeros', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: '007' } }, 'transaction.nonce', /decimal string/],
    ['a nonce beyond 2^64-1', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: (2n ** 64n).toString() } }, 'transaction.nonce', /beyond 2\^64-1 \(EIP-2681\)/],
    ['a nonce beyond what ethers can sign', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: (2n ** 53n).toString() } }, 'transaction.nonce', /above 2\^53-1 are not supported/],
    ['a missing nonce', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: undefined } }, 'transaction.nonce', /is required/],
    ['a gas limit below 21000', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gasLimit: 20999 } }, 'transaction.gasLimit', /at least 21000/],
    ['a gas limit beyond 2^64-1', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gasLimit: '0x10000000000000000' } }, 'transaction.gasLimit', /at most 2\^64-1/],
    ['non-hex data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, data: '0xzz' } }, 'transaction.data', /0x-prefixed hex/],
    ['odd-length data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, data: '0x123' } }, 'transaction.data', /even number of digits/],
    ['oversized data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, data: '0x' + '00'.repeat(128 * 1024 + 1) } }, 'transaction.data', /at most 131072 bytes/],
    ['a priority fee above the max fee', 'eip1559', { operation: 'sign', transaction: { ...eip1559, maxPriorityFeePerGas: '30000000001' } }, 'transaction.maxPriorityFeePerGas', /must not exceed maxFeePerGas/],
    ['a missing maxFeePerGas', 'eip1559', { operation: 'sign', transaction: { ...eip1559, maxFeePerGas: undefined } }, 'transaction.maxFeePerGas', /is required/],
    ['a missing gasPrice', 'legacy', { operation: 'sign', transaction: { ...legacy, gasPrice: undefined } }, 'transaction.gasPrice', /is required/],
    ['another chain id', 'eip1559', { operation: 'sign', transaction: { ...eip1559, chainId: 1 } }, 'transaction.chainId', /configured for chain 11155111/],
    ['no to and no data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: undefined } }, 'transaction.to', /is required unless the transaction creates a contract/],
    ['type 0 on the EIP-1559 signer', 'eip1559', { operation: 'sign', transaction: { ...eip1559, type: 0 } }, 'transaction.type', /must be 2/],
    ['type 2 on the legacy signer', 'legacy', { operation: 'sign', transaction: { ...legacy, type: 2 } }, 'transaction.type', /must be 0 or 1/],
    ['type 0 with an accessList', 'legacy', { operation: 'sign', transaction: { ...legacy, type: 0, accessList: [] } }, 'transaction.type', /needs type 1/],
    ['replayProtection false with an accessList', 'legacy', { operation: 'sign', transaction: { ...legacy, accessList: [] }, replayProtection: false }, 'replayProtection', /type 1 always carries a chain id/],
    ['a non-boolean replayProtection', 'legacy', { operation: 'sign', transaction: legacy, replayProtection: 'no' }, 'replayProtection', /true or false/],
    ['an accessList that is not an array', 'eip1559', { operation: 'sign', transaction: { ...eip1559, accessList: {} } }, 'transaction.accessList', /must be an array/],
    ['a short storage key', 'eip1559', { operation: 'sign', transaction: { ...eip1559, accessList: [{ address: TO, storageKeys: ['0x01'] }] } }, 'transaction.accessList[0].storageKeys[0]', /32-byte/],
    ['a bad from address', 'eip1559', { operation: 'sign', transaction: { ...eip1559, from: 'me' } }, 'transaction.from', /40 hex digits/],
    ['a signature (sig)', 'eip1559', { operation: 'sign', transaction: { ...eip1559, sig: { r: '0x01', s: '0x02', v: 27 } } }, 'transaction.sig', /send the unsigned transaction/],
    ['a signature (signature)', 'eip1559', { operation: 'sign', transaction: { ...eip1559, signature: '0x1234' } }, 'transaction.signature', /send the unsigned transaction/],
    ['a null nonce', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: null } }, 'transaction.nonce', /is required/],
    ['a set gasPrice beside null-free EIP-1559 fees', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gasPrice: '1' } }, 'transaction.gasPrice', /legacy fee field/],
  ];
  it.each(bad)('rejects %s, naming the field', (_label, kind, event, field, problem) => {
    const issues = issuesOf(event, kind);
    const issue = issues.find((i) => i.field === field);
    expect(issue).toBeDefined();
    expect(`${issue!.field} ${issue!.problem}`).toMatch(problem);
  });

  it('lists every problem of an event in one error', () => {
    const issues = issuesOf({ operation: 'sign', transaction: { to: 'x', nonce: -1, gasPrice: 1 } }, 'eip1559');
    expect(issues.map((i) => i.field).sort()).toEqual(
      ['transaction.gasLimit', 'transaction.gasPrice', 'transaction.maxFeePerGas', 'transaction.maxPriorityFeePerGas', 'transaction.nonce', 'transaction.to'].sort(),
    );
  });

  it('never echoes a long value in full', () => {
    const issues = issuesOf({ operation: 'sign', transaction: { ...eip1559, data: 'zz'.repeat(1000) } }, 'eip1559');
    expect(issues[0]!.problem.length).toBeLessThan(200);
  });

  describe('hostile input', () => {
    const errorOf = (event: unknown, kind: SignerKind = 'eip1559') => thrownBy(InvalidRequestError, () => parseSignerEvent(event, kind, CHAIN));

    it('names transaction.to, not an internal error, for an array nested 100,000 deep', () => {
      // 4,100 deep overflowed JSON.stringify in the Lambda runtime; Jest's stack is deeper, so go far past it.
      let to: unknown = [];
      for (let i = 0; i < 100_000; i++) to = [to];
      const error = errorOf({ operation: 'sign', transaction: { ...eip1559, to } });
      expect(error.issues).toEqual([{ field: 'transaction.to', problem: expect.stringMatching(/^must be an address.*got \[\[\[\.\.\.\]\]\]|got \[\[/) }]);
      expect(error.message.length).toBeLessThan(400);
    });

    it('echoes a 400,000-digit value cut short, with its length', () => {
      const error = errorOf({ operation: 'sign', transaction: { ...eip1559, value: '9'.repeat(400_000) } });
      expect(error.issues[0]).toEqual({ field: 'transaction.value', problem: expect.stringContaining('(400000 characters)') });
      expect(error.message.length).toBeLessThan(400);
    });

    it('cuts long unknown field names, lists at most 20 problems then "and N more", and keeps the message under 4 KB', () => {
      const transaction: Record<string, unknown> = { ...eip1559 };
      for (let i = 0; i < 10_000; i++) transaction[`${'x'.repeat(30)}${i}`] = 1;
      transaction['y'.repeat(100_000)] = 1;
      const error = errorOf({ operation: 'sign', transaction });
      expect(error.issueCount).toBe(10_001);
      expect(error.issues).toHaveLength(20);
      expect(Buffer.byteLength(error.message)).toBeLessThan(4096);
      expect(error.message).toMatch(/^Invalid request \(10001 problems\): .*; and \d+ more problems$/);
      const long = issuesOf({ operation: 'sign', transaction: { ...eip1559, ['y'.repeat(100_000)]: 1 } }, 'eip1559');
      expect(long[0]!.field).toMatch(/^transaction\.y{50,64}\.\.\.\(100000 characters\)$/);
    });

    it('keeps the message of 1,024 bad access-list entries under 4 KB', () => {
      const accessList = Array.from({ length: 1024 }, () => ({ address: 'nope', storageKeys: ['0x01'] }));
      const error = errorOf({ operation: 'sign', transaction: { ...eip1559, accessList } });
      expect(error.issueCount).toBe(2048);
      expect(Buffer.byteLength(error.message)).toBeLessThan(4096);
    });

    it('escapes control and non-ASCII characters in echoed values and names', () => {
      const error = errorOf({ operation: 'sign', transaction: { ...eip1559, to: 'a\n\u202eb', ['\u0000é']: 1 } });
      expect(error.message).toMatch(/^[\x20-\x7e]*$/);
      expect(error.message).toContain('\\u000a\\u202eb');
    });

    it(`refuses an event over ${MAX_EVENT_LENGTH / 1024} KiB with one short error before reading any field`, () => {
      const event = { operation: 'sign', transaction: { ...eip1559, data: '0x' + '00'.repeat(MAX_EVENT_LENGTH / 2) } };
      const error = errorOf(event);
      expect(error.issues).toEqual([{ field: 'event', problem: expect.stringContaining('larger than 512 KiB') }]);
      expect(errorOf({ operation: 'sign', transaction: { ...eip1559, value: '9'.repeat(1_000_000) } }).issues).toEqual([{ field: 'event', problem: expect.any(String) }]);
      expect(error.message.length).toBeLessThan(200);
    });

    it('accepts the largest valid transaction: 128 KiB of data with an access list', () => {
      const data = '0x' + 'ab'.repeat(128 * 1024);
      const accessList = Array.from({ length: 64 }, () => ({ address: TO, storageKeys: [`0x${'11'.repeat(32)}`] }));
      expect(() => parseSignerEvent({ operation: 'sign', transaction: { ...eip1559, data, accessList } }, 'eip1559', CHAIN)).not.toThrow();
    });
  });

  describe("ethers' own JSON", () => {
    const unsigned = (fields: Record<string, unknown>) => JSON.parse(JSON.stringify(Transaction.from({ chainId: CHAIN, ...fields }).toJSON())) as Record<string, unknown>;

    it('accepts Transaction#toJSON() of a type 2 transaction (gasPrice: null, sig: null)', () => {
      const json = unsigned({ type: 2, to: TO, nonce: 1, gasLimit: 21000, maxFeePerGas: 2, maxPriorityFeePerGas: 1 });
      expect(json).toMatchObject({ gasPrice: null, sig: null });
      expect(parseSignerEvent({ operation: 'sign', transaction: json }, 'eip1559', CHAIN)).toMatchObject({ transaction: { type: 2, nonce: 1, maxFeePerGas: 2n } });
    });

    it('accepts Transaction#toJSON() of a type 0 and a type 1 transaction (EIP-1559 fees null, accessList null)', () => {
      const type0 = unsigned({ type: 0, to: TO, nonce: 1, gasLimit: 21000, gasPrice: 5 });
      expect(type0).toMatchObject({ maxFeePerGas: null, accessList: null });
      expect(parseSignerEvent({ operation: 'sign', transaction: type0 }, 'legacy', CHAIN)).toMatchObject({ transaction: { type: 0, gasPrice: 5n } });
      const type1 = unsigned({ type: 1, to: TO, nonce: 1, gasLimit: 21000, gasPrice: 5, accessList: [] });
      expect(parseSignerEvent({ operation: 'sign', transaction: type1 }, 'legacy', CHAIN)).toMatchObject({ transaction: { type: 1 } });
    });

    it('treats null as absent for every optional field', () => {
      const nulls = { type: null, from: null, value: null, data: null, chainId: null, accessList: null, gasPrice: null, sig: null, signature: null };
      expect(parseSignerEvent({ operation: 'sign', transaction: { ...eip1559, ...nulls } }, 'eip1559', CHAIN).operation).toBe('sign');
      const { gasPrice: _kept, ...otherNulls } = nulls;
      const legacyNulls = { ...otherNulls, maxFeePerGas: null, maxPriorityFeePerGas: null };
      expect(parseSignerEvent({ operation: 'sign', transaction: { ...legacy, ...legacyNulls }, replayProtection: null }, 'legacy', CHAIN)).toMatchObject({ replayProtection: true });
    });
  });
});

describe('parseSignerEvent: one issue per field, named by its path', () => {
  const BAD_CHECKSUM = '0x70997970c51812dc3A010C7d01b50e0d17dc79C8';

  it('refuses an event that is not there at all', () => {
    expect(issuesOf(undefined, 'eip1559')).toEqual([{ field: 'event', problem: 'must be a JSON object such as {"operation": "status"}' }]);
  });

  it('reports an access list over its length once, and nothing inside it', () => {
    const emptyEntries = Array.from({ length: 1025 }, () => ({}));
    expect(issuesOf({ operation: 'sign', transaction: { ...legacy, accessList: emptyEntries } }, 'legacy')).toEqual([
      { field: 'transaction.accessList', problem: 'has 1025 entries; at most 1024 are accepted' },
    ]);
    const misspelledEntries = Array.from({ length: 1025 }, () => ({ address: BAD_CHECKSUM }));
    expect(issuesOf({ operation: 'sign', transaction: { ...legacy, accessList: misspelledEntries } }, 'legacy')).toEqual([
      { field: 'transaction.accessList', problem: 'has 1025 entries; at most 1024 are accepted' },
    ]);
  });

  it('reports a field the schema refuses for two reasons once', () => {
    const issues = issuesOf({ operation: 'sign', transaction: { ...eip1559, data: 'z'.repeat(262147) } }, 'eip1559');
    expect(issues).toEqual([{ field: 'transaction.data', problem: expect.stringMatching(/^must be 0x-prefixed hex with an even number of digits; got /) }]);
  });

  it('says hex that starts after other text is not 0x-prefixed hex', () => {
    expect(issuesOf({ operation: 'sign', transaction: { ...eip1559, data: 'zz0x00' } }, 'eip1559')).toEqual([
      { field: 'transaction.data', problem: 'must be 0x-prefixed hex with an even number of digits; got "zz0x00"' },
    ]);
  });

  it('names an access list entry by its index, past 9 too', () => {
    const accessList = Array.from({ length: 13 }, (_, i) => ({ address: i === 12 ? BAD_CHECKSUM : TO, storageKeys: [] }));
    expect(issuesOf({ operation: 'sign', transaction: { ...legacy, accessList } }, 'legacy')).toEqual([
      { field: 'transaction.accessList[12].address', problem: expect.stringMatching(/^has an invalid EIP-55 checksum/) },
    ]);
    const unknown = [...accessList.slice(0, 12), { address: TO, storageKeys: [], extra: 1 }];
    expect(issuesOf({ operation: 'sign', transaction: { ...legacy, accessList: unknown } }, 'legacy')).toEqual([
      { field: 'transaction.accessList[12].extra', problem: 'is not an accepted field; accepted: address, storageKeys' },
    ]);
  });

  it.each<[SignerKind, object, string]>([
    ['eip1559', eip1559, 'operation, idempotencyKey, transaction'],
    ['legacy', legacy, 'operation, idempotencyKey, replayProtection, transaction'],
  ])('lists the fields a %s event accepts when it has another', (kind, transaction, accepted) => {
    expect(issuesOf({ operation: 'sign', transaction, extra: 1 }, kind)).toEqual([{ field: 'extra', problem: `is not an accepted field; accepted: ${accepted}` }]);
  });

  it('says a required integer that is there but malformed is malformed, not missing', () => {
    expect(issuesOf({ operation: 'sign', transaction: { ...eip1559, nonce: 'abc' } }, 'eip1559')).toEqual([
      { field: 'transaction.nonce', problem: 'must be a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string; got "abc"' },
    ]);
  });

  it('reports a from that is not an address once, and a misspelled one by its own name', () => {
    expect(issuesOf({ operation: 'sign', transaction: { ...eip1559, from: 'xyz' } }, 'eip1559')).toEqual([
      { field: 'transaction.from', problem: 'must be an address: 0x and 40 hex digits; got "xyz"' },
    ]);
    expect(issuesOf({ operation: 'sign', transaction: { ...eip1559, from: BAD_CHECKSUM } }, 'eip1559')).toEqual([
      { field: 'transaction.from', problem: expect.stringMatching(/^has an invalid EIP-55 checksum/) },
    ]);
  });

  it('does not also ask for a to when the data of a contract creation is malformed', () => {
    const { to: _to, ...creation } = eip1559;
    expect(issuesOf({ operation: 'sign', transaction: { ...creation, data: 'zz' } }, 'eip1559')).toEqual([
      { field: 'transaction.data', problem: 'must be 0x-prefixed hex with an even number of digits; got "zz"' },
    ]);
  });
});
