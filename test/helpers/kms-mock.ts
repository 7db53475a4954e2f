// A mocked KMS (aws-sdk-client-mock) backed by a real secp256k1 key, so that every signature it
// returns is a genuine DER ECDSA signature made by an implementation independent of ours (noble).
import { createPublicKey, randomBytes } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, type GetPublicKeyCommandOutput, SignCommand, type SignCommandInput } from '@aws-sdk/client-kms';
import { secp256k1 } from '@noble/curves/secp256k1';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60';

/** How the mocked Sign answers: RFC 6979 (deterministic), random nonces, or forced high/low s. */
export type SignMode = 'rfc6979' | 'random' | 'high-s' | 'low-s';

/** The DER SubjectPublicKeyInfo of a secp256k1 private key, made by node's crypto (OpenSSL). */
export function spkiFor(privateKey: string): Uint8Array {
  const point = secp256k1.getPublicKey(privateKey.slice(2), false);
  const jwk = {
    kty: 'EC',
    crv: 'secp256k1',
    x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
    y: Buffer.from(point.subarray(33)).toString('base64url'),
  };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

/** Signs a digest as KMS would (DER, no low-s normalisation unless asked), using noble. */
export function derSign(digest: Uint8Array, privateKey: string, mode: SignMode = 'random'): Uint8Array {
  const signature = secp256k1.sign(digest, privateKey.slice(2), {
    lowS: false,
    extraEntropy: mode === 'rfc6979' ? undefined : randomBytes(32),
  });
  const n = secp256k1.CURVE.n;
  const isHigh = signature.s > n / 2n;
  const flip = (mode === 'high-s' && !isHigh) || (mode === 'low-s' && isHigh);
  const chosen = flip ? new secp256k1.Signature(signature.r, n - signature.s) : signature;
  return chosen.toDERRawBytes();
}

/** What KMS GetPublicKey answers for an ECC_SECG_P256K1 signing key. */
export function publicKeyResponse(privateKey: string): GetPublicKeyCommandOutput {
  return {
    KeyId: KEY_ARN,
    KeySpec: 'ECC_SECG_P256K1',
    KeyUsage: 'SIGN_VERIFY',
    PublicKey: spkiFor(privateKey),
    SigningAlgorithms: ['ECDSA_SHA_256'],
    $metadata: {},
  };
}

/** Mocks every KMSClient so that GetPublicKey and Sign answer for the given private key. */
export function mockKms(privateKey: string, mode: SignMode = 'random'): AwsClientStub<KMSClient> {
  const kms = mockClient(KMSClient);
  kms.on(GetPublicKeyCommand).resolves(publicKeyResponse(privateKey));
  kms.on(SignCommand).callsFake((input: SignCommandInput) => ({
    KeyId: KEY_ARN,
    Signature: derSign(input.Message as Uint8Array, privateKey, mode),
    SigningAlgorithm: 'ECDSA_SHA_256',
  }));
  return kms;
}

/** Builds a DER ECDSA-Sig-Value from r and s by hand, for malformed-input tests. */
export function derFromParts(r: Uint8Array, s: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => [0x02, bytes.length, ...bytes];
  const body = [...int(r), ...int(s)];
  return Uint8Array.from([0x30, body.length, ...body]);
}
