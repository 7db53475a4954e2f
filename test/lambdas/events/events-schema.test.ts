// events.schema.json is the Lambdas' contract with their callers: these specs hold it to the parsers, to the
// TypeScript types of lambdas/events/event-types.ts and to the responses the operations build.
import Ajv from 'ajv';
import { hexlify, Signature, Transaction, Wallet } from 'ethers';
import { readFileSync } from 'node:fs';
import type * as Json from '../../../lambdas/events/event-types';
import { ACCEPTED_MESSAGE_FIELDS, isMessageEvent, parseMessageEvent } from '../../../lambdas/events/message-request';
import { ACCEPTED_FIELDS, parseSignerEvent, type SignerKind } from '../../../lambdas/events/request';
import type { StatusResponse } from '../../../lambdas/handler';
import { toMessageSignResponse, type MessageSignResponse } from '../../../lambdas/operations/message-signing';
import { toCheckResponse, type CheckResponse } from '../../../lambdas/operations/policy-gate';
import { toSignResponse, type SignResponse } from '../../../lambdas/operations/response';
import type { SignedTransaction } from '../../../lambdas/signer/kms-signer';
import { EVENTS_AJV_OPTIONS, EVENTS_SCHEMA_FILE, EVENTS_VALIDATOR_FILE, generateEventsValidatorSource } from '../../../scripts/events-validator';
import { MAIL } from '../../fixtures/eip712-mail';

interface ObjectSchema {
  properties: Record<string, ObjectSchema>;
  required?: string[];
  items?: ObjectSchema;
}
const schema = JSON.parse(readFileSync(EVENTS_SCHEMA_FILE, 'utf8')) as { $id: string; definitions: Record<string, ObjectSchema> };
const ajv = new Ajv(EVENTS_AJV_OPTIONS);
ajv.addSchema(schema);
const accepts = (definition: string, value: unknown): boolean => ajv.getSchema(`${schema.$id}#/definitions/${definition}`)!(value) as boolean;
const acceptsEvent = (value: unknown): boolean => ajv.getSchema(schema.$id)!(value) as boolean;
const definition = (name: string): ObjectSchema => schema.definitions[name]!;

const CHAIN = 1n;
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const eip1559 = { to: TO, value: '1000', nonce: 0, gasLimit: 21000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '0x3b9aca00' };
const legacy = { to: TO, value: 1, nonce: '7', gasLimit: '0x5208', gasPrice: 1000000000 };

describe('events.schema.json', () => {
  it(`is compiled by npm run build into ${EVENTS_VALIDATOR_FILE}, which is up to date`, () => {
    expect(readFileSync(EVENTS_VALIDATOR_FILE, 'utf8')).toBe(generateEventsValidatorSource());
  });

  it('lists the fields the transaction parser names as accepted', () => {
    expect(ACCEPTED_FIELDS).toEqual({
      statusRequest: Object.keys(definition('statusRequest').properties),
      eip1559TransactionRequest: Object.keys(definition('eip1559TransactionRequest').properties),
      legacyTransactionRequest: Object.keys(definition('legacyTransactionRequest').properties),
      transaction: Object.keys(definition('eip1559Transaction').properties),
      accessListEntry: Object.keys(definition('accessList').items!.properties),
    });
    expect(Object.keys(definition('legacyTransaction').properties)).toEqual(ACCEPTED_FIELDS.transaction);
  });

  it('lists the fields the message parser names as accepted', () => {
    expect(ACCEPTED_MESSAGE_FIELDS).toEqual({
      signMessage: Object.keys(definition('signMessageRequest').properties),
      signTypedData: Object.keys(definition('signTypedDataRequest').properties),
      signAuthorization: Object.keys(definition('signAuthorizationRequest').properties),
    });
  });
});

// Each type is checked against its definition both ways: `complete` must set every field of the type (the
// compiler refuses a missing or an unknown one) and the schema must list exactly those fields and accept it;
// `required` must name exactly the type's required fields (the compiler again) and the schema's.
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
interface TypeCheck<T> {
  readonly complete: Required<T>;
  readonly required: Record<RequiredKeys<T>, true>;
}
const typeCheck = <T>(check: TypeCheck<T>): TypeCheck<unknown> => check as TypeCheck<unknown>;

