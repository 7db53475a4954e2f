// The `kms-eth-signer` entry: the ethers v6 signer whose key stays in AWS KMS, its options and the errors a
// caller can catch. Loads no viem (that is `kms-eth-signer/viem`).
export { KmsSigner, type KmsSignerOptions, type SignedTransaction } from './kms-signer';
export type { KmsKey } from './kms-key';
export type { EthereumPublicKey } from './public-key';
export * from './package-errors';
