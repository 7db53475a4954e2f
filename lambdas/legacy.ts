import { createHandler } from './handler';

/** Signs legacy (type 0, EIP-155) and EIP-2930 (type 1) transactions with the KMS key named by KMS_KEY_ID. */
export const handler = createHandler('legacy', {}, { atInit: true });
