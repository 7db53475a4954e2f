import type { KMSClient } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { SignerError } from '../../lambdas/signer/errors';

// STS answers within a second; a caller that waits longer is talking to nothing.
const STS_TIMEOUT_MS = 10_000;

/**
 * The ARN of whoever the KMS client's credentials belong to (STS GetCallerIdentity, signed with those
 * credentials in the client's region, with the SHA-256 the client signs its own requests with). One request;
 * the AWS SDK's STS client is not a dependency of ours.
 */
export async function callerArn(client: KMSClient, fetchImpl: typeof fetch = fetch): Promise<string> {
  const region = await client.config.region();
  const endpoint = new URL(process.env.AWS_ENDPOINT_URL_STS || `https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/`);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signer = new SignatureV4({ service: 'sts', region, credentials: client.config.credentials, sha256: client.config.sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname,
    query: {},
    headers: { host: endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const response = await fetchImpl(endpoint, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(STS_TIMEOUT_MS) }).catch((error: unknown) => {
    throw new CallerIdentityError(`STS GetCallerIdentity at ${endpoint.host} failed: ${error instanceof Error ? error.message.slice(0, 200) : 'no answer'}`, error);
  });
  const text = await response.text();
  const arn = /<Arn>([^<]{1,2048})<\/Arn>/.exec(text)?.[1];
  if (!response.ok || !arn) {
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
    throw new CallerIdentityError(`STS GetCallerIdentity answered ${code}`);
  }
  return arn;
}

/**
 * The creator to name in a new key's policy, or undefined for a KMS on this machine (the local KMS, which does
 * not evaluate key policies and has no STS beside it).
 */
export async function newKeyCreatorArn(client: KMSClient): Promise<string | undefined> {
  const configured = await client.config.endpoint?.();
  const fromEnv = process.env.AWS_ENDPOINT_URL_KMS || process.env.AWS_ENDPOINT_URL;
  const host = configured?.hostname ?? (fromEnv ? new URL(fromEnv).hostname : undefined);
  if (host && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/.test(host)) return undefined;
  return callerArn(client);
}

/** Who the credentials belong to could not be found out. */
export class CallerIdentityError extends SignerError {
  override readonly name = 'CallerIdentityError';
  constructor(detail: string, cause?: unknown) {
    super(
      `Cannot tell which IAM principal you are (${detail}): --create names its creator in the new key's policy, as the only ` +
        'principal that may change that policy or delete the key. Check your credentials and region (aws sts get-caller-identity).',
      { cause },
    );
  }
}
