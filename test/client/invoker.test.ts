import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaInvokeError, LambdaSignerError, LambdaTimeoutError } from '../../client';
import { LambdaInvoker } from '../../client/invoker';
import { rejectionOf } from '../helpers/rejection';

const lambda = mockClient(LambdaClient);
afterEach(() => lambda.reset());
afterAll(() => lambda.restore());

const client = new LambdaClient({ region: 'us-east-1' });
const invoker = (options: Partial<ConstructorParameters<typeof LambdaInvoker>[0]> = {}) => new LambdaInvoker({ functionName: 'eth-signer-eip1559', client, ...options });

describe('LambdaInvoker', () => {
  it.each([
    [{ functionName: '' }, /functionName must name the signer Lambda/],
    [{ timeoutMs: 0 }, /timeoutMs must be a whole number of milliseconds above 0/],
    [{ timeoutMs: 1.5 }, /timeoutMs must be a whole number/],
    [{ retries: 11 }, /retries must be a whole number from 0 to 10/],
    [{ retries: -1 }, /retries must be a whole number from 0 to 10/],
  ])('refuses the option %j', (options, message) => {
    expect(() => invoker(options)).toThrow(message);
  });

  it('reports an Invoke API error as LambdaInvokeError with a hint and the SDK error as cause, without retrying it itself', async () => {
    const notFound = new ResourceNotFoundException({ message: 'Function not found: arn:aws:lambda:us-east-1:1:function:x', $metadata: { httpStatusCode: 404 } });
    lambda.on(InvokeCommand).rejects(notFound);
    const error = await rejectionOf(invoker().call({ operation: 'status' }));
    expect(error).toBeInstanceOf(LambdaInvokeError);
    expect(error).toMatchObject({ retryable: false, cause: notFound });
    expect(error.message).toMatch(/Could not invoke eth-signer-eip1559: ResourceNotFoundException: Function not found.*check the function name and the region/);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  it('refuses a payload that is not JSON', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode('<html>') as never });
    await expect(invoker().call({ operation: 'status' })).rejects.toThrow(/answered with a payload that is not JSON \(<html>\)/);
  });

  it('lets a call shorten the timeout but not lengthen it', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const shortened = await rejectionOf(invoker({ timeoutMs: 60_000 }).call({ operation: 'status' }, { timeoutMs: 100 }));
    expect(shortened.message).toMatch(/no answer within 100 ms/);
    const capped = await rejectionOf(invoker({ timeoutMs: 100 }).call({ operation: 'status' }, { timeoutMs: 60_000 }));
    expect(capped).toBeInstanceOf(LambdaTimeoutError);
    expect(capped.message).toMatch(/no answer within 100 ms/);
  });

  it('ends a retry\'s backoff at the timeout, naming the last error', async () => {
    const unavailable = JSON.stringify({ errorType: 'KmsUnavailableError', errorMessage: 'The call to kms:Sign failed' });
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(unavailable) as never });
    const error = await rejectionOf(invoker({ timeoutMs: 1000, retries: 10 }).call({ operation: 'sign' }));
    expect(error).toBeInstanceOf(LambdaTimeoutError);
    expect(error).toBeInstanceOf(LambdaSignerError);
    expect(error.message).toMatch(/no answer within 1000 ms \(after KmsUnavailableError: The call to kms:Sign failed\)/);
  });
});
