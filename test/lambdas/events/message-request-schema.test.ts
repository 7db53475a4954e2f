// The message parser fails closed on its schema: an event the generated validator refuses is refused even when
// no hand-written check words why (the schema and the code drifted apart).
import { parseMessageEvent } from '../../../lambdas/events/message-request';
import { InvalidRequestError } from '../../../lambdas/events/request';
import { MAIL } from '../../fixtures/eip712-mail';
import { thrownBy } from '../../helpers/rejection';

jest.mock('../../../lambdas/events/schema-validator', () => {
  const actual = jest.requireActual<Record<string, unknown>>('../../../lambdas/events/schema-validator');
  // A schema stricter than the code: it refuses the Mail example's contents.
  const refuseContents = Object.assign(() => false, { errors: [{ instancePath: '/message/contents', keyword: 'maxLength', params: {} }] });
  // One that refuses 25 fields of an authorization the code accepts.
  const refuseMany = Object.assign(() => false, { errors: Array.from({ length: 25 }, (_, i) => ({ instancePath: `/f${i}`, keyword: 'maxLength', params: {} })) });
  return { ...actual, validateSignTypedDataRequest: refuseContents, validateSignAuthorizationRequest: refuseMany };
});

describe('parseMessageEvent against its schema', () => {
  it('refuses an event the schema refuses although every hand-written check passes, naming the field', () => {
    const error = thrownBy(InvalidRequestError, () => parseMessageEvent({ operation: 'signTypedData', ...MAIL }, 1n));
    expect(error.issues).toEqual([{ field: 'message.contents', problem: 'does not match events.schema.json (#/definitions/signTypedDataRequest)' }]);
  });

  it('names at most 20 of the fields the schema refuses', () => {
    const error = thrownBy(InvalidRequestError, () => parseMessageEvent({ operation: 'signAuthorization', address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', nonce: 0 }, 1n));
    expect(error.issues.map((issue) => issue.field)).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
    expect(error.issueCount).toBe(20);
  });

  it('still reads an event of another operation the schema accepts', () => {
    expect(parseMessageEvent({ operation: 'signMessage', message: 'hi' }, 1n)).toMatchObject({ operation: 'signMessage' });
  });
});
