import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';

let shared: KMSClient | undefined;

/**
 * A KMS client tuned for the signer's hot path (one `Sign` per signature) through the SDK's own options
 * only: the default configuration chain still supplies region, credentials, endpoint, retries and SigV4.
 *
 * - `cacheMiddleware`: the SDK resolves the middleware stack once per command class instead of on every
 *   `send` (sorting and cloning about a dozen middleware each time was a third of the SDK's CPU per call).
 *   Calls that pass per-call options (`send(command, { abortSignal })`) still work; the SDK resolves the
 *   stack afresh for those, so they do not get the saving.
 *
 * `config` is applied last, so a caller may override any of it.
 */
export function createKmsClient(config: KMSClientConfig = {}): KMSClient {
  return new KMSClient({ cacheMiddleware: true, ...config });
}

/**
 * The process-wide KMS client (see createKmsClient), built from the SDK's default configuration chain:
 * AWS_REGION, credentials, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL (how the local stack points it at a
 * local KMS) and AWS_MAX_ATTEMPTS / AWS_RETRY_MODE for the SDK's own retry strategy.
 */
export function sharedKmsClient(): KMSClient {
  shared ??= createKmsClient();
  return shared;
}
