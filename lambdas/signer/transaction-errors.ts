import { SignerError } from './errors';

// What a signer refuses in a transaction before it asks KMS for anything; shared by the ethers signer and the
// viem account.

/** The transaction names a `from` that is not the KMS key's address. */
export class FromMismatchError extends SignerError {
  override readonly name = 'FromMismatchError';
  constructor(readonly from: string, readonly address: string) {
    super(`The transaction's from (${from}) is not this signer's address (${address}); omit from or set it to ${address}.`);
  }
}

/** The transaction is for a chain other than the one the signer is configured for. */
export class ChainIdMismatchError extends SignerError {
  override readonly name = 'ChainIdMismatchError';
  /** `what` names the payload: a transaction, or an EIP-7702 authorization. */
  constructor(readonly requested: bigint, readonly configured: bigint, what: 'transaction' | 'authorization' = 'transaction') {
    super(`The ${what} is for chain ${requested}, but this signer signs only for chain ${configured}; nothing was signed.`);
  }
}

/** A transaction without a chain id would be replayable on every chain. */
export class MissingChainIdError extends SignerError {
  override readonly name = 'MissingChainIdError';
  /** `canOptOut`: the caller can ask for a replayable legacy transaction (the ethers signer can, the viem account cannot). */
  constructor(type: number, canOptOut = true) {
    super(
      type === 0
        ? `The legacy transaction has no chain id, so its signature would be valid on every chain; set chainId${canOptOut ? ', or ask for replayProtection: false explicitly' : ''}.`
        : `A type ${type} transaction needs a non-zero chain id.`,
    );
  }
}
