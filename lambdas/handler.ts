import type { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { readConfig, type SignerConfig } from './runtime/config';
import { logger } from './runtime/logger';
import { isMessageEvent } from './events/message-request';
import { MessagePolicyDeniedError, runMessageOperation } from './operations/message-operation';
import type { MessageSignResponse } from './operations/message-signing';
import { loadSigningPolicy } from './runtime/policy-file';
import { PolicyGate, toCheckResponse, toPolicyRequest, withLimitStandings, type CheckResponse, type PolicyAllow, type SpendingReserver } from './operations/policy-gate';
import { invocationDeadline, invocationEnd } from './policy-state/deadline';
import type { IdempotentSign, IdempotentSignRequest } from './policy-state/idempotency';
import type { PolicyState } from './policy-state/runtime';
import { PolicyDeniedError, type PolicyDecision } from './policy';
import { publishMetrics, recordError, recordSignature } from './runtime/metrics';
import { requireReplayProtectionUnlessAllowed } from './operations/replay-protection';
import { parseSignerEvent, InvalidRequestError, type SignerKind } from './events/request';
import { toSignResponse, type SignResponse } from './operations/response';
import { ConfigurationError, SignerError } from './signer/errors';
import { ChainIdMismatchError, FromMismatchError, KmsSigner, MissingChainIdError, type SignedTransaction } from './signer/kms-signer';
import { yieldToNetwork } from './signer/digest-signing';
import { PolicyStateUnavailableError, SigningInProgressError, SpendingLimitExceededError } from './policy-state/errors';
import { requestsDispatched, sharedKmsClient } from './signer/kms-client';
import { invocationBudget, InvocationTimers, signalAt } from './runtime/invocation-budget';
import { withRemainingTime } from './runtime/local-context';
import { rehearseFirstSignature } from './runtime/rehearsal';

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
  /** Settles once the start's GetPublicKey has answered (or failed) and its rehearsal has ended. */
  readonly warmedUp: Promise<unknown>;
}

/** What the idempotent sign step gets: the request (its identity is hashed) and the signing already under way. */
interface SignStep extends IdempotentSignRequest {
  /** Takes the signature started for this invocation, once its reservation has committed. */
  readonly claim: () => Promise<SignedTransaction>;
  /** Where the step leaves what it made, for the handler to tell its own response from a replayed one. */
  readonly made: { signed?: SignedTransaction; response?: SignResponse };
}

/** When a handler starts (reads its settings, loads its policy, sends GetPublicKey). */
export interface StartOptions {
  /**
   * In Lambda (AWS_LAMBDA_FUNCTION_NAME set), start as the handler is built, in the module's INIT phase (the
   * bundles' entry waits for it: initialized), so that the first event finds the key fetched and the first
   * signature rehearsed; a start that fails there is dropped, and the first invocation starts again and reports
   * it. Outside Lambda building a handler does nothing. Default: start on the first invocation.
   */
  readonly atInit?: boolean;
}

/**
 * Builds the handler for one kind of signer. Settings are read on the first invocation, or at init (see
 * StartOptions) with a failure left for the first invocation (so a bad setting is reported as a
 * ConfigurationError to the caller, not as an opaque init failure), and kept, with the signer and its cached
 * public key, while the Lambda is warm. `client` defaults to the process-wide one.
 */
