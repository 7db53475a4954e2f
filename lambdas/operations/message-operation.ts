// The message operations end to end inside the Lambda: validate, ask the policy, sign the digest in KMS, respond.
import { logger } from '../runtime/logger';
import { recordMessageSignature } from '../runtime/metrics';
import { parseMessageEvent, printableAscii, type MessageOperation } from '../events/message-request';
import type { MessageRequest } from '../policy/message';
import { messageDigest, toMessageSignResponse, type MessageSignResponse } from './message-signing';
import { evaluateMessagePolicy, type MessagePolicy } from '../policy/message-policy';
import { SignerError } from '../signer/errors';
import type { KmsSigner } from '../signer/kms-signer';
import type { PolicyGate } from './policy-gate';

/** What a message operation needs from the handler. */
export interface MessageOperationContext {
  readonly signer: KmsSigner;
  readonly chainId: bigint;
  /** The signing policy's messages section; an operation it leaves out is denied. */
  readonly policy: MessagePolicy | undefined;
  readonly nowMs: number;
  /**
   * The transaction rules and spending store: a SafeTx is decided as the transaction it authorizes, and its
   * charges are reserved before KMS signs (released if signing fails). Without it, SafeTx rules deny.
   */
  readonly gate?: Pick<PolicyGate, 'decide' | 'withReservation'>;
  /** Identifies the spending reservation of this invocation (the Lambda request id). */
  readonly reservationId?: string;
  /** When the spending store must have answered (the invocation's deadline less its margin). */
  readonly deadlineMs?: number;
}

/**
 * Runs signMessage, signTypedData or signAuthorization: the event is validated and the policy consulted before
 * KMS is called; the signature KmsSigner returns has been checked to recover to the key's address.
 */
export async function runMessageOperation(
  event: Record<string, unknown> & { operation: MessageOperation },
  { signer, chainId, policy, nowMs, gate, reservationId, deadlineMs }: MessageOperationContext,
): Promise<MessageSignResponse> {
  const request = parseMessageEvent(event, chainId);
  const decision = evaluateMessagePolicy(policy, request, nowMs, gate && ((transaction) => gate.decide(transaction)));
  if (!decision.allowed) throw new MessagePolicyDeniedError(request.operation, decision.reason);
  const digest = messageDigest(request);
  const key = await signer.getKey();
  const started = performance.now();
  const charges = decision.charges ?? [];
  // A SafeTx counts against the spending limits as the transaction it authorizes: reserved first, as a transaction is.
  const signature = charges.length > 0 && gate
    ? await gate.withReservation({ allowed: true, ruleId: decision.ruleId, charges }, async () => ({ keyArn: key.keyArn, reservationId: reservationId ?? crypto.randomUUID(), ...(deadlineMs !== undefined && { deadlineMs }) }), () => signer.signDigest(digest))
    : await signer.signDigest(digest);
  const kmsLatencyMs = performance.now() - started; // the key is cached, so this is the Sign call
  recordMessageSignature(request.operation, kmsLatencyMs);
  logger.info(`${request.operation} signed`, {
    ...describeRequest(request),
    policyRuleId: decision.ruleId,
    address: key.address,
    digest,
    kmsLatencyMs: Math.round(kmsLatencyMs * 10) / 10,
  });
  return toMessageSignResponse(request, digest, signature, key.address);
}

/** Chosen fields for the log: never the whole payload. */
function describeRequest(request: MessageRequest): Record<string, unknown> {
  switch (request.operation) {
    case 'signMessage':
      // Only the length: a 32-byte hex message would look like a key in the logs.
      return { operation: request.operation, messageBytes: request.message.bytes.length };
    case 'signTypedData': {
      const { domain, primaryType } = request.typedData;
      return { operation: request.operation, primaryType, domainName: domain.name, verifyingContract: domain.verifyingContract };
    }
    case 'signAuthorization': {
      const { address, nonce, chainId } = request.authorization;
      return { operation: request.operation, delegate: address, nonce: nonce.toString(), authorizationChainId: chainId.toString() };
    }
  }
}

/** The signing policy does not allow this request; nothing was sent to KMS. */
export class MessagePolicyDeniedError extends SignerError {
  override readonly name = 'PolicyDeniedError';
  constructor(readonly operation: MessageOperation, readonly reason: string) {
    super(`The signing policy refused this ${operation} and nothing was signed: ${printableAscii(reason.slice(0, 2000))}. To allow it, change the messages section of the signing policy (SIGNING_POLICY_FILE) and deploy.`);
  }
}
