// KMS answered inside the process, so that a measurement holds our code's time and none of the network's.
import {
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  type GetPublicKeyCommandOutput,
  type SignCommandOutput,
} from '@aws-sdk/client-kms';
import { hexlify } from 'ethers';

/** DER signatures made ahead of time, keyed by the hex digest they sign. */
export type PrecomputedSignatures = ReadonlyMap<string, Uint8Array>;

/** How many KMS calls of each kind a client has answered. */
export interface KmsCallCounts {
  GetPublicKey: number;
  Sign: number;
}

/** A KMSClient whose `send` answers from memory, with the calls it has answered. */
export interface InProcessKms {
  readonly client: KMSClient;
  readonly calls: KmsCallCounts;
}

/**
 * Builds a real KMSClient whose `send` is replaced by a Map lookup. Replacing `send` (rather than
 * stubbing through aws-sdk-client-mock, whose sinon matching costs tens of microseconds) keeps the
 * harness's own time out of the figures; every peer takes a KMSClient and calls `send`, so all accept it.
 */
export function createInProcessKms(publicKey: GetPublicKeyCommandOutput, signatures: PrecomputedSignatures): InProcessKms {
  const calls: KmsCallCounts = { GetPublicKey: 0, Sign: 0 };
  const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const send = async (command: unknown): Promise<GetPublicKeyCommandOutput | SignCommandOutput> => {
    if (command instanceof GetPublicKeyCommand) {
      calls.GetPublicKey++;
      return publicKey;
    }
    if (command instanceof SignCommand) {
      calls.Sign++;
      const message = command.input.Message;
      const digest = message ? hexlify(message) : '';
      const signature = signatures.get(digest);
      // A digest nobody precomputed means the contenders signed different transactions: stop, do not guess.
      if (!signature) throw new UnknownDigestError(digest);
      return { KeyId: publicKey.KeyId, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256', $metadata: {} };
    }
    throw new Error(`The in-process KMS answers GetPublicKey and Sign only, not ${String(command)}`);
  };
  client.send = send as KMSClient['send'];
  return { client, calls };
}

/** A contender asked KMS to sign a digest that was not precomputed: it signed a different transaction. */
export class UnknownDigestError extends Error {
  override readonly name = 'UnknownDigestError';
  constructor(readonly digest: string) {
    super(`No precomputed signature for digest ${digest}: the contenders must sign the same transactions.`);
  }
}
