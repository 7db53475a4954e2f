// A reference SigV4 signer for what a test server received: the SDK's SignatureV4 algorithm over node:crypto's
// SHA-256 (not the SDK's hash, which the code under test signs with), recomputed over the headers the request says
// it signed, at the time it says it signed them, and over the body the server received.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, SourceData } from '@smithy/types';

/** A request as an HTTP server received it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target: path and query, as in IncomingMessage.url. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Who signs, for which service and region. */
export interface SigningScope {
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
}

/** The Authorization header a SigV4 signer independent of the code under test computes for `request`. */
export async function referenceAuthorization(request: ReceivedRequest, scope: SigningScope): Promise<string | undefined> {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = String(request.headers['x-amz-date']);
  const target = new URL(request.path, `http://${String(request.headers.host)}`);
  const signed = await new SignatureV4({ ...scope, sha256: NodeSha256 }).sign(
    {
      method: request.method,
      protocol: target.protocol,
      hostname: target.hostname,
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      // The payload hash from the body as received: a signer that hashed another body must not pass.
      headers: Object.fromEntries(signedHeaders.map((name) => [name, name === 'x-amz-content-sha256' ? sha256Hex(request.body) : String(request.headers[name])])),
      body: request.body,
    },
    { signingDate: new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`) },
  );
  return signed.headers.authorization;
}

const sha256Hex = (body: string) => createHash('sha256').update(body).digest('hex');

/** node:crypto behind the Checksum interface SignatureV4 takes. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {}
}

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
