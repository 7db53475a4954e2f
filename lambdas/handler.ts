import type { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { readConfig, type SignerConfig } from './runtime/config';
import { logger } from './runtime/logger';
import { isMessageEvent } from './events/message-request';
import { MessagePolicyDeniedError, runMessageOperation } from './operations/message-operation';
import type { MessageSignResponse } from './operations/message-signing';
import { loadSigningPolicy } from './runtime/policy-file';
import { PolicyGate, toCheckResponse, toPolicyRequest, type CheckResponse, type PolicyAllow, type SpendingReserver } from './operations/policy-gate';
import { invocationDeadline } from './policy-state/deadline';
import type { IdempotentSign, IdempotentSignRequest } from './policy-state/idempotency';
import type { PolicyState } from './policy-state/runtime';
import { PolicyDeniedError } from './policy';
import { publishMetrics, recordError, recordSignature } from './runtime/metrics';
import { requireReplayProtectionUnlessAllowed } from './operations/replay-protection';
import { parseSignerEvent, InvalidRequestError, type SignerKind } from './events/request';
import { toSignResponse, type SignResponse } from './operations/response';
import { ConfigurationError, SignerError } from './signer/errors';
import { KmsSigner } from './signer/kms-signer';
import { sharedKmsClient } from './signer/kms-client';
import { invocationBudget, signalAt } from './runtime/invocation-budget';

/** What the status operation returns. */
export interface StatusResponse {
  address: string;
  keyId: string;
  chainId: number;
}

/** A signer Lambda handler. */
export type SignerHandler = (event: unknown, context?: Context) => Promise<StatusResponse | SignResponse | CheckResponse | MessageSignResponse>;

/** What a handler is built with; each defaults to the process-wide one. */
export interface HandlerDependencies {
  readonly client?: KMSClient;
  /** Counts the policy's spending limits; default the DynamoDB store of POLICY_TABLE_NAME. */
  readonly spendingStore?: SpendingReserver;
  /** The spending store and idempotency wrapper; default from POLICY_TABLE_NAME, IDEMPOTENCY, … (lambdas/policy-state/config.ts). */
  readonly policyState?: PolicyState;
}

interface Runtime {
  readonly config: SignerConfig;
  readonly signer: KmsSigner;
  readonly gate: PolicyGate;
  /** Undefined when neither POLICY_TABLE_NAME nor IDEMPOTENCY is set: then no DynamoDB code is even loaded. */
  readonly policyState?: PolicyState;
  /** The sign step (under idempotency when it is on), built once the key ARN (its partition) is known. */
  sign?: IdempotentSign<SignResponse, SignStep>;
}

/** What the idempotent sign step gets: the request (its identity is hashed) and the invocation's decision and budget. */
interface SignStep extends IdempotentSignRequest {
  readonly decision: PolicyAllow;
  readonly reservationId: string;
  readonly deadlineMs: number;
}

/**
 * Builds the handler for one kind of signer. Settings are read on the first invocation (so a bad setting
 * is reported as a ConfigurationError to the caller, not as an opaque init failure) and kept, with the
 * signer and its cached public key, while the Lambda is warm. `client` defaults to the process-wide one.
 */
export function createHandler(kind: SignerKind, { client, spendingStore, policyState }: HandlerDependencies = {}): SignerHandler {
  let runtime: Runtime | undefined;
  let starting: Promise<Runtime> | undefined; // shared by invocations that arrive during the first start

  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      runtime ??= await (starting ??= start(client, spendingStore, policyState).finally(() => (starting = undefined)));
      const { config, gate } = runtime;
      const signer = runtime.signer.withSignal(invocationBudget(context, config.timeoutMarginMs));
      if (isMessageEvent(event)) {
        return await runMessageOperation(event, { signer, chainId: config.chainId, policy: gate.policy.messages, nowMs: Date.now() });
      }
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
      // Idempotency wraps reserve -> KMS Sign -> release: a retry gets the first response and is counted once.
      const current = runtime;
      const step = (request: SignStep) => signStep(current, request);
      current.sign ??= current.policyState ? current.policyState.idempotent(step, { keyArn: (await signer.getKey()).keyArn, scope: kind }) : step;
      const response = await current.sign(
        {
          transaction: request.transaction,
          replayProtection: request.replayProtection,
          idempotencyKey: request.idempotencyKey, // undefined when the caller sent none: hashed as null either way
          decision,
          reservationId: context?.awsRequestId ?? crypto.randomUUID(),
          deadlineMs: invocationDeadline(context),
        },
        context,
      );
      return response;
    } catch (error) {
      throw toCallerError(error);
    } finally {
      publishMetrics();
    }
  };
}

