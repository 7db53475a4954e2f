// The signer Lambda's `status` answer: the KMS key's address, its ARN and the chain the function signs for.
import { getAddress } from 'ethers';
import { UnverifiedResponseError } from './errors';
import type { CallOptions, LambdaInvoker } from './invoker';

/** What `{"operation":"status"}` returns. */
export interface SignerStatus {
  readonly address: string;
  /** The KMS key's ARN. */
  readonly keyId: string;
  readonly chainId: number;
}

/** Asks the Lambda for its status and checks the answer's shape. */
export async function fetchStatus(invoker: LambdaInvoker, options?: CallOptions): Promise<SignerStatus> {
  const response = (await invoker.call({ operation: 'status' }, options)) as Partial<Record<keyof SignerStatus, unknown>> | null;
  const { address, keyId, chainId } = response ?? {};
  if (typeof address !== 'string' || typeof keyId !== 'string' || typeof chainId !== 'number') {
    throw new UnverifiedResponseError(`${invoker.functionName} answered status without an address, keyId and chainId; is it a kms-eth-signer Lambda?`);
  }
  return { address: getAddress(address), keyId, chainId };
}

/** Caches a status per signer: the address is asked once, and asked again after a failure. */
export class StatusCache {
  private pending: Promise<SignerStatus> | undefined;
  constructor(private readonly invoker: LambdaInvoker) {}

  /** The cached status, fetched on first use. */
  get(options?: CallOptions): Promise<SignerStatus> {
    this.pending ??= fetchStatus(this.invoker, options).catch((error: unknown) => {
      this.pending = undefined;
      throw error;
    });
    return this.pending;
  }
}
