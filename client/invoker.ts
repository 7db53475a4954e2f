// One call to a signer Lambda over the Invoke API: the caller's timeout and AbortSignal, retries of failures
// that another attempt may not meet (the same event, so the same idempotencyKey), and function errors as typed errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { errorFromFunctionError, LambdaInvokeError, LambdaSignerError, LambdaTimeoutError } from './errors';

/** Where the signer Lambda is and how patient to be with it. */
export interface LambdaInvokerOptions {
  /** The function's name or ARN, e.g. eth-signer-eip1559 (an alias or version may follow a colon). */
  readonly functionName: string;
  /**
   * The SDK client; default a LambdaClient from the SDK's default configuration (AWS_REGION, credentials,
   * AWS_ENDPOINT_URL_LAMBDA, which `npm run local` prints, …).
   */
  readonly client?: LambdaClient;
  /** The longest a call may take, retries included, in ms (default 30 000; the deployed functions time out after 10 s). */
  readonly timeoutMs?: number;
  /** Further attempts after a retryable function error (KMS or DynamoDB unavailable, signing in progress); default 2. */
  readonly retries?: number;
  /** Ends every call of this signer (e.g. at shutdown). */
  readonly signal?: AbortSignal;
  /**
   * The idempotencyKey of a sign request when the call gives none (ethers' sendTransaction, viem's account),
   * from the transaction as sent (integers as decimal strings); default a new UUID per call. A key derived
   * from what identifies the payment in your system (a job id) makes a retry after a restart safe.
   */
  readonly idempotencyKeyFor?: (transaction: Readonly<Record<string, unknown>>) => string;
}

/** Per call: a tighter timeout or the caller's own AbortSignal. */
export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 2;
const FIRST_BACKOFF_MS = 200;

/** Sends events to one signer Lambda and returns its parsed JSON answer, or throws a LambdaSignerError. */
export class LambdaInvoker {
  readonly functionName: string;
  private readonly client: LambdaClient;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly signal: AbortSignal | undefined;

  constructor(options: LambdaInvokerOptions) {
    if (typeof options.functionName !== 'string' || options.functionName === '') throw new TypeError('functionName must name the signer Lambda, e.g. eth-signer-eip1559');
    this.functionName = options.functionName;
    this.client = options.client ?? new LambdaClient({});
    this.timeoutMs = positiveInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.retries = options.retries === undefined ? DEFAULT_RETRIES : nonNegativeInteger(options.retries, 'retries');
    this.signal = options.signal;
  }

  /** Invokes the function with `event` (every retry sends the same event) and returns its JSON response. */
  async call(event: Readonly<Record<string, unknown>>, options: CallOptions = {}): Promise<unknown> {
    const timeoutMs = Math.min(this.timeoutMs, positiveInteger(options.timeoutMs, this.timeoutMs, 'timeoutMs'));
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...[this.signal, options.signal].filter((s): s is AbortSignal => s !== undefined)]);
    const payload = JSON.stringify(event);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(payload, signal, timeoutMs);
      if (!(outcome instanceof LambdaSignerError)) return outcome.value;
      const error = outcome;
      if (!error.retryable || error instanceof LambdaTimeoutError || error instanceof LambdaInvokeError || attempt >= this.retries) throw error;
      try {
        await sleep(FIRST_BACKOFF_MS * 2 ** attempt, undefined, { signal });
      } catch (cause) {
        throw this.timeout(timeoutMs, signal, cause, error);
      }
    }
  }

  private async attempt(payload: string, signal: AbortSignal, timeoutMs: number): Promise<{ value: unknown } | LambdaSignerError> {
    let response;
    try {
      // The SDK ends the HTTP request on abort; the race also ends the wait where a request handler does not.
      response = await untilAborted(this.client.send(new InvokeCommand({ FunctionName: this.functionName, Payload: new TextEncoder().encode(payload) }), { abortSignal: signal }), signal);
    } catch (cause) {
      if (signal.aborted) throw this.timeout(timeoutMs, signal, cause);
      throw invokeError(this.functionName, cause);
    }
    const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    if (response.FunctionError) return errorFromFunctionError(text, response.FunctionError);
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (cause) {
      throw new LambdaSignerError(`${this.functionName} answered with a payload that is not JSON (${text.slice(0, 200)}); is it a kms-eth-signer function?`, undefined, { cause });
    }
  }

  private timeout(timeoutMs: number, signal: AbortSignal, cause: unknown, last?: LambdaSignerError): LambdaTimeoutError {
    // DOMException is not an Error subclass in every realm: read the name only.
    const timedOut = (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : 'the caller aborted';
    return new LambdaTimeoutError(
      `${this.functionName}: ${reason}${last ? ` (after ${last.name}: ${last.message.slice(0, 300)})` : ''}. The Lambda may still sign: a retry with the same idempotencyKey returns that signature instead of a second one.`,
      undefined,
      { cause: last ?? cause },
    );
  }
}

/** Settles as `promise` does, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The Invoke API's own errors: the function is missing, the caller may not invoke it, Lambda throttled, the network failed. */
function invokeError(functionName: string, cause: unknown): LambdaInvokeError {
  const { name = 'Error', message = String(cause), $retryable, $metadata } = (cause ?? {}) as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  const retryable = $retryable !== undefined || status === undefined || status === 429 || status >= 500;
  const hint =
    name === 'ResourceNotFoundException' ? 'check the function name and the region (AWS_REGION), or AWS_ENDPOINT_URL_LAMBDA for the local stack'
    : name === 'AccessDeniedException' ? 'grant lambda:InvokeFunction on this function to the caller (the stack\'s invokers)'
    : retryable ? 'retry later' : 'see the cause';
  return new LambdaInvokeError(`Could not invoke ${functionName}: ${name}: ${message.slice(0, 300)}; ${hint}`, retryable, cause);
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number of milliseconds above 0, got ${String(value).slice(0, 40)}`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > 10) throw new RangeError(`${name} must be a whole number from 0 to 10, got ${String(value).slice(0, 40)}`);
  return value;
}
