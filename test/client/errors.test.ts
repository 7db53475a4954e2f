import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  errorFromFunctionError,
  InvalidRequestError,
  KmsKeyError,
  KmsUnavailableError,
  LambdaSignerError,
  PolicyDeniedError,
  SignerFunctionError,
  SigningInProgressError,
  SpendingLimitExceededError,
} from '../../client';

// Every error name the Lambdas can answer with, read from their sources: a new one must be classified here.
function lambdaErrorNames(): string[] {
  const files = readdirSync(resolve('lambdas'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  return [...new Set(files.flatMap((file) => [...readFileSync(join('lambdas', file), 'utf8').matchAll(/override readonly name = '(\w+)'/g)].map((match) => match[1] as string)))].sort();
}
// Errors that mean a bug or a broken KMS answer: SignerFunctionError keeps their type, and none is a caller's decision to make.
const UNCLASSIFIED = ['InternalSignerError', 'InvalidSpendingLimitError', 'InvalidDigestError', 'InvalidDerSignatureError', 'SignatureRecoveryError'];
// Not SignerErrors: they never reach a caller (the handler answers InternalSignerError, or a KMS error, instead).
// AmbiguousMessageError is KmsSigner's in-process refusal; the Lambdas answer the same case with InvalidRequestError.
// RehearsalEndedError ends a cold start's rehearsal inside the KMS client (nothing is sent, nobody is answered).
const INTERNAL = ['InvocationBudgetExhausted', 'AmbiguousMessageError', 'RehearsalEndedError'];

const payload = (errorType: unknown, errorMessage: unknown = 'what to do') => JSON.stringify({ errorType, errorMessage, trace: [`${String(errorType)}: ${String(errorMessage)}`] });

describe('errorFromFunctionError', () => {
  it.each([
    ['PolicyDeniedError', PolicyDeniedError, false],
    ['SpendingLimitExceededError', SpendingLimitExceededError, false],
    ['InvalidRequestError', InvalidRequestError, false],
    ['KmsUnavailableError', KmsUnavailableError, true],
    ['KmsThrottledError', KmsUnavailableError, true],
    ['KmsAccessDeniedError', KmsKeyError, false],
    ['SigningInProgressError', SigningInProgressError, true],
  ] as const)('turns the Lambda error %s into %p, with the Lambda\'s name and message', (errorType, errorClass, retryable) => {
    const error = errorFromFunctionError(payload(errorType, `${errorType} says what to do`), 'Unhandled');
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(LambdaSignerError);
    expect(error).toMatchObject({ errorType, message: `${errorType} says what to do`, retryable });
  });

  it('keeps the Lambda\'s name as the class name for the errors a caller handles most', () => {
    for (const type of ['PolicyDeniedError', 'SpendingLimitExceededError', 'InvalidRequestError', 'KmsUnavailableError']) {
      expect(errorFromFunctionError(payload(type), 'Unhandled').name).toBe(type);
    }
  });

  it('classifies every error the Lambdas throw (read from lambdas/), but for the few that mean a bug', () => {
    const names = lambdaErrorNames();
    expect(names).toEqual(expect.arrayContaining(['PolicyDeniedError', 'SpendingLimitExceededError', 'KmsUnavailableError']));
    const generic = names.filter((name) => !INTERNAL.includes(name) && errorFromFunctionError(payload(name), 'Unhandled') instanceof SignerFunctionError);
    expect(generic.sort()).toEqual([...UNCLASSIFIED].sort());
  });

  it('reports an unknown error type as SignerFunctionError carrying that type', () => {
    const error = errorFromFunctionError(payload('InternalSignerError', 'see the logs'), 'Unhandled');
    expect(error).toBeInstanceOf(SignerFunctionError);
    expect(error).toMatchObject({ errorType: 'InternalSignerError', message: 'InternalSignerError: see the logs', retryable: false });
  });

  it('marks a Lambda timeout retryable', () => {
    expect(errorFromFunctionError(payload('Sandbox.Timedout', 'Task timed out after 10.00 seconds'), 'Unhandled')).toMatchObject({ name: 'SignerFunctionError', retryable: true });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('does not take an Object.prototype member for the error type %s', (errorType) => {
    expect(errorFromFunctionError(payload(errorType), 'Unhandled')).toBeInstanceOf(SignerFunctionError);
  });

  it('reports a payload that is not JSON without failing, naming the FunctionError', () => {
    const error = errorFromFunctionError('<html>bad gateway</html>', 'Unhandled');
    expect(error).toBeInstanceOf(SignerFunctionError);
    expect(error.message).toMatch(/Lambda Unhandled error: the function failed with no error message \(<html>bad gateway<\/html>\)/);
  });

  it('caps an echoed message at 4,000 characters', () => {
    expect(errorFromFunctionError(payload('PolicyDeniedError', 'x'.repeat(100_000)), 'Unhandled').message).toHaveLength(4000);
  });
});
