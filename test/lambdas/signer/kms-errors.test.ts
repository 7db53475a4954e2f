// A missing region or missing credentials is the environment's fault: a ConfigurationError, never
// "KmsUnavailableError … retry" (retrying cannot help). Issue 11 item 7.
import {
  DisabledException,
  InvalidKeyUsageException,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  LimitExceededException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { ConfigurationError } from '../../../lambdas/signer/errors';
import {
  awsSetupProblem,
  toKmsError,
  KmsAccessDeniedError,
  KmsKeyDisabledError,
  KmsKeyNotFoundError,
  KmsKeyStateError,
  KmsKeyUsageError,
  KmsThrottledError,
  KmsUnavailableError,
} from '../../../lambdas/signer/kms-errors';
import { SignerError } from '../../../lambdas/signer/errors';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';

describe('awsSetupProblem', () => {
  it.each([
    [Object.assign(new Error('Region is missing'), { name: 'Error' }), 'region'],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'credentials'],
    [Object.assign(new Error('Could not resolve credentials using profile: [nope] in configuration/credentials file(s).'), { name: 'CredentialsProviderError' }), 'credentials'],
    [Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' }), 'invalid-credentials'],
    // Either sign suffices: the provider chain's error name, or its message under another name.
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'Error' }), 'credentials'],
    [Object.assign(new Error('Profile nope was not found'), { name: 'CredentialsProviderError' }), 'credentials'],
    [Object.assign(new Error('The security token included in the request is invalid.'), { name: 'InvalidClientTokenId' }), 'invalid-credentials'],
    [Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException' }), 'invalid-credentials'],
    // The SDK's messages start with these words; the same words inside another error's message are not them.
    [Object.assign(new Error('KMS said: Could not load credentials'), { name: 'Error' }), undefined],
    [Object.assign(new Error('The Region is missing from the ARN'), { name: 'Error' }), undefined],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), undefined],
    [Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }), undefined],
  ])('%p → %p', (error, problem) => {
    expect(awsSetupProblem(error)).toBe(problem);
  });

  it.each([null, undefined, 'Region is missing', 42])('does not recognise %p, which is not an error object', (value) => {
    expect(awsSetupProblem(value)).toBeUndefined();
  });
});

describe('toKmsError', () => {
  it('maps a missing region to a ConfigurationError that keeps the SDK error as cause', () => {
    const sdk = new Error('Region is missing');
    const error = toKmsError('Sign', 'alias/x', sdk);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.name).toBe('ConfigurationError');
    expect(error.message).toMatch(/no AWS region is set \(AWS_REGION\) for kms:Sign on alias\/x/);
    expect(error.cause).toBe(sdk);
  });

  it.each([
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), /^The signer is misconfigured: no AWS credentials were found for kms:GetPublicKey on alias\/x/],
    [Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' }), /^The signer is misconfigured: AWS refused the credentials for kms:GetPublicKey on alias\/x/],
  ])('maps missing or refused credentials (%p) to a ConfigurationError saying which', (sdk, message) => {
    const error = toKmsError('GetPublicKey', 'alias/x', sdk);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(message);
    expect(error.cause).toBe(sdk);
  });

  it('still maps a network failure to KmsUnavailableError (retry may help)', () => {
    expect(toKmsError('Sign', 'k', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))).toBeInstanceOf(KmsUnavailableError);
  });
});

describe('KmsSigner with a real SDK client and no region configured', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  });
  afterAll(() => {
    process.env = saved;
  });

  it('rejects with ConfigurationError, not KmsUnavailableError', async () => {
    const client = new KMSClient({ credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const error = await new KmsSigner({ keyId: 'alias/x', client }).getAddress().catch((caught: unknown) => caught);
    client.destroy();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/no AWS region/);
  });
});

const KEY = 'alias/eth-signer';
// IAM's AccessDeniedException is not in KMS's model: the SDK raises it as a generic service exception.
const meta = (attempts?: number) => ({ $metadata: attempts === undefined ? {} : { attempts } });