const signed = (fields: object): SignResponse => {
  const wallet = new Wallet(`0x${'11'.repeat(32)}`);
  const transaction = Transaction.from({ chainId: CHAIN, to: TO, nonce: 1, gasLimit: 21000, ...fields });
  transaction.signature = wallet.signingKey.sign(transaction.unsignedHash);
  return toSignResponse({ transaction, from: wallet.address, keyArn: 'arn', kmsLatencyMs: 1 } satisfies SignedTransaction);
};
const messageSignature = Signature.from({ r: `0x${'12'.repeat(32)}`, s: `0x${'34'.repeat(32)}`, v: 27 });
const authorizationResponse = toMessageSignResponse(
  { operation: 'signAuthorization', authorization: { address: TO, nonce: 7n, chainId: CHAIN } },
  `0x${'ab'.repeat(32)}`,
  messageSignature,
  TO,
);
const allowed = toCheckResponse({ allowed: true, ruleId: 'payouts', charges: [{ limit: { id: 'daily', asset: 'ETH' }, amount: 5n }] } as never);
const denied = toCheckResponse({ allowed: false, reason: 'no rule allowed', closest: [{ ruleId: 'payouts', failed: [{ condition: 'to', reason: 'not listed' }] }] });

const TYPES: Array<[string, TypeCheck<unknown>]> = [
  ['statusRequest', typeCheck<Json.StatusRequest>({ complete: { operation: 'status' }, required: { operation: true } })],
  ['eip1559TransactionRequest', typeCheck<Json.Eip1559TransactionRequest>({
    complete: { operation: 'sign', idempotencyKey: 'payout-1', transaction: eip1559 },
    required: { operation: true, transaction: true },
  })],
  ['legacyTransactionRequest', typeCheck<Json.LegacyTransactionRequest>({
    complete: { operation: 'check', idempotencyKey: 'payout-2', replayProtection: true, transaction: legacy },
    required: { operation: true, transaction: true },
  })],
  ['eip1559Transaction', typeCheck<Json.Eip1559TransactionJson>({
    complete: { ...eip1559, type: 2, from: TO, data: '0x', chainId: 1, accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(32)}`] }], gasPrice: null, sig: null, signature: null },
    required: { nonce: true, gasLimit: true, maxFeePerGas: true, maxPriorityFeePerGas: true },
  })],
  ['legacyTransaction', typeCheck<Json.LegacyTransactionJson>({
    complete: { ...legacy, type: 1, from: TO, data: '0x', chainId: '1', accessList: [], maxFeePerGas: null, maxPriorityFeePerGas: null, sig: null, signature: null },
    required: { nonce: true, gasLimit: true, gasPrice: true },
  })],
  ['signMessageRequest', typeCheck<Json.SignMessageRequest>({ complete: { operation: 'signMessage', message: '0xdead', encoding: 'hex' }, required: { operation: true, message: true } })],
  ['signTypedDataRequest', typeCheck<Json.SignTypedDataRequest>({
    complete: { operation: 'signTypedData', domain: MAIL.domain, types: MAIL.types, primaryType: MAIL.primaryType, message: MAIL.message },
    required: { operation: true, domain: true, types: true, primaryType: true, message: true },
  })],
  ['signAuthorizationRequest', typeCheck<Json.SignAuthorizationRequest>({
    complete: { operation: 'signAuthorization', address: TO, nonce: '7', chainId: 0 },
    required: { operation: true, address: true, nonce: true },
  })],
  ['statusResponse', typeCheck<StatusResponse>({ complete: { address: TO, keyId: 'arn:aws:kms:eu-west-1:111122223333:key/k', chainId: 1 }, required: { address: true, keyId: true, chainId: true } })],
  ['signResponse', typeCheck<SignResponse>({ complete: signed({ type: 2, maxFeePerGas: 2, maxPriorityFeePerGas: 1 }), required: { signedTransaction: true, transactionHash: true, from: true, signature: true } })],
  ['checkResponse', typeCheck<CheckResponse>({ complete: { allowed: false, ruleId: 'payouts', reason: 'no rule allowed', closest: [], charges: [], limits: [], limitsUnknown: 'no store' }, required: { allowed: true } })],
  ['messageSignResponse', typeCheck<MessageSignResponse>({
    complete: authorizationResponse as Required<MessageSignResponse>,
    required: { signature: true, r: true, s: true, v: true, yParity: true, digest: true, address: true },
  })],
];

describe('the TypeScript types of events and responses', () => {
  it.each(TYPES)('have the fields of #/definitions/%s, and require the same ones', (name, { complete, required }) => {
    expect(Object.keys(complete as object).sort()).toEqual(Object.keys(definition(name).properties).sort());
    expect(Object.keys(required).sort()).toEqual([...(definition(name).required ?? [])].sort());
    expect(accepts(name, complete)).toBe(true);
  });
});

describe('the responses the operations build', () => {
  it.each<[string, string, unknown]>([
    ['a signed type 2 transaction', 'signResponse', signed({ type: 2, maxFeePerGas: 2, maxPriorityFeePerGas: 1 })],
    ['a signed type 1 transaction', 'signResponse', signed({ type: 1, gasPrice: 2, accessList: [] })],
    ['a signed pre-EIP-155 transaction', 'signResponse', signed({ type: 0, gasPrice: 2, chainId: 0 })],
    ['an allowed check', 'checkResponse', allowed],
    ['a denied check', 'checkResponse', denied],
    ['a signed authorization', 'messageSignResponse', authorizationResponse],
    ['a signed message', 'messageSignResponse', toMessageSignResponse({ operation: 'signMessage', message: { bytes: new Uint8Array([1]) } }, `0x${'ab'.repeat(32)}`, messageSignature, TO)],
  ])('match the schema: %s', (_label, name, response) => {
    expect(accepts(name, response)).toBe(true);
  });
});

const parses = (event: unknown, kind: SignerKind): boolean => {
  try {
    if (isMessageEvent(event)) parseMessageEvent(event, CHAIN);
    else parseSignerEvent(event, kind, CHAIN);
    return true;
  } catch {
    return false;
  }
};

describe('events the parsers accept', () => {
  // From the parsers' specs (test/lambdas/events/*.test.ts).
  it.each<[string, SignerKind, object]>([
    ['status', 'eip1559', { operation: 'status' }],
    ['an EIP-1559 sign', 'eip1559', { operation: 'sign', transaction: eip1559 }],
    ['an EIP-1559 check with an idempotency key', 'eip1559', { operation: 'check', transaction: { ...eip1559, type: 2 }, idempotencyKey: 'k-1' }],
    ['a contract creation', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: null, data: '0x6000' } }],
    ['ethers toJSON nulls', 'eip1559', { operation: 'sign', transaction: { ...eip1559, type: null, from: null, value: null, data: null, chainId: null, accessList: null, gasPrice: null, sig: null, signature: null } }],
    ['a legacy sign', 'legacy', { operation: 'sign', transaction: legacy }],
    ['a type 1 with an access list', 'legacy', { operation: 'sign', transaction: { ...legacy, accessList: [{ address: TO.toLowerCase(), storageKeys: [`0x${'AB'.repeat(32)}`] }, { address: TO }] } }],
    ['a pre-EIP-155 sign', 'legacy', { operation: 'sign', transaction: legacy, replayProtection: false }],
    ['a text message', 'eip1559', { operation: 'signMessage', message: 'héllo' }],
    ['hex-looking text, as text', 'eip1559', { operation: 'signMessage', message: '0xdeadbeef', encoding: 'utf8' }],
    ['hex bytes', 'eip1559', { operation: 'signMessage', message: '0xDEADbeef', encoding: 'hex' }],
    ['the empty message, as "0x" with encoding hex', 'eip1559', { operation: 'signMessage', message: '0x', encoding: 'hex' }],
    ['64 KiB of UTF-8', 'eip1559', { operation: 'signMessage', message: 'é'.repeat(32768) }],
    ['64 KiB of hex', 'eip1559', { operation: 'signMessage', message: hexlify(new Uint8Array(65536)), encoding: 'hex' }],
    ['EIP-712 Mail', 'legacy', { operation: 'signTypedData', ...MAIL }],
    ['an authorization', 'eip1559', { operation: 'signAuthorization', address: TO, nonce: 7 }],
    ['an authorization for every chain', 'eip1559', { operation: 'signAuthorization', address: TO, nonce: '0xff', chainId: 0 }],
  ])('%s: both accept it', (_label, kind, event) => {
    expect(parses(event, kind)).toBe(true);
    expect(accepts(kind === 'eip1559' ? 'eip1559Request' : 'legacyRequest', event)).toBe(true);
    expect(acceptsEvent(event)).toBe(true);
  });

  // Rules of issue 26 (one meaning per message, MetaMask-verifiable typed data): the schema and the parsers agree.
  it.each<[string, object]>([
    ['0x-hex without an encoding (ambiguous: text or bytes?)', { operation: 'signMessage', message: '0xDEADbeef' }],
    ['"0x" without an encoding', { operation: 'signMessage', message: '0x' }],
    ['odd hex digits without an encoding', { operation: 'signMessage', message: '0xabc' }],
    ['upper-case 0X hex without an encoding', { operation: 'signMessage', message: '0XAB' }],
    ['a struct type name with $', { operation: 'signTypedData', ...MAIL, types: { ...MAIL.types, $Mail: MAIL.types.Mail } }],
  ])('refused by the schema and by the parsers: %s', (_label, event) => {
    expect(acceptsEvent(event)).toBe(false);
    expect(parses(event, 'eip1559')).toBe(false);
  });
});

describe('events the schema refuses', () => {
  it.each<[string, SignerKind, object]>([
    ['an unknown operation', 'eip1559', { operation: 'sign_message' }],
    ['an unknown field', 'eip1559', { operation: 'status', debug: true }],
    ['replayProtection on the EIP-1559 Lambda', 'eip1559', { operation: 'sign', transaction: eip1559, replayProtection: false }],
    ['a legacy fee field on the EIP-1559 Lambda', 'eip1559', { operation: 'sign', transaction: { ...eip1559, gasPrice: 1 } }],
    ['an EIP-1559 fee field on the legacy Lambda', 'legacy', { operation: 'sign', transaction: { ...legacy, maxFeePerGas: 1 } }],
    ['a missing nonce', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: null } }],
    ['a fractional value', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: 1.5 } }],
    ['a JSON number above 2^53-1', 'eip1559', { operation: 'sign', transaction: { ...eip1559, value: 2 ** 60 } }],
    ['a decimal with a leading zero', 'eip1559', { operation: 'sign', transaction: { ...eip1559, nonce: '007' } }],
    ['an ENS name', 'eip1559', { operation: 'sign', transaction: { ...eip1559, to: 'vitalik.eth' } }],
    ['odd-length data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, data: '0x123' } }],
    ['more than 128 KiB of data', 'eip1559', { operation: 'sign', transaction: { ...eip1559, data: `0x${'00'.repeat(128 * 1024 + 1)}` } }],
    ['1,025 access-list entries', 'eip1559', { operation: 'sign', transaction: { ...eip1559, accessList: Array.from({ length: 1025 }, () => ({ address: TO })) } }],
    ['a short storage key', 'eip1559', { operation: 'sign', transaction: { ...eip1559, accessList: [{ address: TO, storageKeys: ['0x01'] }] } }],
    ['type 2 on the legacy Lambda', 'legacy', { operation: 'sign', transaction: { ...legacy, type: 2 } }],
    ['a signature', 'eip1559', { operation: 'sign', transaction: { ...eip1559, signature: '0x1234' } }],
    ['a bad idempotency key', 'eip1559', { operation: 'sign', transaction: eip1559, idempotencyKey: 'has space' }],
    ['a message that is not a string', 'eip1559', { operation: 'signMessage', message: 42 }],
    ['bad hex with encoding "hex"', 'eip1559', { operation: 'signMessage', message: '0xabc', encoding: 'hex' }],
    ['an unknown encoding', 'eip1559', { operation: 'signMessage', message: 'hi', encoding: 'base64' }],
    ['more than 64 KiB of hex', 'eip1559', { operation: 'signMessage', message: hexlify(new Uint8Array(65537)), encoding: 'hex' }],
    ['a field eth_signTypedData_v4 does not take', 'eip1559', { operation: 'signTypedData', ...MAIL, typedData: {} }],
    ['missing types', 'eip1559', { operation: 'signTypedData', domain: {}, primaryType: 'Mail', message: {} }],
    ['an authorization without a nonce', 'eip1559', { operation: 'signAuthorization', address: TO }],
    ['an authorization nonce of 81 characters', 'eip1559', { operation: 'signAuthorization', address: TO, nonce: `0x${'0'.repeat(77)}2a` }],
    ['an authorization address in an array', 'eip1559', { operation: 'signAuthorization', address: [TO], nonce: 0 }],
    ['a transaction field in an authorization', 'eip1559', { operation: 'signAuthorization', address: TO, nonce: 0, gasLimit: 1 }],
  ])('%s, as the parser does', (_label, kind, event) => {
    expect(accepts(kind === 'eip1559' ? 'eip1559Request' : 'legacyRequest', event)).toBe(false);
    expect(parses(event, kind)).toBe(false);
  });
});
