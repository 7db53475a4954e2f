import { InvalidRequestError, parseSignerEvent } from '../../../lambdas/events/request';

const transaction = { to: '0x000000000000000000000000000000000000dEaD', value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' };

describe('parseSignerEvent idempotencyKey', () => {
  it('passes a valid idempotencyKey along with a sign request', () => {
    expect(parseSignerEvent({ operation: 'sign', transaction, idempotencyKey: 'payout-42' }, 'eip1559', 1n)).toMatchObject({ operation: 'sign', idempotencyKey: 'payout-42' });
  });

  it('passes a valid idempotencyKey along with a legacy sign request too', () => {
    const legacy = { to: transaction.to, value: '1', nonce: 0, gasLimit: 21000, gasPrice: '2' };
    expect(parseSignerEvent({ operation: 'sign', transaction: legacy, idempotencyKey: 'payout-43' }, 'legacy', 1n)).toMatchObject({ operation: 'sign', idempotencyKey: 'payout-43' });
  });

  it('has no idempotencyKey when the event has none', () => {
    expect(parseSignerEvent({ operation: 'sign', transaction }, 'eip1559', 1n)).not.toHaveProperty('idempotencyKey');
  });

  it.each([[''], ['has space'], ['x'.repeat(129)], [7]])('rejects idempotencyKey %p naming the field', (idempotencyKey) => {
    let error: unknown;
    try {
      parseSignerEvent({ operation: 'sign', transaction, idempotencyKey }, 'eip1559', 1n);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).issues).toEqual([{ field: 'idempotencyKey', problem: expect.stringContaining('1 to 128 printable ASCII') }]);
  });
});
