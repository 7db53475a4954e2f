import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { startAnvil, type Anvil } from '../local-chain';
import { localKmsClient, startLocalKms, type LocalKms } from '../local-kms';

/** The local KMS and anvil, running together on loopback. */
export interface LocalStack {
  readonly kms: LocalKms;
  readonly anvil: Anvil;
  /** An SDK client for the local KMS. */
  readonly kmsClient: KMSClient;
  /** The environment that points the AWS SDK, the AWS CLI and cast at the local KMS. */
  readonly awsEnv: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the local KMS and anvil on free loopback ports; `close` stops both. */
export async function startLocalStack(options: { dataDir?: string } = {}): Promise<LocalStack> {
  const [kms, anvil] = await Promise.all([startLocalKms({ dataDir: options.dataDir }), startAnvil()]);
  const awsEnv = {
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_ENDPOINT_URL: kms.url, // what cast --aws reads
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1', // what AWS CLI v1 reads
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  const kmsClient = localKmsClient(kms, { region: awsEnv.AWS_REGION });
  return {
    kms,
    anvil,
    kmsClient,
    awsEnv,
    close: async () => {
      kmsClient.destroy();
      await Promise.all([kms.close(), anvil.close()]);
    },
  };
}

/** Creates an ECC_SECG_P256K1 signing key in KMS, with an alias if given; returns its key id and ARN. */
export async function createSigningKey(client: KMSClient, alias?: string): Promise<{ keyId: string; keyArn: string }> {
  const { KeyMetadata } = await client.send(
    new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Description: 'kms-eth-signer local demo key' }),
  );
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error('CreateKey returned no key');
  if (alias) await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata.KeyId }));
  return { keyId: KeyMetadata.KeyId, keyArn: KeyMetadata.Arn };
}
