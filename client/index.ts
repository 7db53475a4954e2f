// kms-eth-signer/client: the caller's side of the signer Lambdas, over @aws-sdk/client-lambda Invoke (an ethers
// signer, a viem account, typed errors). It loads no Lambda code and no CDK; viem only when lambdaAccount is called.
export { LambdaSigner, type LambdaSignerOptions, type SignerKind, type SignTransactionOptions } from './lambda-signer';
export { lambdaAccount, type LambdaAccountOptions } from './lambda-account';
export type { CallOptions, LambdaInvokerOptions } from './invoker';
export type { SignerStatus } from './status';
export {
  ConfigurationError,
  errorFromFunctionError,
  InvalidRequestError,
  KmsKeyError,
  KmsUnavailableError,
  LambdaInvokeError,
  LambdaSignerError,
  LambdaTimeoutError,
  PolicyDeniedError,
  PolicyStateUnavailableError,
  SignerFunctionError,
  SigningInProgressError,
  SpendingLimitExceededError,
  TransactionRejectedError,
  UnverifiedResponseError,
} from './errors';
