// One local KMS (scripts/local-kms) per describe block: started before its tests with an SDK client for it,
// and closed after them.
import type { KMSClient } from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms, type LocalKms } from '../../scripts/local-kms';

/** A local KMS and its client for the calling describe block; read them in tests (they are set in beforeAll). */
export function useLocalKms(): { readonly kms: LocalKms; readonly client: KMSClient } {
  const local = {} as { kms: LocalKms; client: KMSClient };
  beforeAll(async () => {
    local.kms = await startLocalKms();
    local.client = localKmsClient(local.kms);
  });
  afterAll(async () => {
    local.client.destroy();
    await local.kms.close();
  });
  return local;
}
