import { KMSClient } from '@aws-sdk/client-kms';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KmsError } from './errors';
import { Faults, InvalidFaultSettingError, type FaultSettings } from './faults';
import { KmsOperations } from './operations';
import { KeyStore } from './store';
import { messageDigest, signDigest } from './ecdsa';

/** How to start the local KMS. */
export interface LocalKmsOptions {
  /** Loopback port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Persist keys and aliases to DIR/state.json (mode 0600); in memory only when absent. */
  readonly dataDir?: string;
  /** The clock, for tests of token expiry. */
  readonly now?: () => Date;
}

/** A running local KMS. */
export interface LocalKms {
  /** The endpoint for AWS_ENDPOINT_URL_KMS, `--endpoint-url` or an SDK client's `endpoint`. */
  readonly url: string;
  readonly port: number;
  readonly faults: Faults;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts a KMS that speaks the AWS JSON 1.1 protocol on 127.0.0.1: `POST /` with `X-Amz-Target:
 * TrentService.<Operation>`. It accepts any SigV4 signature without checking it: a development tool, not a
 * security boundary. `POST /__faults` (JSON FaultSettings, or {"reset": true}) injects faults.
 */
export async function startLocalKms(options: LocalKmsOptions = {}): Promise<LocalKms> {
  const store = new KeyStore(options.dataDir);
  const operations = new KmsOperations(store);
  const faults = new Faults();
  const now = options.now ?? (() => new Date());

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // The details go to the emulator's own log; the client gets what KMS would say, without internals.
      console.error('local KMS: internal error', error);
      send(response, 500, { __type: 'KMSInternalException', message: 'The local KMS failed to handle the request; see its log.' });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.url === '/__faults') {
      if (request.method === 'POST') {
        try {
          const settings: unknown = JSON.parse(body || '{}');
          if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new InvalidFaultSettingError('the fault settings must be a JSON object');
          faults.set(settings as FaultSettings & { reset?: boolean });
        } catch (error) {
          if (!(error instanceof SyntaxError || error instanceof InvalidFaultSettingError)) throw error;
          return send(response, 400, { message: `Invalid fault settings: ${error.message}` }, 'application/json');
        }
      }
      return send(response, 200, faults.current(), 'application/json');
    }
    const { latencyMs } = faults.current();
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : undefined;
    // A call's fault is decided when it arrives, not when its delayed answer is made: a slow call that its client
    // has already abandoned must not use up a fault meant for a later call.
    const fault = request.method !== 'POST' || !operation ? undefined : faults.take('hang') ? 'hang' : faults.take('throttle') ? 'throttle' : faults.take('internalError') ? 'internalError' : undefined;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (request.method !== 'POST' || !operation) {
      return send(response, 400, { __type: 'UnknownOperationException', message: 'Expected POST / with X-Amz-Target: TrentService.<Operation>' });
    }
    if (fault === 'hang') return; // the connection stays open, unanswered
    if (fault === 'throttle') return send(response, 400, { __type: 'ThrottlingException', message: 'Rate exceeded (injected fault)' });
    if (fault === 'internalError') return send(response, 500, { __type: 'KMSInternalException', message: 'Internal failure (injected fault)' });

    let parsed: unknown;
    try {
      parsed = body === '' ? {} : JSON.parse(body);
    } catch {
      return send(response, 400, { __type: 'SerializationException', message: 'The request body is not JSON' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return send(response, 400, { __type: 'SerializationException', message: 'The request body must be a JSON object' });
    }
    const input = parsed as Record<string, unknown>;
    try {
      const context = { region: regionOf(request), now: now() };
      const output = await operations.run(operation, input, context);
      if (operation === 'Sign' && faults.take('corruptSignature')) {
        // A valid DER signature by the same key, but over another digest: only a signer that checks recovery notices.
        const key = store.keys.get(String(output.KeyId).split('/').pop() ?? '');
        if (key?.privateKey) output.Signature = signDigest(key.keySpec, Buffer.from(key.privateKey, 'hex'), messageDigest(Buffer.from(String(output.Signature)), 'RAW')).toString('base64');
      }
      send(response, 200, output);
    } catch (error) {
      if (error instanceof KmsError) return send(response, error.status, { __type: error.type, message: error.message });
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The region from the SigV4 credential scope (`Credential=AKID/date/REGION/kms/aws4_request`). */
function regionOf(request: IncomingMessage): string {
  const match = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/kms\//.exec(request.headers.authorization ?? '');
  return match?.[1] ?? 'us-east-1';
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.1'): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(status >= 400 && typeof body === 'object' && body !== null && '__type' in body && { 'x-amzn-errortype': String(body.__type) }),
  });
  response.end(text);
}

/** An AWS SDK client for a local KMS: its endpoint, a region, and dummy credentials (never checked). */
export function localKmsClient(kms: Pick<LocalKms, 'url'>, options: { region?: string; maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({ endpoint: kms.url, region: options.region ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, ...(options.maxAttempts && { maxAttempts: options.maxAttempts }) });
}
