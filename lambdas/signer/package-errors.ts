// The errors a caller of the package's ethers signer or viem account can catch, each with a stable `name`
// (`error.name === 'KmsThrottledError'` works across bundles, where `instanceof` may not) and the
// original error as `cause`.
export { SignerError } from './errors';
export { AddressMismatchError } from './key-cache';
export { InvalidDigestError } from './digest-signing';
export { ChainIdMismatchError, FromMismatchError, MissingChainIdError } from './transaction-errors';
export { SignatureRecoveryError } from './signature';
export { InvalidPublicKeyError } from './public-key';
export { InvalidDerSignatureError } from './der';
export {
  KmsAccessDeniedError,
  KmsKeyDisabledError,
  KmsKeyNotFoundError,
  KmsKeyStateError,
  KmsKeyUsageError,
  KmsThrottledError,
  KmsUnavailableError,
} from './kms-errors';