export function createHandler(kind: SignerKind, { client, spendingStore, policyState }: HandlerDependencies = {}, { atInit = false }: StartOptions = {}): SignerHandler {
  let runtime: Runtime | undefined;
  let starting: Promise<Runtime> | undefined; // shared by invocations that arrive during the first start
  const begin = (context?: Context, init = false) =>
    (starting ??= start(client, spendingStore, policyState, context, init)
      .then((started) => (runtime = started))
      .finally(() => (starting = undefined)));

  const handler: SignerHandler = async (event, context) => {
    if (context) logger.addContext(context);
    const timers = new InvocationTimers(); // stopped when this invocation ends
    try {
      runtime ??= await begin(context);
      const { config, gate } = runtime;
      const signer = runtime.signer.withSignal(invocationBudget(context, config.timeoutMarginMs, timers));
      if (isMessageEvent(event)) {
        // A message signature counts against the key-wide limits, and a permit against its token's, like a transaction.
        const target = async () => ({
          keyArn: (await signer.getKey()).keyArn, // cached: no KMS call once warm
          reservationId: context?.awsRequestId ?? crypto.randomUUID(),
          deadlineMs: invocationDeadline(context),
          releaseDeadlineMs: invocationEnd(context, config.timeoutMarginMs),
        });
        // Reserved before KMS is asked: a message refused by its limits costs no Sign.
        const spend = async <T>(charges: PolicyAllow['charges'], sign: () => Promise<T>) => gate.reserveThenSign({ allowed: true, ruleId: '', charges }, await target(), sign);
        return await runMessageOperation(event, { signer, chainId: config.chainId, policy: gate.policy, nowMs: Date.now(), spend, transactions: (transaction) => gate.decide(transaction) });
      }
      const request = parseSignerEvent(event, kind, config.chainId);
      if (request.operation === 'status') {
        const key = await signer.getKey();
        return { address: key.address, keyId: key.keyArn, chainId: Number(config.chainId) };
      }
      requireReplayProtectionUnlessAllowed(request.replayProtection, config.allowPreEip155);
      // The policy decides before KMS is called: a denial signs nothing and costs no KMS call.
      const policyRequest = toPolicyRequest(request.transaction, config.chainId, request.replayProtection);
      if (request.operation === 'check') return await checkResponse(runtime, gate.decide(policyRequest), () => signer.getKey().then((key) => key.keyArn), invocationDeadline(context));
      const decision = gate.authorize(policyRequest);
      const current = runtime;
      const { keyArn } = await signer.getKey(); // cached: no KMS call once warm
      current.sign ??= current.policyState ? current.policyState.idempotent(signStep, { keyArn, scope: kind }) : signStep;
      // The reservation and KMS Sign start now, in parallel: the signature is taken only once its reservation has
      // committed, and (inside current.sign, when idempotency is on) kept only if no earlier response to the same
      // request is recorded; one conditional write records it.
      const deadlineMs = invocationDeadline(context);
      const stepRequest: IdempotentSignRequest = { transaction: request.transaction, replayProtection: request.replayProtection, idempotencyKey: request.idempotencyKey };
      // A reservation is tagged with its request's idempotency hash, so that a limit refusal knows without a second
      // call whether the request may be a retry of one already signed; without charges the hash can wait.
      const hash = decision.charges.length > 0 ? current.policyState?.requestHash?.(stepRequest) : undefined;
      const signing = gate.start(
        decision,
        {
          keyArn,
          reservationId: context?.awsRequestId ?? crypto.randomUUID(),
          deadlineMs,
          releaseDeadlineMs: invocationEnd(context, config.timeoutMarginMs),
          ...(hash !== undefined && { retryKey: hash }),
        },
        // KMS gives up at the step's deadline, or when the reservation fails or the request turns out a replay.
        (abort) => current.signer.withSignal(AbortSignal.any([abort, signalAt(deadlineMs, timers)])).signTransactionWithDetails(request.transaction, { replayProtection: request.replayProtection }),
      );
      const made: SignStep['made'] = {};
      let response: SignResponse;
      try {
        response = await current.sign(
          // idempotencyKey is undefined when the caller sent none: hashed as null either way
          { ...stepRequest, ...(hash !== undefined && { requestHash: hash }), claim: () => signing.result, made },
          withRemainingTime(context),
        );
      } catch (error) {
        // Never made, or made but certainly not kept (another invocation holds the request): drop it and give its
        // reservation back. Made and then not stored for a failure of the store, whose write may have applied: the
        // reservation stays (stricter), so that a retry answered from that record is still counted once.
        if (!made.response || error instanceof SigningInProgressError) await signing.abandon();
        throw error;
      }
      if (response !== made.response || !made.signed) {
        // A replay: the first response to this request, not ours. Ours is dropped unseen and its count given back.
        await signing.abandon();
        return response;
      }
      announce(made.signed, response, decision, request.replayProtection);
      return response;
    } catch (error) {
      throw toCallerError(error);
    } finally {
      timers.clear();
      publishMetrics();
    }
  };
  if (atInit && process.env.AWS_LAMBDA_FUNCTION_NAME) {
    // Nothing is kept from a start that fails at init: an invocation joining it gets its error, a later one starts again.
    initStarts.set(handler, begin(undefined, true).then((started) => started.warmedUp, () => undefined));
  }
  return handler;
}

