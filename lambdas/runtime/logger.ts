import { Logger } from '@aws-lambda-powertools/logger';

/** The one logger every module shares: structured JSON lines, never raw events or key material. */
export const logger = new Logger({ serviceName: 'kms-eth-signer' });
