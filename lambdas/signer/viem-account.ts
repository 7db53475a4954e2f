// The `kms-eth-signer/viem` entry: a viem LocalAccount whose key stays in AWS KMS. It signs through the same
// core as the Lambdas and the ethers signer (key cache, KMS Sign, DER, low-s, recovery check) and loads no ethers.
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  getAddress,
  getTransactionType,
  hashMessage,
  hashTypedData,
  keccak256,
  serializeSignature,
  serializeTransaction,
  type Address,
  type AuthorizationRequest,
  type Hex,
  type LocalAccount,
  type NonceManager,
  type SerializeTransactionFn,
  type Signature,
  type SignedAuthorization,
  type TransactionSerializable,
  type TypedData,
  type TypedDataDefinition,
} from 'viem';
import { toAccount } from 'viem/accounts';
import { hashAuthorization } from 'viem/utils';
import { signDigest } from './digest-signing';
import { sharedKmsClient } from './kms-client';
import { cachedKmsKey } from './key-cache';
import type { KmsKey } from './kms-key';
import type { RecoverableSignature } from './signature';
import { ChainIdMismatchError, MissingChainIdError } from './transaction-errors';

export * from './package-errors';

/** How to reach the key, and what the account must refuse. */
export interface KmsAccountOptions {
  /** Key id, key ARN, alias name (alias/NAME) or alias ARN of an ECC_SECG_P256K1 SIGN_VERIFY key. */
  readonly keyId: string;
  /** Defaults to one process-wide client from the SDK's default configuration chain, with request timeouts. */
  readonly client?: KMSClient | undefined;
  /** When set, the account refuses to exist unless the key's address is this one (guards against a retargeted alias). */
  readonly expectedAddress?: Address | undefined;
  /** When set, the only chain the account signs transactions and EIP-7702 authorizations for. */
  readonly chainId?: number | undefined;
  /**
   * Adds `sign({ hash })`, which signs any 32 bytes it is given: a transaction, a message or a permit hidden
   * behind one hash. Off unless set to true; only for code that must hand viem a raw-hash signer (some smart
   * account SDKs), with hashes it computed itself.
   */
  readonly allowRawHashSigning?: boolean | undefined;
  /** A viem nonce manager, as for `privateKeyToAccount`. */
  readonly nonceManager?: NonceManager | undefined;
  /**
   * When set, every KMS call (the key lookup and each Sign) is abandoned when it aborts, with KmsUnavailableError:
   * pass `AbortSignal.timeout(ms)` or your request's signal to bound how long a signature may wait for KMS.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A viem LocalAccount over a KMS key, with the key it signs with. */
export type KmsAccount = LocalAccount<'kms'> & {
  /** The key id the account was created with. */
  readonly keyId: string;
  /** The key ARN that GetPublicKey resolved `keyId` (perhaps an alias) to: the key that signs. */
  readonly keyArn: string;
};

/**
 * Creates a viem account whose private key stays in AWS KMS: one GetPublicKey now (cached per client and
 * key for the life of the process), then one KMS Sign call per signature, each checked to recover to the
 * account's address before it is returned. Needs `kms:GetPublicKey` and `kms:Sign` on the key.
 */
export async function kmsAccount(options: KmsAccountOptions): Promise<KmsAccount> {
  const { keyId, chainId, allowRawHashSigning = false, nonceManager, signal } = options;
  const client = options.client ?? sharedKmsClient();
  const expectedAddress = options.expectedAddress && getAddress(options.expectedAddress);
  const key = await cachedKmsKey({ client, keyId, expectedAddress, signal });
  const address = getAddress(key.address);

  // The key is fetched again through the cache (no KMS call while cached) so that an account outliving a
  // failed lookup behaves as the ethers signer does.
  const currentKey = (): Promise<KmsKey> => cachedKmsKey({ client, keyId, expectedAddress: address, signal });
  const signHash = async (hash: Hex): Promise<RecoverableSignature> =>
    (await signDigest({ client, keyId, key: await currentKey(), digest: hash, signal })).signature;

  const account = toAccount({
    address,
    nonceManager,
    sign: allowRawHashSigning ? async ({ hash }: { hash: Hex }) => serializeSignature(await signHash(hash)) : undefined,

    async signMessage({ message }) {
      return serializeSignature(await signHash(hashMessage(message)));
    },

    async signTypedData(typedData) {
      return serializeSignature(await signHash(hashTypedData(typedData as TypedDataDefinition<TypedData, string>)));
    },

    async signAuthorization(authorization: AuthorizationRequest): Promise<SignedAuthorization> {
      const contract = authorization.contractAddress ?? authorization.address;
      if (chainId !== undefined && authorization.chainId !== chainId) {
        throw new ChainIdMismatchError(BigInt(authorization.chainId), BigInt(chainId), 'authorization');
      }
      const signature = await signHash(hashAuthorization({ address: contract, chainId: authorization.chainId, nonce: authorization.nonce }));
      return { address: contract, chainId: authorization.chainId, nonce: authorization.nonce, ...withV(signature) };
    },

    async signTransaction(transaction, { serializer = serializeTransaction } = {}) {
      checkChainId(transaction, chainId);
      // An EIP-4844 signature covers the payload body without the blob sidecars (as viem's own accounts sign it).
      const unsigned = transaction.type === 'eip4844' ? { ...transaction, sidecars: false as const } : transaction;
      const signature = await signHash(keccak256(await (serializer as SerializeTransactionFn<TransactionSerializable>)(unsigned)));
      return (serializer as SerializeTransactionFn<TransactionSerializable>)(transaction, withV(signature));
    },
  });
  return { ...account, publicKey: key.publicKey as Hex, source: 'kms', keyId, keyArn: key.keyArn };
}

/** viem's signature shape: the legacy serializer derives EIP-155 v from a 27/28 `v`, typed ones use yParity. */
function withV({ r, s, yParity }: RecoverableSignature): Signature & { yParity: 0 | 1; v: bigint } {
  return { r, s, yParity, v: 27n + BigInt(yParity) };
}

const TYPE_NUMBERS: ReadonlyMap<string, number> = new Map([['legacy', 0], ['eip2930', 1], ['eip1559', 2], ['eip4844', 3], ['eip7702', 4]]);

/** Refuses a transaction without a chain id (replayable everywhere) or for a chain other than the configured one. */
function checkChainId(transaction: TransactionSerializable, configured: number | undefined): void {
  const requested = transaction.chainId;
  if (requested === undefined || requested === 0) {
    throw new MissingChainIdError(TYPE_NUMBERS.get(getTransactionType(transaction)) ?? 0, false);
  }
  if (configured !== undefined && requested !== configured) throw new ChainIdMismatchError(BigInt(requested), BigInt(configured));
}
