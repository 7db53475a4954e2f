// kms-eth-signer/cdk: the signer as a construct for your own CDK app (docs/deploy.md, "Use the construct in your
// own CDK app"). No side effects at import; the Lambda bundles ship prebuilt beside this entry.
export { EthereumSigner } from './ethereum-signer';
export { EthereumSignerPropsError, type EthereumSignerProps, type LogLevel, type SignerKind } from './signer-props';
export { SignerBundleNotFoundError } from './bundle-location';
export type { KeyMode, S3Location } from './context';
// The parts an EthereumSigner exposes (signer.key, signer.functions.eip1559, …), as types to name them by.
export type { AuditTrail } from './audit-trail';
export type { BackupBucket } from './backup-bucket';
export type { Monitoring } from './monitoring';
export type { PolicyTable } from './policy-table';
export type { SignerFunction } from './signer-function';
export type { SigningKey } from './signing-key';
