import { hexlify, toUtf8Bytes } from 'ethers';
import { isMessageEvent, parseMessageEvent, type MessageOperation } from '../../lambdas/message-request';
import { InvalidRequestError } from '../../lambdas/request';
import { MAIL } from '../fixtures/eip712-mail';

const CHAIN = 1n;
const DELEGATE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
type Event = Record<string, unknown> & { operation: MessageOperation };

const issuesOf = (event: Event) => {
  try {
    parseMessageEvent(event, CHAIN);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.issues;
    throw error;
  }
  throw new Error('expected InvalidRequestError');
};

describe('isMessageEvent', () => {
  it.each(['signMessage', 'signTypedData', 'signAuthorization'])('recognises %s', (operation) => {
    expect(isMessageEvent({ operation })).toBe(true);
  });
  it.each([['sign'], ['status'], ['toString'], [undefined]])('leaves %s to the transaction parser', (operation) => {
    expect(isMessageEvent({ operation })).toBe(false);
  });
});

describe('parseMessageEvent: signMessage', () => {
  it('reads text as UTF-8', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: 'héllo' }, CHAIN)).toEqual({
      operation: 'signMessage',
      message: { bytes: toUtf8Bytes('héllo'), text: 'héllo' },
    });
  });

  it('reads 0x-hex as the bytes it spells, as personal_sign does', () => {
    const request = parseMessageEvent({ operation: 'signMessage', message: '0xDEADbeef' }, CHAIN);
    expect(request).toEqual({ operation: 'signMessage', message: { bytes: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]) } });
  });

  it('signs hex-looking text as text when encoding is "utf8"', () => {
    const request = parseMessageEvent({ operation: 'signMessage', message: '0xdeadbeef', encoding: 'utf8' }, CHAIN);
    expect(request).toMatchObject({ message: { bytes: toUtf8Bytes('0xdeadbeef'), text: '0xdeadbeef' } });
  });

  it('accepts the empty message and "0x" as empty bytes only when encoding is "hex"', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: '' }, CHAIN)).toMatchObject({ message: { bytes: new Uint8Array() } });
    expect(parseMessageEvent({ operation: 'signMessage', message: '0x' }, CHAIN)).toMatchObject({ message: { text: '0x' } });
    expect(parseMessageEvent({ operation: 'signMessage', message: '0x', encoding: 'hex' }, CHAIN)).toEqual({ operation: 'signMessage', message: { bytes: new Uint8Array() } });
  });

  it.each<[string, Event, string, RegExp]>([
    ['a missing message', { operation: 'signMessage' }, 'message', /must be a string/],
    ['a number', { operation: 'signMessage', message: 42 }, 'message', /must be a string/],
    ['bad hex with encoding "hex"', { operation: 'signMessage', message: '0xabc', encoding: 'hex' }, 'message', /even number of digits/],
    ['an unknown encoding', { operation: 'signMessage', message: 'hi', encoding: 'base64' }, 'encoding', /"utf8".*"hex"/],
    ['a lone surrogate', { operation: 'signMessage', message: '\uDC00' }, 'message', /unpaired/],
    ['more than 64 KiB', { operation: 'signMessage', message: 'x'.repeat(65537) }, 'message', /65537 bytes of UTF-8; at most 65536/],
    ['more than 64 KiB of hex', { operation: 'signMessage', message: hexlify(new Uint8Array(65537)) }, 'message', /65537 bytes; at most 65536/],
    ['an unknown field', { operation: 'signMessage', message: 'hi', domain: {} }, 'domain', /not accepted by signMessage; accepted: operation, message, encoding/],
  ])('rejects %s', (_label, event, field, problem) => {
    expect(issuesOf(event)).toContainEqual({ field, problem: expect.stringMatching(problem) });
  });
});

describe('parseMessageEvent: signTypedData', () => {
  it('takes domain, types, primaryType and message as eth_signTypedData_v4 does', () => {
    const request = parseMessageEvent({ operation: 'signTypedData', ...MAIL }, CHAIN);
    expect(request).toMatchObject({ operation: 'signTypedData', typedData: { primaryType: 'Mail', domain: { chainId: 1n } } });
  });

  it('rejects a field that eth_signTypedData_v4 does not take', () => {
    expect(issuesOf({ operation: 'signTypedData', ...MAIL, typedData: {} })).toContainEqual({ field: 'typedData', problem: expect.stringMatching(/accepted: operation, domain, types, primaryType, message/) });
  });

  it('rejects missing types, naming them', () => {
    expect(issuesOf({ operation: 'signTypedData', domain: {}, primaryType: 'Mail', message: {} })).toContainEqual({ field: 'types', problem: expect.stringMatching(/must be an object/) });
  });
});

describe('parseMessageEvent: signAuthorization', () => {
  it('reads an EIP-7702 authorization for the configured chain (the default)', () => {
    expect(parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE.toLowerCase(), nonce: 7 }, CHAIN)).toEqual({
      operation: 'signAuthorization',
      authorization: { address: DELEGATE, nonce: 7n, chainId: CHAIN },
    });
  });

  it('accepts nonces up to 2^64-1 and chainId 0 (the policy decides on it)', () => {
    const request = parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE, nonce: '18446744073709551615', chainId: 0 }, CHAIN);
    expect(request).toMatchObject({ authorization: { nonce: 2n ** 64n - 1n, chainId: 0n } });
  });

  it.each<[string, Event, string, RegExp]>([
    ['a nonce of 2^64', { operation: 'signAuthorization', address: DELEGATE, nonce: (2n ** 64n).toString() }, 'nonce', /at most 2\^64-1/],
    ['a missing nonce', { operation: 'signAuthorization', address: DELEGATE }, 'nonce', /is required/],
    ['a negative nonce', { operation: 'signAuthorization', address: DELEGATE, nonce: -1 }, 'nonce', /non-negative integer/],
    ['an unsafe JSON number nonce', { operation: 'signAuthorization', address: DELEGATE, nonce: 2 ** 60 }, 'nonce', /decimal or 0x-hex string/],
    ['another chain', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 5 }, 'chainId', /configured for chain 1.*or 0 for every chain/],
    ['a missing address', { operation: 'signAuthorization', nonce: 0 }, 'address', /contract to delegate to/],
    ['a bad checksum', { operation: 'signAuthorization', address: '0x5fbDB2315678afecb367f032d93F642f64180aa3', nonce: 0 }, 'address', /checksum/],
    ['a transaction field', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, gasLimit: 1 }, 'gasLimit', /not accepted by signAuthorization/],
  ])('rejects %s', (_label, event, field, problem) => {
    expect(issuesOf(event)).toContainEqual({ field, problem: expect.stringMatching(problem) });
  });

  it('reports at most 20 unknown fields, however many there are', () => {
    const event = { operation: 'signAuthorization' as const, address: DELEGATE, nonce: 0, ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, i])) };
    expect(issuesOf(event)).toHaveLength(20);
  });
});
