import { InvalidSpendingLimitError, PolicyStateUnavailableError, SigningInProgressError, SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';

describe('SpendingLimitExceededError', () => {
  const limit = { limitId: 'key:daily', windowSeconds: 86_400, asset: 'native' };

  it('names the limit, its window and asset, what the transaction adds and everything that is left', () => {
    const error = new SpendingLimitExceededError({ ...limit, remainingAmount: 250n, remainingCount: 0, nextReleaseMs: Date.UTC(2026, 10, 26, 18, 0, 0) }, 1000n);
    expect(error).toMatchObject({ name: 'SpendingLimitExceededError', requestedAmount: 1000n, limit: { limitId: 'key:daily', remainingAmount: 250n } });
    expect(error.message).toBe(
      'Spending limit "key:daily" (86400 s rolling window, asset native) would be exceeded: this transaction adds 1000 and 1 signature; ' +
        '250 remain in the window; 0 signature(s) remain in the window; the oldest counted spending leaves the window at 2026-11-26T18:00:00.000Z. ' +
        'Nothing was signed: wait, or send less.',
    );
  });

  it('leaves out the parts a limit does not have', () => {
    expect(new SpendingLimitExceededError(limit, 5n).message).toBe(
      'Spending limit "key:daily" (86400 s rolling window, asset native) would be exceeded: this transaction adds 5 and 1 signature. Nothing was signed: wait, or send less.',
    );
  });

  it('clips a limit id or asset longer than 120 characters', () => {
    const error = new SpendingLimitExceededError({ ...limit, limitId: 'i'.repeat(121), asset: 'a'.repeat(120) }, 0n);
    expect(error.message).toContain(`"${'i'.repeat(117)}..." (86400 s rolling window, asset ${'a'.repeat(120)})`);
  });
});

describe('PolicyStateUnavailableError', () => {
  it('says what failed and that nothing was signed, keeping the cause', () => {
    const cause = new Error('ProvisionedThroughputExceededException');
    const error = new PolicyStateUnavailableError('reserving spending', { cause });
    expect(error).toMatchObject({ name: 'PolicyStateUnavailableError', cause });
    expect(error.message).toBe('The signing policy state store is unavailable (reserving spending); nothing was signed. Retry later; if it persists, see the function logs.');
  });
});

describe('SigningInProgressError', () => {
  it('tells the caller to retry for the result, keeping the cause', () => {
    const cause = new Error('ConditionalCheckFailedException');
    expect(new SigningInProgressError({ cause })).toMatchObject({
      name: 'SigningInProgressError',
      message: 'An identical request is being signed right now; retry in a few seconds to get its result.',
      cause,
    });
  });
});

describe('InvalidSpendingLimitError', () => {
  it('is named for the errorType callers branch on', () => {
    expect(new InvalidSpendingLimitError('bad')).toMatchObject({ name: 'InvalidSpendingLimitError', message: 'bad' });
  });
});
