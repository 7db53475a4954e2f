// The KMS signer as it is commonly written: the baseline that the README's "2x faster" claim is measured against.
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import asn1 from 'asn1.js';
import { computeAddress, getBytes, hexlify, recoverAddress, Signature, toBeHex, Transaction, type TransactionLike } from 'ethers';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const EcdsaSig = asn1.define<{ r: asn1.BN; s: asn1.BN }>('EcdsaSig', function () {
  this.seq().obj(this.key('r').int(), this.key('s').int());
});
const Spki = asn1.define<{ algorithm: { id: number[]; curve: number[] }; publicKey: { unused: number; data: Buffer } }>('Spki', function () {
  this.seq().obj(this.key('algorithm').seq().obj(this.key('id').objid(), this.key('curve').objid()), this.key('publicKey').bitstr());
});

/**
 * Signs a transaction the common way: GetPublicKey on every call (no cache), asn1.js DER decoding, low-s,
 * then trial recovery with ethers `recoverAddress`, parity 0 first, then 1. It does fail closed, so that
 * it is slower only where it is naive, never because it skips a check.
 */
export async function naiveSignTransaction(client: KMSClient, keyId: string, request: TransactionLike<string>): Promise<string> {
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!PublicKey) throw new Error('GetPublicKey returned no public key');
  const address = computeAddress(hexlify(Spki.decode(Buffer.from(PublicKey), 'der').publicKey.data));
  const transaction = Transaction.from(request);
  const digest = transaction.unsignedHash;
  const { Signature: der } = await client.send(
    new SignCommand({ KeyId: keyId, Message: getBytes(digest), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
  );
  if (!der) throw new Error('Sign returned no signature');
  const decoded = EcdsaSig.decode(Buffer.from(der), 'der');
  const r = toBeHex(BigInt(`0x${decoded.r.toString(16)}`), 32);
  const rawS = BigInt(`0x${decoded.s.toString(16)}`);
  const s = toBeHex(rawS > N / 2n ? N - rawS : rawS, 32);
  for (const v of [27, 28]) {
    const signature = Signature.from({ r, s, v });
    if (recoverAddress(digest, signature) === address) {
      transaction.signature = signature;
      return transaction.serialized;
    }
  }
  throw new Error('Neither recovery parity yields the KMS address');
}
