import type { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { ConfigurationError, readConfig, type SignerConfig } from './config';
import { logger } from './logger';
import { loadSigningPolicy } from './policy-file';
import { PolicyGate, toCheckResponse, toPolicyRequest, type CheckResponse, type SpendingReserver } from './policy-gate';
import { PolicyDeniedError } from './policy';
import { publishMetrics, recordError, recordSignature } from './metrics';
import { requireReplayProtectionUnlessAllowed } from './replay-protection';
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
export type SignerHandler = (event: unknown, context?: Context) => Promise<StatusResponse | SignResponse | CheckResponse>;

/** What a handler is built with; each defaults to the process-wide one. */
export interface HandlerDependencies {
  readonly client?: KMSClient;
  /** Counts the policy's spending limits; required when the policy declares any. */
  readonly spendingStore?: SpendingReserver;
}

interface Runtime {
  readonly config: SignerConfig;
  readonly signer: KmsSigner;
  readonly gate: PolicyGate;
}

/**
 * Builds the handler for one kind of signer. Settings are read on the first invocation (so a bad setting
 * is reported as a ConfigurationError to the caller, not as an opaque init failure) and kept, with the
 * signer and its cached public key, while the Lambda is warm. `client` defaults to the process-wide one.
 */
export function createHandler(kind: SignerKind, { client, spendingStore }: HandlerDependencies = {}): SignerHandler {
  let runtime: Runtime | undefined;

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      runtime ??= start(client, spendingStore);
      const { config, signer, gate } = runtime;
      const request = parseSignerEvent(event, kind, config.chainId);
      if (request.operation === 'status') {
        const key = await signer.getKey();
        return { address: key.address, keyId: key.keyArn, chainId: Number(config.chainId) };
      }
      requireReplayProtectionUnlessAllowed(request.replayProtection, config.allowPreEip155);
      // The policy decides before KMS is called: a denial signs nothing and costs no KMS call.
      const policyRequest = toPolicyRequest(request.transaction, config.chainId, request.replayProtection);
      if (request.operation === 'check') return toCheckResponse(gate.decide(policyRequest));
      const decision = gate.authorize(policyRequest);
      const signed = await gate.withReservation(
        decision,
        async () => ({
          keyArn: (await signer.getKey()).keyArn,
          reservationId: context?.awsRequestId ?? crypto.randomUUID(),
          ...(typeof context?.getRemainingTimeInMillis === 'function' && { deadlineMs: Date.now() + context.getRemainingTimeInMillis() - 1000 }),
        }),
        () => signer.signTransactionWithDetails(request.transaction, { replayProtection: request.replayProtection }),
      );
      const response = toSignResponse(signed);
      const { transaction } = signed;
      recordSignature(transaction.type, signed.kmsLatencyMs);
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
        policyRuleId: decision.ruleId,
        kmsLatencyMs: Math.round(signed.kmsLatencyMs * 10) / 10,
      });
      return response;
    } catch (error) {
      throw toCallerError(error);
    } finally {
      publishMetrics();
    }
  };
}

function start(client?: KMSClient, spendingStore?: SpendingReserver): Runtime {
  const config = readConfig();
  logger.setLogLevel(config.logLevel);
  logger.appendKeys({ keyId: config.keyId, chainId: Number(config.chainId) });
  const { policy, file } = loadSigningPolicy();
  const gate = new PolicyGate(policy, spendingStore);
  if (gate.hasLimits && !spendingStore) {
    throw new ConfigurationError([`the signing policy ${file.slice(0, 200)} declares spending limits, but this function has no spending-limit store to count them, so it would sign without counting: configure the store, or remove the limits`]);
  }
  if (policy.allowsEverything) {
    logger.warn('the signing policy allows any transaction: whoever can invoke this function can sign anything with the key', {
      policyFile: file.slice(0, 200),
      policyRuleIds: policy.allowRules.filter((rule) => rule.conditions.length === 0).map((rule) => rule.id),
    });
  }
  const signer = new KmsSigner({ keyId: config.keyId, client, chainId: config.chainId, expectedAddress: config.expectedAddress });
  return { config, signer, gate };
}

/**
 * Logs the failure for operators (with its cause) and gives the caller only an error type and a message
 * that says what to do: the Lambda runtime would otherwise send the stack trace along.
 */
function toCallerError(error: unknown): SignerError {
  const known = error instanceof SignerError ? error : new InternalSignerError(error);
  recordError(known);
  if (known instanceof InvalidRequestError) logger.warn('invalid request', { errorType: known.name, issues: known.issues });
  else if (known instanceof PolicyDeniedError) logger.warn('signing policy denied the transaction', { errorType: known.name, policyRuleId: known.ruleId, reason: known.message.slice(0, 1000) });
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
