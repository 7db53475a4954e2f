import { GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { publicKeyFromSpki, type EthereumPublicKey } from './public-key';
import { KmsKeyUsageError, toKmsError } from './kms-errors';
import { untilAborted } from './abort';

/** A KMS key that can sign for an Ethereum address. */
export interface KmsKey extends EthereumPublicKey {
  /** The key ARN that GetPublicKey resolved KMS_KEY_ID (perhaps an alias) to. */
  readonly keyArn: string;
}

/** Fetches a key's public key with GetPublicKey and checks it is a secp256k1 signing key; `signal` abandons the call. */
export async function fetchKmsKey(client: KMSClient, keyId: string, signal?: AbortSignal): Promise<KmsKey> {
  let response;
  try {
    response = await untilAborted(client.send(new GetPublicKeyCommand({ KeyId: keyId }), { abortSignal: signal }), signal);
  } catch (error) {
    throw toKmsError('GetPublicKey', keyId, error);
  }
  const { KeySpec, KeyUsage, PublicKey, KeyId } = response;
  if (KeySpec !== 'ECC_SECG_P256K1') {
    throw new KmsKeyUsageError(keyId, `its key spec is ${KeySpec ?? 'unknown'}, not ECC_SECG_P256K1`);
  }
  if (KeyUsage !== 'SIGN_VERIFY') {
    throw new KmsKeyUsageError(keyId, `its key usage is ${KeyUsage ?? 'unknown'}, not SIGN_VERIFY`);
  }
  if (!PublicKey) throw new KmsKeyUsageError(keyId, 'GetPublicKey returned no public key');
  return { keyArn: KeyId ?? keyId, ...publicKeyFromSpki(PublicKey) };
}
