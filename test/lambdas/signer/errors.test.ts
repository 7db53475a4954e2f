import { ConfigurationError, SignerError } from '../../../lambdas/signer/errors';

describe('SignerError', () => {
  // Thrown as it is where no more specific error fits (an ENS name without a provider); the Lambda runtime
  // and callers read `name` as the error type.
  it('is an Error named SignerError that keeps its message and the original error as cause', () => {
    const cause = new Error('socket hang up');
    const error = new SignerError('Cannot resolve the ENS name mail.eth: connect the signer to a provider.', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SignerError');
    expect(error.message).toBe('Cannot resolve the ENS name mail.eth: connect the signer to a provider.');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('SignerError: Cannot resolve the ENS name mail.eth: connect the signer to a provider.');
  });

  it('has no cause when none is given', () => {
    expect(new SignerError('x')).not.toHaveProperty('cause');
  });
});

describe('ConfigurationError', () => {
  it('lists every problem, separated by semicolons, and says where to fix them', () => {
    const error = new ConfigurationError(['KMS_KEY_ID is not set', 'CHAIN_ID is not a number']);
    expect(error.name).toBe('ConfigurationError');
    expect(error.problems).toEqual(['KMS_KEY_ID is not set', 'CHAIN_ID is not a number']);
    expect(error.message).toBe(
      "The signer is misconfigured: KMS_KEY_ID is not set; CHAIN_ID is not a number. Fix the function's environment variables.",
    );
  });
});
