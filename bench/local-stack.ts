// The local KMS for the throughput and first-invocation figures: the project's emulator, over HTTP.
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms } from '../scripts/local-kms';
import type { LocalKms } from './benchmark';

/** Starts the local KMS with a secp256k1 signing key. */
export async function startBenchLocalKms(): Promise<LocalKms> {
  const kms = await startLocalKms();
  const client = localKmsClient(kms);
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
  client.destroy();
  if (!KeyMetadata?.KeyId) throw new Error('CreateKey returned no key');
  return { url: kms.url, keyId: KeyMetadata.KeyId, close: () => kms.close() };
}
