// One local KMS (scripts/local-kms) per describe block: started before its tests with an SDK client for it,
// and closed after them; with a signing key in it when the tests need one.
import type { KMSClient } from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms, type LocalKms } from '../../scripts/local-kms';
import { createSigningKey } from '../../scripts/local-stack/stack';

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

/** As useLocalKms, with an ECC_SECG_P256K1 SIGN_VERIFY key created in it as `npm run local` creates its key. */
export function useLocalKmsSigningKey(): { readonly kms: LocalKms; readonly client: KMSClient; readonly keyId: string; readonly keyArn: string } {
  const local = useLocalKms() as { kms: LocalKms; client: KMSClient; keyId: string; keyArn: string };
  // Registered after useLocalKms's own beforeAll, so it runs once the KMS is up.
  beforeAll(async () => {
    ({ keyId: local.keyId, keyArn: local.keyArn } = await createSigningKey(local.client));
  });
  return local;
}
