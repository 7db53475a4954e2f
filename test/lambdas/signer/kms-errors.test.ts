// A missing region or missing credentials is the environment's fault: a ConfigurationError, never
// "KmsUnavailableError … retry" (retrying cannot help). Issue 11 item 7.
import { KMSClient } from '@aws-sdk/client-kms';
import { ConfigurationError } from '../../../lambdas/config';
import { awsSetupProblem, KmsUnavailableError, toKmsError } from '../../../lambdas/signer/kms-errors';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';

describe('awsSetupProblem', () => {
  it.each([
    [Object.assign(new Error('Region is missing'), { name: 'Error' }), 'region'],
    [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'credentials'],
    [Object.assign(new Error('Could not resolve credentials using profile: [nope] in configuration/credentials file(s).'), { name: 'CredentialsProviderError' }), 'credentials'],
    [Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' }), 'invalid-credentials'],
    [Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), undefined],
    [Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }), undefined],
  ])('%p → %p', (error, problem) => {
    expect(awsSetupProblem(error)).toBe(problem);
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