/**
 * How long Lambda's INIT phase waits at most for a handler's start at init (initialized): GetPublicKey takes tens
 * of milliseconds; a KMS slower than this is waited for by the first invocation (which joins the lookup under its
 * own time budget) rather than by INIT, which Lambda ends after 10 s.
 */
export const INIT_WAIT_MS = 1000;

const initStarts = new WeakMap<SignerHandler, Promise<unknown>>();

/**
 * Resolves once the start that `handler` began at init (StartOptions.atInit) has settled: settings, policy,
 * GetPublicKey answered and the first signature rehearsed; or after `maxWaitMs`; at once for a handler that
 * began none. Never rejects: a failed start is reported by the first invocation. The bundles' entry awaits it
 * at top level (scripts/lambda-entry.ts), so that Lambda's INIT phase does this work before the first event.
 */
export function initialized(handler: SignerHandler, maxWaitMs: number = INIT_WAIT_MS): Promise<void> {
  const started = initStarts.get(handler);
  if (!started) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxWaitMs);
    void started.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The check operation's answer: the policy's decision and, when it charges spending limits, what remains of
 * each (one read of the spending item, nothing counted), or why that could not be read.
 */
async function checkResponse({ policyState }: Runtime, decision: PolicyDecision, keyArn: () => Promise<string>, deadlineMs: number): Promise<CheckResponse> {
  const response = toCheckResponse(decision);
  if (!decision.allowed || decision.charges.length === 0) return response;
  const { tableName, callTimeoutMs } = policyState?.config ?? {};
  if (tableName === undefined || callTimeoutMs === undefined) return { ...response, limitsUnknown: 'this function has no spending store (POLICY_TABLE_NAME) to read the limits from' };
  const [{ readLimitStandings }, { sharedPolicyStateClient }] = await Promise.all([import('./policy-state/spending-remaining'), import('./policy-state/config')]);
  try {
    const standings = await readLimitStandings(decision.charges, { client: sharedPolicyStateClient({ callTimeoutMs }), tableName, keyArn: await keyArn(), callTimeoutMs, deadlineMs });
    return withLimitStandings(response, standings);
  } catch (error) {
    if (!(error instanceof PolicyStateUnavailableError)) throw error;
    logger.warn('check could not read the spending limits', { errorType: error.name, reason: error.message.slice(0, 300) });
    return { ...response, limitsUnknown: `${error.message.slice(0, 300)} Sign counts the limits and may refuse.` };
  }
}

/** Takes the signature (its reservation committed) and shapes the response; the handler logs it if it is the one kept. */
async function signStep(step: SignStep): Promise<SignResponse> {
  const signed = await step.claim();
  step.made.signed = signed;
  return (step.made.response = toSignResponse(signed));
}

