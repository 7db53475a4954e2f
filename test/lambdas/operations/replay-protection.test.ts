import { PreEip155NotAllowedError, requireReplayProtectionUnlessAllowed } from '../../../lambdas/operations/replay-protection';

describe('requireReplayProtectionUnlessAllowed', () => {
  it('lets every replay-protected request through', () => {
    expect(() => requireReplayProtectionUnlessAllowed(true, false)).not.toThrow();
    expect(() => requireReplayProtectionUnlessAllowed(true, true)).not.toThrow();
  });

  it('lets a pre-EIP-155 request through only when the deployment allows it', () => {
    expect(() => requireReplayProtectionUnlessAllowed(false, true)).not.toThrow();
  });

  it('refuses a pre-EIP-155 request by default with an InvalidRequestError naming replayProtection and the opt-in', () => {
    expect(() => requireReplayProtectionUnlessAllowed(false, false)).toThrow(PreEip155NotAllowedError);
    try {
      requireReplayProtectionUnlessAllowed(false, false);
    } catch (error) {
      expect(error).toMatchObject({
        name: 'InvalidRequestError',
        issues: [
          {
            field: 'replayProtection',
            problem:
              'is false, but this signer does not sign pre-EIP-155 transactions (their signature is valid on every chain): ' +
              'omit replayProtection, or have the deployment opt in (cdk deploy -c allowPreEip155=true, which sets ALLOW_PRE_EIP155=true)',
          },
        ],
      });
    }
  });
});
