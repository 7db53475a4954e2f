import { SignerError } from '../../../lambdas/signer/errors';

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