/** Counts and logs a signature the handler returns: the only place a signed transaction leaves from. */
function announce(signed: SignedTransaction, response: SignResponse, decision: PolicyAllow, replayProtection: boolean): void {
  const { transaction } = signed;
  recordSignature(transaction.type, signed.kmsLatencyMs);
  if (!replayProtection) {
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
}

async function start(client?: KMSClient, spendingStore?: SpendingReserver, injectedState?: PolicyState, context?: Context, atInit = false): Promise<Runtime> {
  const config = readConfig();
  logger.setLogLevel(config.logLevel);
  logger.appendKeys({ keyId: config.keyId, chainId: Number(config.chainId) });
  const signer = new KmsSigner({
    keyId: config.keyId,
    client: client ?? sharedKmsClient(config.kmsTimeouts),
    chainId: config.chainId,
    expectedAddress: config.expectedAddress,
  });
  // GetPublicKey first (under the first invocation's budget), and the local start-up while it is on the wire: the
  // policy, the DynamoDB chunk. Its failure is reported by the invocation's own getKey. (The recovery check's
  // window tables are not built on a cold start at all: lambdas/signer/digest-signing.ts.)
  const keyLookup = signer.withSignal(invocationBudget(context, config.timeoutMarginMs)).getKey();
  keyLookup.catch(() => undefined);
  await requestsDispatched(); // the SDK's first call has done its CPU work and handed GetPublicKey over…
  await yieldToNetwork(); // …and the request is written before the local work takes the thread
  const { policy, file } = loadSigningPolicy();
  const policyState = injectedState ?? (await loadPolicyState());
  const gate = new PolicyGate(policy, spendingStore ?? policyState?.store);
  if (gate.hasLimits && !spendingStore && !policyState?.store) {
    throw new ConfigurationError([`the signing policy ${file.slice(0, 200)} declares spending limits, but POLICY_TABLE_NAME is not set, so this function has no spending-limit store to count them and would sign without counting: set POLICY_TABLE_NAME to the policy table (infra/policy-table.ts; \`npm run local\` prints a local one), or remove the limits`]);
  }
  if (policy.unrestrictedAllowRules.length > 0) {
    // policyRuleIds: the allow rules with no condition on recipient, value or data (any transfer or call).
    logger.warn('the signing policy allows any transaction: whoever can invoke this function can sign anything with the key', {
      policyFile: file.slice(0, 200),
      policyRuleIds: policy.unrestrictedAllowRules.slice(0, 20),
    });
  }
  // The first signature's code, run once while GetPublicKey is on the wire: at init all of it (INIT waits for it,
  // no invocation competes), on a first invocation only until the key has arrived (then the real work runs).
  const rehearsal = rehearseFirstSignature({ client: client ?? sharedKmsClient(config.kmsTimeouts), keyId: config.keyId, policyState: policyState?.config, ...(!atInit && { until: keyLookup }) });
  return { config, signer, gate, policyState, warmedUp: Promise.allSettled([keyLookup, rehearsal]) };
}

/**
 * The spending store and idempotency from POLICY_TABLE_NAME, IDEMPOTENCY, … (lambdas/policy-state/config.ts),
 * loaded only when configured: the DynamoDB client and the idempotency records stay out of the cold start (a
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
  // An expected refusal (policy, spending limit, bad input) is a WARN line without a stack: nothing failed.
  if (known instanceof InvalidRequestError) logger.warn('invalid request', { errorType: known.name, issueCount: known.issueCount, issues: known.issues });
  else if (known instanceof MessagePolicyDeniedError) logger.warn('signing policy denied the request', { errorType: known.name, operation: known.operation, reason: known.reason.slice(0, 1000) });
  else if (known instanceof PolicyDeniedError) logger.warn('signing policy denied the transaction', { errorType: known.name, policyRuleId: known.ruleId, reason: known.message.slice(0, 1000) });
  else if (known instanceof SpendingLimitExceededError) {
    const { limitId, windowSeconds, asset, remainingAmount, remainingCount } = known.limit;
    logger.warn('spending limit refused the transaction', {
      errorType: known.name,
      limitId: limitId.slice(0, 200),
      windowSeconds,
      asset: asset.slice(0, 200),
      requestedAmount: known.requestedAmount.toString(),
      ...(remainingAmount !== undefined && { remainingAmount: remainingAmount.toString() }),
      ...(remainingCount !== undefined && { remainingCount }),
    });
  } else if (REFUSED_INPUT.some((type) => known instanceof type)) logger.warn('invalid request', { errorType: known.name, reason: known.message.slice(0, 1000) });
  else logger.error('request failed', known);
  known.stack = `${known.name}: ${known.message}`;
  return known;
}

// Refusals of what the caller sent (its chain, its from, a retry racing itself), not failures of the signer.
const REFUSED_INPUT: (abstract new (...args: never[]) => SignerError)[] = [ChainIdMismatchError, FromMismatchError, MissingChainIdError, SigningInProgressError];

/** An unexpected failure; details are in the function's logs, never in the response. */
export class InternalSignerError extends SignerError {
  override readonly name = 'InternalSignerError';
  constructor(cause: unknown) {
    super('The signer failed unexpectedly and nothing was returned; see the function logs for details.', { cause });
  }
}