/** Reserves the decision's charges, signs in KMS, releases if signing fails, and logs the signature. */
async function signStep({ signer: warm, gate }: Runtime, step: SignStep): Promise<SignResponse> {
  const signer = warm.withSignal(signalAt(step.deadlineMs)); // KMS gives up at the step's deadline
  const keyArn = (await signer.getKey()).keyArn;
  const signed = await gate.withReservation(
    step.decision,
    async () => ({ keyArn, reservationId: step.reservationId, deadlineMs: step.deadlineMs }),
    () => signer.signTransactionWithDetails(step.transaction, { replayProtection: step.replayProtection }),
  );
  const response = toSignResponse(signed);
  const { transaction } = signed;
  recordSignature(transaction.type, signed.kmsLatencyMs);
  if (!step.replayProtection) {
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
    policyRuleId: step.decision.ruleId,
    kmsLatencyMs: Math.round(signed.kmsLatencyMs * 10) / 10,
  });
  return response;
}

async function start(client?: KMSClient, spendingStore?: SpendingReserver, injectedState?: PolicyState): Promise<Runtime> {
  const config = readConfig();
  logger.setLogLevel(config.logLevel);
  logger.appendKeys({ keyId: config.keyId, chainId: Number(config.chainId) });
  const { policy, file } = loadSigningPolicy();
  const policyState = injectedState ?? (await loadPolicyState());
  const gate = new PolicyGate(policy, spendingStore ?? policyState?.store);
  if (gate.hasLimits && !spendingStore && !policyState?.store) {
    throw new ConfigurationError([`the signing policy ${file.slice(0, 200)} declares spending limits, but POLICY_TABLE_NAME is not set, so this function has no spending-limit store to count them and would sign without counting: set POLICY_TABLE_NAME to the policy table (infra/policy-table.ts; \`npm run local\` prints a local one), or remove the limits`]);
  }
  if (policy.allowsEverything) {
    logger.warn('the signing policy allows any transaction: whoever can invoke this function can sign anything with the key', {
      policyFile: file.slice(0, 200),
      policyRuleIds: policy.allowRules.filter((rule) => rule.conditions.length === 0).map((rule) => rule.id),
    });
  }
  const signer = new KmsSigner({
    keyId: config.keyId,
    client: client ?? sharedKmsClient(config.kmsTimeouts),
    chainId: config.chainId,
    expectedAddress: config.expectedAddress,
  });
  return { config, signer, gate, policyState };
}

/**
 * The spending store and idempotency from POLICY_TABLE_NAME, IDEMPOTENCY, … (lambdas/policy-state/config.ts),
 * loaded only when configured: the DynamoDB client and Powertools idempotency stay out of the cold start (a
 * separate bundle chunk) of a function that uses neither.
 */
async function loadPolicyState(): Promise<PolicyState | undefined> {
  if (!process.env.POLICY_TABLE_NAME?.trim() && !process.env.IDEMPOTENCY?.trim()) return undefined;
  const [{ readPolicyStateConfig }, { createPolicyState }] = await Promise.all([import('./policy-state/config'), import('./policy-state/runtime')]);
  return createPolicyState(readPolicyStateConfig(process.env));
}

/**
 * Logs the failure for operators (with its cause) and gives the caller only an error type and a message
 * that says what to do: the Lambda runtime would otherwise send the stack trace along.
 */
function toCallerError(error: unknown): SignerError {
  const known = error instanceof SignerError ? error : new InternalSignerError(error);
  recordError(known);
  if (known instanceof InvalidRequestError) logger.warn('invalid request', { errorType: known.name, issueCount: known.issueCount, issues: known.issues });
  else if (known instanceof MessagePolicyDeniedError) logger.warn('signing policy denied the request', { errorType: known.name, operation: known.operation, reason: known.reason.slice(0, 1000) });
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
