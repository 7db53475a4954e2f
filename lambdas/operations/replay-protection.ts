import { InvalidRequestError } from '../events/request';

/** Refuses a pre-EIP-155 request (a signature valid on every chain) unless the deployment opted in. */
export function requireReplayProtectionUnlessAllowed(replayProtection: boolean, allowPreEip155: boolean): void {
  if (!replayProtection && !allowPreEip155) throw new PreEip155NotAllowedError();
}

/** The request asked for a pre-EIP-155 signature, which this deployment does not allow (ALLOW_PRE_EIP155). */
export class PreEip155NotAllowedError extends InvalidRequestError {
  constructor() {
    super([
      {
        field: 'replayProtection',
        problem:
          'is false, but this signer does not sign pre-EIP-155 transactions (their signature is valid on every chain): ' +
          'omit replayProtection, or have the deployment opt in (cdk deploy -c allowPreEip155=true, which sets ALLOW_PRE_EIP155=true)',
      },
    ]);
  }
}
