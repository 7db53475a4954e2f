// Turning serialised KMS answers back into what the in-process KMS serves, without the noble signer.
import type { GetPublicKeyCommandOutput } from '@aws-sdk/client-kms';
import type { PrecomputedSignatures } from './in-process-kms';
import type { SerializedAnswers } from './precompute';

/** The inverse of `serializeAnswers`, kept apart so a child process loads no signing code. */
export function deserializeAnswers(json: SerializedAnswers): {
  publicKey: GetPublicKeyCommandOutput;
  signatures: PrecomputedSignatures;
} {
  return {
    publicKey: {
      KeyId: json.keyArn,
      KeySpec: 'ECC_SECG_P256K1',
      KeyUsage: 'SIGN_VERIFY',
      PublicKey: Uint8Array.from(Buffer.from(json.spki, 'hex')),
      SigningAlgorithms: ['ECDSA_SHA_256'],
      $metadata: {},
    },
    signatures: new Map(json.signatures.map(([digest, der]) => [digest, Uint8Array.from(Buffer.from(der, 'hex'))])),
  };
}
