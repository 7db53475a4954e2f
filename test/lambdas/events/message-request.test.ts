import fc from 'fast-check';
import { hexlify, toUtf8Bytes } from 'ethers';
import { isMessageEvent, parseMessageEvent, printableAscii, type MessageOperation } from '../../../lambdas/events/message-request';
import { InvalidRequestError } from '../../../lambdas/events/request';
import { MAIL } from '../../fixtures/eip712-mail';
import { thrownBy } from '../../helpers/rejection';

const CHAIN = 1n;
const DELEGATE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
type Event = Record<string, unknown> & { operation: MessageOperation };

const issuesOf = (event: Event) => thrownBy(InvalidRequestError, () => parseMessageEvent(event, CHAIN)).issues;

describe('isMessageEvent', () => {
  it.each(['signMessage', 'signTypedData', 'signAuthorization'])('recognises %s', (operation) => {
    expect(isMessageEvent({ operation })).toBe(true);
  });
  it.each([['sign'], ['status'], ['toString'], [undefined]])('leaves %s to the transaction parser', (operation) => {
    expect(isMessageEvent({ operation })).toBe(false);
  });
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'signMessage'],
    ['an array carrying an operation', Object.assign(['signMessage'], { operation: 'signMessage' })],
  ])('leaves %s to the transaction parser, which rejects events that are not objects', (_label, event) => {
    expect(isMessageEvent(event)).toBe(false);
  });
});

