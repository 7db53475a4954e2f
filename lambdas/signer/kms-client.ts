import { KMSClient } from '@aws-sdk/client-kms';

let shared: KMSClient | undefined;

/**
 * The process-wide KMS client, built from the SDK's default configuration chain: AWS_REGION,
 * credentials, AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL (how the local stack points it at a local KMS)
 * and AWS_MAX_ATTEMPTS / AWS_RETRY_MODE for the SDK's own retry strategy.
 */
export function sharedKmsClient(): KMSClient {
  shared ??= new KMSClient({});
  return shared;
}
