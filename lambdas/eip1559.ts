import { createHandler } from './handler';

/** Signs EIP-1559 (type 2) transactions with the KMS key named by KMS_KEY_ID. */
export const handler = createHandler('eip1559', {}, { atInit: true });