describe('parseMessageEvent: signMessage', () => {
  it('reads text as UTF-8', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: 'héllo' }, CHAIN)).toEqual({
      operation: 'signMessage',
      message: { bytes: toUtf8Bytes('héllo'), text: 'héllo' },
    });
  });

  it('reads 0x-hex as the bytes it spells when encoding is "hex"', () => {
    const request = parseMessageEvent({ operation: 'signMessage', message: '0xDEADbeef', encoding: 'hex' }, CHAIN);
    expect(request).toEqual({ operation: 'signMessage', message: { bytes: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]) } });
  });

  it('signs hex-looking text as text when encoding is "utf8"', () => {
    const request = parseMessageEvent({ operation: 'signMessage', message: '0xdeadbeef', encoding: 'utf8' }, CHAIN);
    expect(request).toMatchObject({ message: { bytes: toUtf8Bytes('0xdeadbeef'), text: '0xdeadbeef' } });
  });

  it('accepts the empty message as text, and "0x" as the empty message when encoding is "hex"', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: '' }, CHAIN)).toMatchObject({ message: { bytes: new Uint8Array() } });
    expect(parseMessageEvent({ operation: 'signMessage', message: '0x', encoding: 'utf8' }, CHAIN)).toMatchObject({ message: { text: '0x' } });
    expect(parseMessageEvent({ operation: 'signMessage', message: '0x', encoding: 'hex' }, CHAIN)).toEqual({ operation: 'signMessage', message: { bytes: new Uint8Array() } });
  });

  it('reads text that only starts like hex ("0xyz", "0x12 apples") as text without an encoding', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: '0xyz' }, CHAIN)).toMatchObject({ message: { text: '0xyz' } });
    expect(parseMessageEvent({ operation: 'signMessage', message: '0x12 apples' }, CHAIN)).toMatchObject({ message: { text: '0x12 apples' } });
  });

  // One meaning per message: each of these is read as text by ethers and viem and as bytes (or refused) by
  // personal_sign, eth-sig-util and cast, so without an encoding it is refused.
  it.each([['"0x" (empty bytes or two characters)', '0x'], ['even hex', '0xdeadbeef'], ['odd hex (eth-sig-util signs 0x0abc, cast refuses)', '0xabc'], ['capital 0X', '0XDEAD']])(
    'refuses %s without an encoding, asking for one',
    (_label, message) => {
      expect(issuesOf({ operation: 'signMessage', message })).toEqual([{
        field: 'message',
        problem: `looks like 0x-hex, which tools read either as text or as bytes; add "encoding": "hex" to sign the bytes it spells, or "encoding": "utf8" to sign the text (${message.length} characters, not echoed)`,
      }]);
    },
  );

  it('accepts exactly 64 KiB, as text and as hex', () => {
    const text = 'é'.repeat(32768);
    expect(parseMessageEvent({ operation: 'signMessage', message: text }, CHAIN)).toMatchObject({ message: { text } });
    const hex = hexlify(new Uint8Array(65536).fill(0xab));
    expect(parseMessageEvent({ operation: 'signMessage', message: hex, encoding: 'hex' }, CHAIN)).toEqual({ operation: 'signMessage', message: { bytes: new Uint8Array(65536).fill(0xab) } });
  });

  it.each<[string, Event, string, RegExp]>([
    ['a missing message', { operation: 'signMessage' }, 'message', /must be a string/],
    ['a number', { operation: 'signMessage', message: 42 }, 'message', /^must be a string: UTF-8 text, or 0x-prefixed hex with "encoding": "hex" for raw bytes; got 42$/],
    ['odd hex digits with encoding "hex"', { operation: 'signMessage', message: '0xabc', encoding: 'hex' }, 'message', /^has an odd number of hex digits \(3\), so it spells no whole bytes/],
    ['text before the 0x with encoding "hex"', { operation: 'signMessage', message: 'ab0x00', encoding: 'hex' }, 'message', /^must be 0x-prefixed hex when encoding is "hex" \("0x" is the empty message\); got "ab0x00"$/],
    ['a non-hex digit with encoding "hex"', { operation: 'signMessage', message: '0x00zz', encoding: 'hex' }, 'message', /must be 0x-prefixed hex/],
    ['text with encoding "hex"', { operation: 'signMessage', message: 'hello', encoding: 'hex' }, 'message', /must be 0x-prefixed hex/],
    ['an unknown encoding', { operation: 'signMessage', message: 'hi', encoding: 'base64' }, 'encoding', /^must be "utf8" \(sign the text\) or "hex" \(sign the bytes the 0x-hex string spells\), or omitted; got "base64"$/],
    ['an encoding in capitals', { operation: 'signMessage', message: 'hi', encoding: 'UTF8' }, 'encoding', /or omitted; got "UTF8"/],
    ['a lone surrogate', { operation: 'signMessage', message: '\uDC00' }, 'message', /^contains an unpaired UTF-16 surrogate, which has no UTF-8 encoding$/],
    ['more than 64 KiB', { operation: 'signMessage', message: 'x'.repeat(65537) }, 'message', /^is 65537 bytes of UTF-8; at most 65536 are accepted$/],
    ['fewer than 65,536 characters that are more than 64 KiB of UTF-8', { operation: 'signMessage', message: 'é'.repeat(32769) }, 'message', /^is 65538 bytes of UTF-8; at most 65536 are accepted$/],
    ['more than 64 KiB of hex-looking text with encoding "utf8"', { operation: 'signMessage', message: `0x${'ab'.repeat(40000)}`, encoding: 'utf8' }, 'message', /^is 80002 bytes of UTF-8; at most 65536 are accepted$/],
    ['more than 64 KiB of hex', { operation: 'signMessage', message: hexlify(new Uint8Array(65537)), encoding: 'hex' }, 'message', /^is 65537 bytes; at most 65536 are accepted$/],
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

  it('words an unknown field inside the payload once, by its path, not as an unknown field of the event', () => {
    const { EIP712Domain, ...structs } = MAIL.types;
    expect(issuesOf({ operation: 'signTypedData', ...MAIL, types: { EIP712Domain, ...structs }, domain: { ...MAIL.domain, extra: 1 } })).toEqual([
      { field: 'domain.extra', problem: 'is not an EIP-712 domain field; accepted: name, version, chainId, verifyingContract, salt' },
    ]);
    expect(issuesOf({ operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, Person: [{ name: 'name', type: 'string', extra: 1 }] } })).toEqual([
      { field: 'types.Person[0].extra', problem: 'is not accepted; a field has only name and type' },
    ]);
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

  it('accepts nonces up to 2^64-2 and chainId 0 (the policy decides on it)', () => {
    const request = parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE, nonce: '18446744073709551614', chainId: 0 }, CHAIN);
    expect(request).toMatchObject({ authorization: { nonce: 2n ** 64n - 2n, chainId: 0n } });
  });

  it.each<[string, unknown, bigint]>([
    ['0 as a JSON number', 0, 0n],
    ['2^53-1 as a JSON number', Number.MAX_SAFE_INTEGER, 2n ** 53n - 1n],
    ['a decimal string', '42', 42n],
    ['"0"', '0', 0n],
    ['a 0x-hex string', '0xFFffFFffFFffFFfe', 2n ** 64n - 2n],
    ['an 80-character 0x-hex string', `0x${'0'.repeat(76)}2a`, 42n],
  ])('reads a nonce given as %s', (_label, nonce, expected) => {
    expect(parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE, nonce }, CHAIN)).toMatchObject({ authorization: { nonce: expected } });
  });

  it.each<[string, unknown]>([['a JSON number', 1], ['a decimal string', '1'], ['a 0x-hex string', '0x01']])('accepts the configured chain named explicitly as %s', (_label, chainId) => {
    expect(parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId }, CHAIN)).toEqual({
      operation: 'signAuthorization',
      authorization: { address: DELEGATE, nonce: 0n, chainId: CHAIN },
    });
  });

  it('reads a chain id up to 2^256-1, refusing it as another chain rather than as out of range', () => {
    const issues = issuesOf({ operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: (2n ** 256n - 1n).toString() });
    expect(issues).toEqual([{ field: 'chainId', problem: `is ${2n ** 256n - 1n}, but this signer is configured for chain 1 (ETH_NETWORK); use 1, or 0 for every chain if the signing policy allows it` }]);
  });

  it('reports a chain id that is not a number once, as such', () => {
    expect(issuesOf({ operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 'mainnet' })).toEqual([
      { field: 'chainId', problem: 'must be a non-negative integer as a JSON number (safe integer), a decimal string or a 0x-hex string; got "mainnet"' },
    ]);
  });

  it('reports a missing field once, as missing, not also as a field it does not accept', () => {
    expect(issuesOf({ operation: 'signAuthorization', nonce: 0 })).toEqual([
      { field: 'address', problem: 'must be the address of the contract to delegate to: 0x and 40 hex digits; got nothing' },
    ]);
  });

  it('names every problem of an authorization at once', () => {
    expect(issuesOf({ operation: 'signAuthorization', address: 'me', nonce: 'x', chainId: 5 }).map((issue) => issue.field)).toEqual(['address', 'nonce', 'chainId']);
  });

  const NOT_A_UINT = /^must be a non-negative integer as a JSON number \(safe integer\), a decimal string or a 0x-hex string; got /;
  it.each<[string, unknown]>([
    ['a fraction', 1.5],
    ['a negative unsafe JSON number', -(2 ** 60)],
    ['infinity', Number.POSITIVE_INFINITY],
    ['a decimal with a leading zero', '07'],
    ['a negative decimal string', '-1'],
    ['an exponent', '1e3'],
    ['a decimal with a trailing letter', '12a'],
    ['a decimal with a leading space', ' 12'],
    ['a bare 0x', '0x'],
    ['hex with a non-hex digit', '0x1g'],
    ['text before the 0x', 'ab0x10'],
    ['an 81-character string', `0x${'0'.repeat(77)}2a`],
    ['a bigint-looking object', { value: '1' }],
    ['a decimal string inside an array', ['7']],
  ])('rejects a nonce given as %s, saying which forms are accepted', (_label, nonce) => {
    expect(issuesOf({ operation: 'signAuthorization', address: DELEGATE, nonce })).toEqual([{ field: 'nonce', problem: expect.stringMatching(NOT_A_UINT) }]);
  });

  it.each<[string, Event, string, RegExp]>([
    ['a nonce of 2^64-1 (EIP-7702 requires nonce < 2^64-1)', { operation: 'signAuthorization', address: DELEGATE, nonce: (2n ** 64n - 1n).toString() }, 'nonce', /^must be at most 2\^64-2 \(EIP-7702 requires nonce < 2\^64-1; clients skip an authorization with a larger one\); got 18446744073709551615$/],
    ['a nonce of 2^64', { operation: 'signAuthorization', address: DELEGATE, nonce: (2n ** 64n).toString() }, 'nonce', /^must be at most 2\^64-2 .*; got 18446744073709551616$/],
    ['a chain id of 2^256', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: (2n ** 256n).toString() }, 'chainId', /^must be at most 2\^256-1; got 115792089237316195423570985008687907853269984665640564039457584007913129639936$/],
    ['an address inside an array', { operation: 'signAuthorization', address: [DELEGATE], nonce: 0 }, 'address', /^must be the address of the contract to delegate to: 0x and 40 hex digits; got \["0x5FbDB2315678afecb367f032d93F642f64180aa3"\]$/],
    ['a missing nonce', { operation: 'signAuthorization', address: DELEGATE }, 'nonce', /^is required: the account's nonce when the authorization is processed .*, below 2\^64-1$/],
    ['a negative nonce', { operation: 'signAuthorization', address: DELEGATE, nonce: -1 }, 'nonce', /non-negative integer.*; got -1$/],
    ['an unsafe JSON number nonce', { operation: 'signAuthorization', address: DELEGATE, nonce: 2 ** 60 }, 'nonce', /^is a JSON number above 2\^53-1, which JSON parsers round; send it as a decimal or 0x-hex string$/],
    ['another chain', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: 5 }, 'chainId', /^is 5, but this signer is configured for chain 1 \(ETH_NETWORK\); use 1, or 0 for every chain/],
    ['a missing address', { operation: 'signAuthorization', nonce: 0 }, 'address', /^must be the address of the contract to delegate to: 0x and 40 hex digits; got nothing$/],
    ['an address with text before it', { operation: 'signAuthorization', address: `x${DELEGATE}`, nonce: 0 }, 'address', /contract to delegate to/],
    ['an address with text after it', { operation: 'signAuthorization', address: `${DELEGATE}00`, nonce: 0 }, 'address', /contract to delegate to/],
    ['an address with a non-hex digit', { operation: 'signAuthorization', address: `${DELEGATE.slice(0, -1)}g`, nonce: 0 }, 'address', /contract to delegate to/],
    ['a bad checksum', { operation: 'signAuthorization', address: '0x5fbDB2315678afecb367f032d93F642f64180aa3', nonce: 0 }, 'address', /^has an invalid EIP-55 checksum \(0x5fbDB2315678afecb367f032d93F642f64180aa3\), so it may be mistyped; copy the address again from its source$/],
    ['a transaction field', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, gasLimit: 1 }, 'gasLimit', /^is not accepted by signAuthorization; accepted: operation, address, nonce, chainId$/],
    ['a long unknown field, cut with its length', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, ['y'.repeat(100)]: 1 }, `${'y'.repeat(61)}...(100 characters)`, /not accepted/],
  ])('rejects %s', (_label, event, field, problem) => {
    expect(issuesOf(event)).toContainEqual({ field, problem: expect.stringMatching(problem) });
  });

  it('reports at most 20 unknown fields, however many there are', () => {
    const event = { operation: 'signAuthorization' as const, address: DELEGATE, nonce: 0, ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, i])) };
    const error = (() => {
      try {
        return parseMessageEvent(event, CHAIN);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ name: 'InvalidRequestError', issueCount: 20, message: expect.stringMatching(/^Invalid request \(20 problems\)/) });
    expect((error as InvalidRequestError).issues).toHaveLength(20);
  });
});

