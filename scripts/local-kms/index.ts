// The local KMS: an emulator of the AWS KMS signing and import operations, for development and tests.
export { localKmsClient, startLocalKms, type LocalKms, type LocalKmsOptions } from './server';
export type { FaultSettings } from './faults';
export { ACCOUNT_ID } from './operations';