describe('toKmsError on KMS and network errors', () => {
  const cases: Array<[string, Error, new (...args: never[]) => SignerError, string, RegExp]> = [
    ['NotFoundException', new NotFoundException({ message: 'Alias not found', ...meta() }), KmsKeyNotFoundError, 'KmsKeyNotFoundError',
      /^KMS key alias\/eth-signer was not found \(NotFoundException: Alias not found\)\. Check KMS_KEY_ID .* and AWS_REGION/],
    ['DisabledException', new DisabledException({ message: 'is disabled', ...meta() }), KmsKeyDisabledError, 'KmsKeyDisabledError',
      /^KMS key alias\/eth-signer is disabled \(DisabledException: is disabled\)\. Enable it with: aws kms enable-key --key-id alias\/eth-signer$/],
    ['KMSInvalidStateException', new KMSInvalidStateException({ message: 'pending import', ...meta() }), KmsKeyStateError, 'KmsKeyStateError',
      /^KMS key alias\/eth-signer cannot sign in its current state \(KMSInvalidStateException: pending import\)\. .*npm run import-key.*cancel-key-deletion/],
    ['InvalidKeyUsageException', new InvalidKeyUsageException({ message: 'ENCRYPT_DECRYPT', ...meta() }), KmsKeyUsageError, 'KmsKeyUsageError',
      /^KMS key alias\/eth-signer cannot sign Ethereum transactions \(InvalidKeyUsageException: ENCRYPT_DECRYPT\)\. Create a key with key spec ECC_SECG_P256K1 and key usage SIGN_VERIFY\.$/],
    ['AccessDeniedException', new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized', ...meta() }), KmsAccessDeniedError, 'KmsAccessDeniedError',
      /^Access to KMS key alias\/eth-signer was denied for kms:Sign \(AccessDeniedException: not authorized\)\. Grant kms:GetPublicKey and kms:Sign on this key to the signer role, in its IAM policy and in the key policy\.$/],
    ['LimitExceededException', new LimitExceededException({ message: 'quota', ...meta(3) }), KmsThrottledError, 'KmsThrottledError',
      /^KMS throttled kms:Sign after 3 attempt\(s\) \(LimitExceededException: quota\)\. Retry later, lower the request rate, or ask AWS for a higher KMS request quota\.$/],
    ['ThrottlingException', new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', ...meta(2) }), KmsThrottledError, 'KmsThrottledError',
      /^KMS throttled kms:Sign after 2 attempt\(s\) \(ThrottlingException: Rate exceeded\)/],
    ['a network error', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), { name: 'Error' }), KmsUnavailableError, 'KmsUnavailableError',
      /^The call to kms:Sign failed \(Error: connect ECONNREFUSED 127\.0\.0\.1:4599\)\. Nothing was signed; retry\.$/],
    ['an unmodelled KMS fault', new KMSServiceException({ name: 'KMSInternalException', $fault: 'server', message: 'oops', ...meta(3) }), KmsUnavailableError, 'KmsUnavailableError',
      /^The call to kms:Sign failed \(KMSInternalException: oops\)/],
  ];

  it.each(cases)('maps %s to its typed error with a stable name, a message that says what to do, and the SDK error as cause', (_label, sdkError, Type, name, message) => {
    const error = toKmsError('Sign', KEY, sdkError);
    expect(error).toBeInstanceOf(Type);
    expect(error).toBeInstanceOf(SignerError);
    expect(error.name).toBe(name);
    expect(error.message).toMatch(message);
    expect(error.cause).toBe(sdkError);
  });

  it('names the operation that failed', () => {
    expect(toKmsError('GetPublicKey', KEY, new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'x', ...meta() })).message).toMatch(/denied for kms:GetPublicKey/);
    expect(toKmsError('GetPublicKey', KEY, new Error('socket hang up')).message).toMatch(/^The call to kms:GetPublicKey failed/);
  });

  it('counts one attempt when the SDK does not say how many it made', () => {
    expect(toKmsError('Sign', KEY, new LimitExceededException({ message: 'quota', ...meta() })).message).toMatch(/after 1 attempt\(s\)/);
  });

  it('counts one attempt for a throttling error that carries no $metadata at all', () => {
    const bare = { name: 'ThrottlingException', message: 'Rate exceeded' };
    expect(toKmsError('Sign', KEY, bare).message).toMatch(/after 1 attempt\(s\) \(ThrottlingException: Rate exceeded\)/);
  });

  it('echoes a detail of exactly 300 characters whole, and cuts a longer one saying how long it was', () => {
    const exact = `Error: ${'x'.repeat(293)}`;
    expect(toKmsError('Sign', KEY, new Error('x'.repeat(293))).message).toBe(`The call to kms:Sign failed (${exact}). Nothing was signed; retry.`);
    expect(toKmsError('Sign', KEY, new Error('x'.repeat(294))).message).toBe(`The call to kms:Sign failed (${exact}… (301 characters)). Nothing was signed; retry.`);
  });

  it('passes an error that is already typed through unchanged', () => {
    const typed = new KmsKeyDisabledError(KEY, 'already typed');
    expect(toKmsError('Sign', KEY, typed)).toBe(typed);
  });

  it('describes a thrown non-error value without crashing', () => {
    const error = toKmsError('Sign', KEY, 'boom');
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error.message).toMatch(/\(Error: boom\)/);
    expect(error.cause).toBe('boom');
    expect(toKmsError('Sign', KEY, undefined).message).toMatch(/\(Error: undefined\)/);
  });
});

describe('toKmsError on hostile or slow answers', () => {
  it('echoes at most the start of a huge KMS error message (a proxy can answer with a whole page)', () => {
    const error = toKmsError('Sign', 'alias/x', Object.assign(new Error('<html>' + 'x'.repeat(1_000_000)), { name: 'BadGateway' }));
    expect(error.name).toBe('KmsUnavailableError');
    expect(error.message.length).toBeLessThan(600);
    expect(error.message).toContain('(1000018 characters)');
  });

  it('says when KMS did not answer within the time left for the invocation, or within the client timeouts', () => {
    expect(toKmsError('Sign', 'k', Object.assign(new Error('Request aborted'), { name: 'AbortError' })).message).toMatch(
      /kms:Sign failed \(no answer before the time left for this invocation ran out\)/,
    );
    expect(toKmsError('GetPublicKey', 'k', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))).toMatchObject({
      name: 'KmsUnavailableError',
      message: expect.stringContaining("within the KMS client's timeouts"),
    });
  });
});
