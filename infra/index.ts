// kms-eth-signer/cdk: the signer as a construct for your own CDK app (docs/deploy.md, "Use the construct in your
// own CDK app"). No side effects at import; the Lambda bundles ship prebuilt beside this entry.
export { EthereumSigner } from './ethereum-signer';
export { EthereumSignerPropsError, type EthereumSignerProps, type LogLevel, type SignerKind } from './signer-props';
export { SignerBundleNotFoundError } from './bundle-location';
export type { KeyMode, S3Location } from './context';
