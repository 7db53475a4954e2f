// The signer's KMS client: the SDK's own options for a cheaper hot path must leave retries, the default
// credential chain, SigV4, abort signals and timeouts working. Real SDK over HTTP, nothing mocked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';
import { createKmsClient, kmsTimeoutConfig, rehearseCall, requestsDispatched, sharedKmsClient, DEFAULT_KMS_TIMEOUTS } from '../../../lambdas/signer/kms-client';
import { rejectionOf } from '../../helpers/rejection';
import { useLocalKmsSigningKey } from '../../helpers/local-kms';
import { referenceAuthorization, type ReceivedRequest } from '../../helpers/sigv4';
import { freshModule } from '../../helpers/fresh-module';

const DIGEST = new Uint8Array(32).fill(7);
const signCommand = (keyId: string) => new SignCommand({ KeyId: keyId, Message: DIGEST, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });

describe('createKmsClient', () => {
  const local = useLocalKmsSigningKey();
  let client: KMSClient;

  beforeAll(() => {
    client = createKmsClient({ endpoint: local.kms.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  afterAll(() => client.destroy());
  afterEach(() => {
    local.kms.faults.reset();
    jest.restoreAllMocks();
  });

  it('resolves the middleware stack once per command class, not on every call', async () => {
    const fresh = createKmsClient({ endpoint: local.kms.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const resolveSign = jest.spyOn(SignCommand.prototype, 'resolveMiddleware');
    const resolveKey = jest.spyOn(GetPublicKeyCommand.prototype, 'resolveMiddleware');
    for (let i = 0; i < 3; i++) expect((await fresh.send(signCommand(local.keyId))).Signature).toBeInstanceOf(Uint8Array);
    // Another command class on the same client gets its own stack, not Sign's.
    expect((await fresh.send(new GetPublicKeyCommand({ KeyId: local.keyId }))).KeySpec).toBe('ECC_SECG_P256K1');
    expect((await fresh.send(signCommand(local.keyId))).KeyId).toContain(local.keyId);
    // A call with an abort signal (the per-invocation budget) takes the cached stack too, and so do empty options.
    expect((await fresh.send(signCommand(local.keyId), { abortSignal: new AbortController().signal })).KeyId).toContain(local.keyId);
    expect((await fresh.send(signCommand(local.keyId), {})).KeyId).toContain(local.keyId);
    expect(resolveSign).toHaveBeenCalledTimes(1);
    expect(resolveKey).toHaveBeenCalledTimes(1);
    // Null options (JavaScript callers pass them) take the SDK's own path, and work.
    expect((await fresh.send(signCommand(local.keyId), null as never)).KeyId).toContain(local.keyId);
    fresh.destroy();
  });

  // The two slow answers first: the local KMS's delay timers run out while the retry tests run.
  it('still honours a per-call abort signal, and the cached path keeps working afterwards', async () => {
    local.kms.faults.set({ latencyMs: 1_500 });
    await expect(client.send(signCommand(local.keyId), { abortSignal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'AbortError' });
    local.kms.faults.reset();
    expect((await client.send(signCommand(local.keyId))).Signature).toBeInstanceOf(Uint8Array);
  });

  it('keeps the request handler configurable: a request timeout set by the caller applies', async () => {
    const impatient = createKmsClient({
      endpoint: local.kms.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });
    local.kms.faults.set({ latencyMs: 1_500 });
    await expect(impatient.send(signCommand(local.keyId))).rejects.toMatchObject({ name: 'TimeoutError' });
    impatient.destroy();
  });

  it('keeps per-call options other than an abort signal: a per-call request timeout applies', async () => {
    local.kms.faults.set({ latencyMs: 1_500 });
    const impatient = createKmsClient({
      endpoint: local.kms.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      requestHandler: { throwOnRequestTimeout: true }, // no client-wide request timeout: only the call's
    });
    await expect(impatient.send(signCommand(local.keyId), { requestTimeout: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
    impatient.destroy();
  });

  it("absorbs a throttled call and an HTTP 500 with the SDK's retries", async () => {
    local.kms.faults.set({ throttle: 1, internalError: 1 });
    const response = await client.send(signCommand(local.keyId));
    expect(response.Signature).toBeInstanceOf(Uint8Array);
    expect(response.$metadata.attempts).toBe(3);
  });

  it('gives up after the configured attempts, with the KMS error', async () => {
    local.kms.faults.set({ throttle: 10 });
    await expect(client.send(signCommand(local.keyId))).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 3 } });
  });

  // After the retry tests, so that the slow answers of the first tests no longer use up throttle faults.
  it('abandons a call aborted during a retry back-off, and sends no attempt after the abort', async () => {
    // Configured as the signer's own client is: request handler options (the timeouts), not an instance.
    const signerClient = createKmsClient({
      ...kmsTimeoutConfig(DEFAULT_KMS_TIMEOUTS),
      endpoint: local.kms.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    local.kms.faults.set({ throttle: 10 });
    const handle = jest.spyOn(NodeHttpHandler.prototype, 'handle');
    const controller = new AbortController();
    const call = signerClient.send(signCommand(local.keyId), { abortSignal: controller.signal });
    // Abort once the first attempt has been handed to the HTTP handler (it is throttled, and the SDK backs off),
    // whatever this machine's speed: no fixed sleep decides when that is.
    while (handle.mock.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const attemptsBefore = handle.mock.calls.length;
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the longest back-off
    // Any later attempt reaches the HTTP handler only with the aborted signal, which refuses it before sending.
    const later = handle.mock.calls.slice(attemptsBefore);
    for (const [, options] of later) expect(options?.abortSignal?.aborted).toBe(true);
    signerClient.destroy();
  });

  it('uses a request handler instance as given', () => {
    const handler = new NodeHttpHandler({ requestTimeout: 1234 });
    const given = createKmsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, requestHandler: handler });
    expect(given.config.requestHandler).toBe(handler);
    given.destroy();
  });

  it('leaves a test double installed on the class in charge (aws-sdk-client-mock), with or without a signal', async () => {
    const created = createKmsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(KMSClient);
    try {
      mock.on(SignCommand).resolves({ KeyId: 'from-the-mock', $metadata: {} });
      expect((await created.send(signCommand(local.keyId))).KeyId).toBe('from-the-mock');
      expect((await created.send(signCommand(local.keyId), { abortSignal: new AbortController().signal })).KeyId).toBe('from-the-mock');
    } finally {
      mock.restore();
      created.destroy();
    }
  });

  describe('on a server that records what it receives', () => {
    let server: Server;
    let url: string;
    const received: ReceivedRequest[] = [];
    const saved = { ...process.env };

    beforeAll(async () => {
      server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          received.push({ method: request.method ?? '', headers: request.headers, body, path: request.url ?? '' });
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(JSON.stringify({ KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k', Signature: Buffer.from([48, 0]).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      process.env = saved;
      await new Promise((resolve) => server.close(resolve));
    });

    it('takes region, endpoint and credentials from the default chain and signs every request with SigV4', async () => {
      Object.assign(process.env, {
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_KMS: url,
        AWS_ACCESS_KEY_ID: 'AKIDFROMENVIRONMENT',
        AWS_SECRET_ACCESS_KEY: 'secret-from-environment',
        AWS_SESSION_TOKEN: 'session-token-from-environment',
      });
      const fromChain = createKmsClient();
      received.length = 0;
      await fromChain.send(signCommand('alias/one'));
      await fromChain.send(signCommand('alias/two'));
      fromChain.destroy();

      expect(received).toHaveLength(2);
      const scope = {
        service: 'kms',
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDFROMENVIRONMENT', secretAccessKey: 'secret-from-environment', sessionToken: 'session-token-from-environment' },
      };
      for (const [i, request] of received.entries()) {
        const { headers, body } = request;
        expect(JSON.parse(body)).toMatchObject({ KeyId: i === 0 ? 'alias/one' : 'alias/two', MessageType: 'DIGEST' });
        expect(headers['x-amz-target']).toBe('TrentService.Sign');
        expect(headers['x-amz-security-token']).toBe('session-token-from-environment');
        expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFROMENVIRONMENT\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
        // Recompute the signature over exactly the headers the SDK said it signed: it must match.
        expect(headers.authorization).toBe(await referenceAuthorization(request, scope));
      }
    });

    const userAgents = () => received.map(({ headers }) => [headers['user-agent'], headers['x-amz-user-agent']]);
    const config = () => ({ endpoint: url, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    /** The user-agent headers the server received from `calls` Sign calls of the client (destroyed after). */
    const agentsSent = async (client: KMSClient, calls: number, keyId: string) => {
      received.length = 0;
      for (let i = 0; i < calls; i++) await client.send(signCommand(keyId));
      client.destroy();
      return userAgents();
    };

    it("sends on every call the user agent that the SDK's own middleware computes, though it computes it only until it is stable", async () => {
      const expected = await agentsSent(new KMSClient(config()), 4, 'alias/plain');
      expect(expected[0]?.[0]).toMatch(/^aws-sdk-js\/\S+ .*api\/kms#\S+/);

      const cached = createKmsClient(config());
      // The SDK's middleware asks this provider for the default sections each time it computes the headers.
      const computations = jest.fn(cached.config.defaultUserAgentProvider);
      cached.config.defaultUserAgentProvider = computations;
      received.length = 0;
      await cached.send(signCommand('alias/cached'));
      await cached.send(signCommand('alias/cached'));
      await cached.send(signCommand('alias/cached'), { abortSignal: new AbortController().signal });
      await cached.send(signCommand('alias/cached'));
      cached.destroy();
      expect(userAgents()).toEqual(expected);
      expect(computations).toHaveBeenCalledTimes(2); // the same headers twice in a row: reused from then on
    });

    it("keeps computing the user agent while the SDK's answer still changes, and sends the latest", async () => {
      const cached = createKmsClient(config());
      const sdkProvider = cached.config.defaultUserAgentProvider;
      let calls = 0;
      // The first answer carries a section that later answers drop (as a feature flag added on the first call changes it).
      const computations = jest.fn(async () => [...(await sdkProvider()), ...(++calls === 1 ? [['first-call'] as [string]] : [])]);
      cached.config.defaultUserAgentProvider = computations;
      const agents = await agentsSent(cached, 4, 'alias/changing');
      expect(agents[0]?.[0]).toContain('first-call');
      expect(agents.slice(1)).toEqual([agents[1], agents[1], agents[1]]);
      expect(agents[1]?.[0]).not.toContain('first-call');
      expect(computations).toHaveBeenCalledTimes(3); // different, then the same twice: reused from the fourth call
    });

    it('keeps computing the user agent while only its user-agent header changes from call to call', async () => {
      // A caller's middleware adds a per-call section, which the SDK puts in user-agent only (x-amz-user-agent stays the same).
      const withCallSection = (client: KMSClient) => {
        let call = 0;
        client.middlewareStack.add((next, context) => (args) => {
          (context as { userAgent?: [string, string][] }).userAgent = [['call', String(++call)]];
          return next(args);
        }, { step: 'initialize', name: 'callSection' });
        return client;
      };
      const expected = await agentsSent(withCallSection(new KMSClient(config())), 4, 'alias/plain');
      expect(new Set(expected.map(([userAgent]) => userAgent)).size).toBe(4);
      expect(new Set(expected.map(([, amzUserAgent]) => amzUserAgent)).size).toBe(1);

      expect(await agentsSent(withCallSection(createKmsClient(config())), 4, 'alias/cached')).toEqual(expected);
    });

    it("lets the SDK's middleware compute the headers of requests that already carry x-amz-user-agent, and never reuses theirs", async () => {
      // A caller's middleware sets its own x-amz-user-agent on some requests only (calls 1, 2 and 5 of 6).
      const withCustomHeader = (client: KMSClient) => {
        let call = 0;
        client.middlewareStack.add((next) => (args) => {
          call++;
          if (call <= 2 || call === 5) (args.request as { headers: Record<string, string> }).headers['x-amz-user-agent'] = 'custom/1';
          return next(args);
        }, { step: 'build', priority: 'high', name: 'customUserAgentHeader' });
        return client;
      };
      const expected = await agentsSent(withCustomHeader(new KMSClient(config())), 6, 'alias/plain');
      expect(expected[0]).not.toEqual(expected[2]); // the SDK writes something else when the header is there

      const cached = withCustomHeader(createKmsClient(config()));
      expect(cached.middlewareStack.identify()).toContain('cachedUserAgentMiddleware (a.k.a. getUserAgentMiddleware) - build');
      expect(await agentsSent(cached, 6, 'alias/cached')).toEqual(expected);
    });

    it('keeps the logger middleware for a caller that gives the client a logger', async () => {
      const logged: unknown[] = [];
      const logger = { trace: () => {}, debug: () => {}, info: (entry: unknown) => logged.push(entry), warn: () => {}, error: () => {} };
      const withLogger = createKmsClient({ ...config(), logger });
      await withLogger.send(signCommand('alias/logged'));
      withLogger.destroy();
      expect(logged).toEqual([expect.objectContaining({ commandName: 'SignCommand', input: expect.objectContaining({ KeyId: 'alias/logged' }) })]);
      expect(createKmsClient(config()).middlewareStack.identify().join(' ')).not.toContain('loggerMiddleware');
    });
  });
});

// The signer's timeouts, against a real HTTP server that accepts every request and never answers.
describe('kmsTimeoutConfig', () => {
  let server: Server;
  let url: string;
  let requests: number;
  beforeAll(async () => {
    server = createServer(() => {
      requests++; // and never answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (requests = 0));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const clientWith = (timeouts: Parameters<typeof kmsTimeoutConfig>[0]) =>
    createKmsClient({ ...kmsTimeoutConfig(timeouts), endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  it('gives up on a KMS that never answers after the request timeout, retrying AWS_MAX_ATTEMPTS times in all', async () => {
    const client = clientWith({ connectTimeoutMs: 1000, requestTimeoutMs: 300, maxAttempts: 2 });
    const started = performance.now();
    const error = await rejectionOf(client.send(new GetPublicKeyCommand({ KeyId: 'alias/hung' })));
    const elapsed = performance.now() - started;
    client.destroy();
    expect(error.name).toBe('TimeoutError');
    expect(requests).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(10_000); // without timeouts the call would never end
  });

  it('tells when every call sent has handed its request over (requestsDispatched), without waiting for an answer', async () => {
    await requestsDispatched(); // nothing in flight: at once
    const client = clientWith({ connectTimeoutMs: 1000, requestTimeoutMs: 5000, maxAttempts: 1 });
    const controller = new AbortController();
    const call = rejectionOf(client.send(new GetPublicKeyCommand({ KeyId: 'alias/hung' }), { abortSignal: controller.signal }));
    await requestsDispatched(); // the server never answers: this resolved on the hand-over
    while (requests === 0) await new Promise((resolve) => setTimeout(resolve, 5)); // and the request does arrive
    expect(requests).toBe(1);
    controller.abort();
    expect((await call).name).toBe('AbortError');
    client.destroy();
  });

  it('sets the defaults that do not fail healthy calls under load (about 4 s per attempt)', () => {
    // Loaded afresh inside the spec, as on a cold start (see freshModule).
    const loaded = freshModule(() => require('../../../lambdas/signer/kms-client') as typeof import('../../../lambdas/signer/kms-client')).DEFAULT_KMS_TIMEOUTS;
    expect(loaded).toEqual({ connectTimeoutMs: 3000, requestTimeoutMs: 4000 });
    expect(DEFAULT_KMS_TIMEOUTS).toEqual(loaded);
    // No maxAttempts of its own: the SDK's default chain (AWS_MAX_ATTEMPTS, else 3) decides.
    expect(kmsTimeoutConfig(DEFAULT_KMS_TIMEOUTS)).toStrictEqual({
      requestHandler: { connectionTimeout: 3000, requestTimeout: 4000, socketTimeout: 4000, throwOnRequestTimeout: true },
    });
  });
});

describe('sharedKmsClient', () => {
  it('builds one client per set of timeouts', () => {
    const timeouts = { connectTimeoutMs: 1234, requestTimeoutMs: 5678, maxAttempts: 2 };
    expect(sharedKmsClient(timeouts)).toBe(sharedKmsClient({ ...timeouts }));
    expect(sharedKmsClient(timeouts)).not.toBe(sharedKmsClient({ ...timeouts, maxAttempts: 3 }));
  });
});

describe('rehearseCall', () => {
  let server: Server;
  let url: string;
  let requests = 0;
  const signature = { KeyId: 'arn:aws:kms:us-east-1:111122223333:key/k', Signature: Buffer.from([48, 0]).toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests++;
      request.resume().on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(signature));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (requests = 0));

  it('runs the call through the SDK (credentials resolved, request signed) up to the HTTP handler and sends nothing', async () => {
    const credentials = jest.fn(async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }));
    const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials });
    const signing = jest.spyOn(client.config, 'signer');

    await expect(rehearseCall(client, signCommand('alias/rehearsed'))).resolves.toBe(true);
    expect(credentials).toHaveBeenCalled();
    expect(signing).toHaveBeenCalled();
    expect(requests).toBe(0);

    // The rehearsal left the cached middleware stack of the command class as it was: a real call is sent.
    expect((await client.send(signCommand('alias/rehearsed'))).KeyId).toBe(signature.KeyId);
    expect(requests).toBe(1);
    client.destroy();
  });

  it('rejects with the SDK error when the call fails before the HTTP handler, still sending nothing', async () => {
    const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: async () => Promise.reject(new Error('no credentials here')) });
    expect((await rejectionOf(rehearseCall(client, signCommand('alias/rehearsed')))).message).toContain('no credentials here');
    expect(requests).toBe(0);
    client.destroy();
  });

  it('does nothing through a class-level test double, which would count the call', async () => {
    const kms = mockClient(KMSClient);
    try {
      const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await expect(rehearseCall(client, signCommand('alias/rehearsed'))).resolves.toBe(false);
      expect(kms.calls()).toHaveLength(0);
    } finally {
      kms.restore();
    }
  });

  it('does nothing through a caller\'s own HTTP handler (it could send the request) or a client not built here', async () => {
    const handler = new NodeHttpHandler();
    const handle = jest.spyOn(handler, 'handle');
    const own = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestHandler: handler });
    await expect(rehearseCall(own, signCommand('alias/rehearsed'))).resolves.toBe(false);
    await expect(rehearseCall(new KMSClient({ endpoint: url, region: 'us-east-1' }), signCommand('alias/rehearsed'))).resolves.toBe(false);
    expect(handle).not.toHaveBeenCalled();
    expect(requests).toBe(0);
    own.destroy();
  });
});
