// The message operations end to end inside the Lambda: validate, ask the policy, sign the digest in KMS, respond.
import { logger } from '../runtime/logger';
import { recordMessageSignature } from '../runtime/metrics';
import { parseMessageEvent, printableAscii, type MessageOperation } from '../events/message-request';
import type { MessageRequest } from '../policy/message';
import { messageDigest, toMessageSignResponse, type MessageSignResponse } from './message-signing';
import { evaluateMessageRequest, type CompiledPolicy, type SpendCharge } from '../policy';
import type { TransactionRules } from '../policy/message-policy';
import { SignerError } from '../signer/errors';
import type { KmsSigner } from '../signer/kms-signer';

/** What a message operation needs from the handler. */
export interface MessageOperationContext {
  readonly signer: KmsSigner;
  readonly chainId: bigint;
  /** The signing policy: its messages section decides (an operation it leaves out is denied), its limits count. */
  readonly policy: CompiledPolicy;
  readonly nowMs: number;
  /** Runs `sign` under a reservation of the charges (PolicyGate.withReservation); nothing is signed if it fails. */
  readonly spend: <T>(charges: readonly SpendCharge[], sign: () => Promise<T>) => Promise<T>;
  /** The transaction rules, for a SafeTx: it is decided as the transaction it authorizes. Without them, SafeTx rules deny. */
  readonly transactions?: TransactionRules;
}

/**
 * Runs signMessage, signTypedData or signAuthorization: the event is validated and the policy consulted before
 * KMS is called; the signature KmsSigner returns has been checked to recover to the key's address.
 */
export async function runMessageOperation(
  event: Record<string, unknown> & { operation: MessageOperation },
  { signer, chainId, policy, nowMs, spend, transactions }: MessageOperationContext,
): Promise<MessageSignResponse> {
  const request = parseMessageEvent(event, chainId);
  const decision = evaluateMessageRequest(policy, request, nowMs, transactions);
  if (!decision.allowed) throw new MessagePolicyDeniedError(request.operation, decision.reason);
  const digest = messageDigest(request);
  const key = await signer.getKey();
  let kmsLatencyMs = 0;
  const signature = await spend(decision.charges, async () => {
    const started = performance.now();
    const signed = await signer.signDigest(digest);
    kmsLatencyMs = performance.now() - started; // the key is cached, so this is the Sign call
    return signed;
  });
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
