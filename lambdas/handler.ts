import type { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { readConfig, type SignerConfig } from './config';
import { logger } from './logger';
import { parseSignerEvent, InvalidRequestError, type SignerKind } from './request';
import { toSignResponse, type SignResponse } from './response';
import { SignerError } from './signer/errors';
import { KmsSigner } from './signer/kms-signer';

/** What the status operation returns. */
export interface StatusResponse {
  address: string;
  keyId: string;
  chainId: number;
}

/** A signer Lambda handler. */
export type SignerHandler = (event: unknown, context?: Context) => Promise<StatusResponse | SignResponse>;

/**
 * Builds the handler for one kind of signer. Settings are read on the first invocation (so a bad setting
 * is reported as a ConfigurationError to the caller, not as an opaque init failure) and kept, with the
 * signer and its cached public key, while the Lambda is warm. `client` defaults to the process-wide one.
 */
export function createHandler(kind: SignerKind, { client }: { client?: KMSClient } = {}): SignerHandler {
  let runtime: { config: SignerConfig; signer: KmsSigner } | undefined;

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      runtime ??= start(client);
      const { config, signer } = runtime;
      const request = parseSignerEvent(event, kind, config.chainId);
      if (request.operation === 'status') {
        const key = await signer.getKey();
        return { address: key.address, keyId: key.keyArn, chainId: Number(config.chainId) };
      }
      const signed = await signer.signTransactionWithDetails(request.transaction, { replayProtection: request.replayProtection });
      const response = toSignResponse(signed);
      const { transaction } = signed;
      if (!request.replayProtection) {
        logger.warn('signed a pre-EIP-155 transaction: its signature is valid on every chain', { transactionHash: response.transactionHash });
      }
      logger.info('transaction signed', {
        address: signed.from,
        type: transaction.type,
        nonce: transaction.nonce,
        to: transaction.to,
        value: transaction.value.toString(),
        dataLength: (transaction.data.length - 2) / 2,
        transactionHash: response.transactionHash,
        kmsLatencyMs: Math.round(signed.kmsLatencyMs * 10) / 10,
      });
      return response;
    } catch (error) {
      throw toCallerError(error);
    }
  };
}

function start(client?: KMSClient): { config: SignerConfig; signer: KmsSigner } {
  const config = readConfig();
  logger.setLogLevel(config.logLevel);
  logger.appendKeys({ keyId: config.keyId, chainId: Number(config.chainId) });
  const signer = new KmsSigner({ keyId: config.keyId, client, chainId: config.chainId, expectedAddress: config.expectedAddress });
  return { config, signer };
}

/**
 * Logs the failure for operators (with its cause) and gives the caller only an error type and a message
 * that says what to do: the Lambda runtime would otherwise send the stack trace along.
 */
function toCallerError(error: unknown): SignerError {
  const known = error instanceof SignerError ? error : new InternalSignerError(error);
  if (known instanceof InvalidRequestError) logger.warn('invalid request', { errorType: known.name, issues: known.issues });
  else logger.error('request failed', known);
  known.stack = `${known.name}: ${known.message}`;
  return known;
}

/** An unexpected failure; details are in the function's logs, never in the response. */
export class InternalSignerError extends SignerError {
  override readonly name = 'InternalSignerError';
  constructor(cause: unknown) {
    super('The signer failed unexpectedly and nothing was returned; see the function logs for details.', { cause });
  }
}
