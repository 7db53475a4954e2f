// Child process: the local KMS with one secp256k1 key, apart from the measured process so that the CPU it
// spends answering is not counted as the client's. Prints {"url","keyId"} on stdout; exits when stdin closes.
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms } from '../scripts/local-kms';

async function main(): Promise<void> {
  const kms = await startLocalKms();
  const client = localKmsClient(kms);
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
  client.destroy();
  if (!KeyMetadata?.KeyId) throw new Error('CreateKey returned no key');
  process.stdin.on('end', () => void kms.close().then(() => process.exit(0)));
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url: kms.url, keyId: KeyMetadata.KeyId })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