describe('error messages of the message operations', () => {
  const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
  const messageOf = (event: Event) => thrownBy(InvalidRequestError, () => parseMessageEvent(event, CHAIN)).message;
  const { EIP712Domain, ...MAIL_STRUCTS } = MAIL.types;

  // One event per error path that echoes input or names a path built from it, each with non-ASCII in it.
  it.each<[string, Event]>([
    ['a non-string message', { operation: 'signMessage', message: { 'é': '→' } }],
    ['an unknown encoding', { operation: 'signMessage', message: 'hi', encoding: 'ütf8' }],
    ['hex with a non-hex digit', { operation: 'signMessage', message: '0x0é', encoding: 'hex' }],
    ['a lone surrogate', { operation: 'signMessage', message: 'a\uD800' }],
    ['an unknown field name', { operation: 'signMessage', message: 'hi', 'naïve\u202e': 1 }],
    ['a non-identifier struct name', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, 'Mäil': MAIL.types.Mail } }],
    ['a struct name with $', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, 'Mail$': MAIL.types.Mail } }],
    ['a bad field type', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, Person: [{ name: 'name', type: 'strïng' }] } }],
    ['a bad field name', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, Person: [{ name: 'nåme', type: 'string' }] } }],
    ['an extra key in a field', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, Person: [{ name: 'name', type: 'string', 'ñ': 1 }] } }],
    ['recursive types (the cycle is drawn)', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, Person: [{ name: 'mail', type: 'Mail' }] } }],
    ['a missing EIP712Domain', { operation: 'signTypedData', ...MAIL, types: MAIL_STRUCTS }],
    ['an unknown domain field', { operation: 'signTypedData', ...MAIL, types: { EIP712Domain, ...MAIL_STRUCTS }, domain: { ...MAIL.domain, 'ünknown': 1 } }],
    ['a bad domain value', { operation: 'signTypedData', ...MAIL, domain: { ...MAIL.domain, chainId: '１' } }],
    ['a message field the type lacks', { operation: 'signTypedData', ...MAIL, message: { ...MAIL.message, 'zusätzlich': 1 } }],
    ['a bad string value', { operation: 'signTypedData', ...MAIL, message: { ...MAIL.message, contents: 'Bob \uDC00' } }],
    ['a bad address value', { operation: 'signTypedData', ...MAIL, message: { ...MAIL.message, to: { name: 'Bob', wallet: '0xäbc' } } }],
    ['an object with many non-ASCII keys', { operation: 'signTypedData', ...MAIL, message: { ...MAIL.message, to: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`κ${i}`, i])) } }],
    ['a primaryType not declared', { operation: 'signTypedData', ...MAIL, primaryType: 'Lëtter' }],
    ['a bad nonce', { operation: 'signAuthorization', address: DELEGATE, nonce: '७' }],
    ['a bad address', { operation: 'signAuthorization', address: '0x→', nonce: 0 }],
    ['a bad chain id', { operation: 'signAuthorization', address: DELEGATE, nonce: 0, chainId: '一' }],
  ])('are printable ASCII for %s', (_label, event) => {
    expect(messageOf(event)).toMatch(PRINTABLE_ASCII);
  });

  it('are printable ASCII for any event (property)', () => {
    const anyValue = fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue(), fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })));
    fc.assert(
      fc.property(fc.constantFrom<MessageOperation>('signMessage', 'signTypedData', 'signAuthorization'), fc.dictionary(fc.string({ unit: 'binary' }), anyValue), (operation, fields) => {
        const event = { ...fields, operation } as Event;
        try {
          parseMessageEvent(event, CHAIN);
        } catch (error) {
          expect((error as Error).message).toMatch(PRINTABLE_ASCII);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('printableAscii', () => {
  it('escapes every character outside printable ASCII as \\uXXXX and keeps the rest', () => {
    expect(printableAscii('naïve → ok\n')).toBe('na\\u00efve \\u2192 ok\\u000a');
    expect(printableAscii('plain ASCII ~')).toBe('plain ASCII ~');
  });
});
