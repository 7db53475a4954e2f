// A mocked signer Lambda (aws-sdk-client-mock on LambdaClient's Invoke) backed by a real secp256k1 key: it
// answers status, sign and the message operations as the signer Lambda does, so the client's checks run on real
// signatures; `fail` queues function errors, `respond` replaces the answer of the next calls.
import { InvokeCommand, LambdaClient, type InvokeCommandInput, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { getBytes, hashAuthorization, hashMessage, keccak256, toUtf8Bytes, Transaction, TypedDataEncoder, Wallet, type TypedDataField } from 'ethers';

export const MOCK_CHAIN_ID = 31337;

/** A queued answer: a function error ({ errorType, errorMessage }), or a payload of our choosing, or never answering. */
export type QueuedAnswer = { readonly errorType: string; readonly errorMessage: string } | { readonly payload: unknown } | 'hang';

/** The mock, its key, and the events it received. */
export interface LambdaMock {
  readonly wallet: Wallet;
  readonly client: LambdaClient;
  /** Every event received, parsed, in order. */
  readonly events: Record<string, unknown>[];
  /** Answers the next calls with these, one each, before answering normally again. */
  queue(...answers: QueuedAnswer[]): void;
  restore(): void;
}

/** Mocks LambdaClient's Invoke with a signer Lambda that signs with `privateKey`. */
export function mockSignerLambda(privateKey: string): LambdaMock {
  const wallet = new Wallet(privateKey);
  const stub = mockClient(LambdaClient);
  const events: Record<string, unknown>[] = [];
  const queued: QueuedAnswer[] = [];
  stub.on(InvokeCommand).callsFake(async (input: InvokeCommandInput): Promise<Partial<InvokeCommandOutput>> => {
    const event = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array)) as Record<string, unknown>;
    events.push(event);
    const next = queued.shift();
    if (next === 'hang') return new Promise(() => undefined);
    if (next && 'errorType' in next) return answer(next, 'Unhandled');
    if (next) return answer(next.payload);
    return answer(respond(wallet, event));
  });
  return { wallet, client: new LambdaClient({ region: 'us-east-1' }), events, queue: (...answers) => queued.push(...answers), restore: () => stub.restore() };
}

function answer(payload: unknown, functionError?: string): Partial<InvokeCommandOutput> {
  return { StatusCode: 200, ...(functionError && { FunctionError: functionError }), Payload: new TextEncoder().encode(JSON.stringify(payload)) as InvokeCommandOutput['Payload'] };
}

function respond(wallet: Wallet, event: Record<string, unknown>): unknown {
  switch (event.operation) {
    case 'status':
      return { address: wallet.address, keyId: 'arn:aws:kms:us-east-1:111122223333:key/mock', chainId: MOCK_CHAIN_ID };
    case 'sign': {
      const fields = event.transaction as Record<string, string | number | undefined>;
      const num = (name: string) => (fields[name] === undefined ? undefined : BigInt(fields[name] as string | number));
      const tx = Transaction.from({
        type: (fields.type as number | undefined) ?? (fields.gasPrice !== undefined ? 0 : 2),
        to: fields.to as string | undefined,
        value: num('value') ?? 0n,
        data: (fields.data as string | undefined) ?? '0x',
        nonce: Number(fields.nonce),
        gasLimit: num('gasLimit') ?? 21000n,
        chainId: num('chainId') ?? BigInt(MOCK_CHAIN_ID),
        ...(fields.gasPrice !== undefined ? { gasPrice: num('gasPrice') } : { maxFeePerGas: num('maxFeePerGas'), maxPriorityFeePerGas: num('maxPriorityFeePerGas') }),
      });
      tx.signature = wallet.signingKey.sign(tx.unsignedHash);
      return { signedTransaction: tx.serialized, transactionHash: keccak256(tx.serialized), from: wallet.address, signature: { r: tx.signature.r, s: tx.signature.s, v: tx.signature.yParity, yParity: tx.signature.yParity } };
    }
    case 'signMessage': {
      const message = event.message as string;
      return messageAnswer(wallet, hashMessage(event.encoding === 'hex' ? getBytes(message) : toUtf8Bytes(message)));
    }
    case 'signTypedData': {
      const types = { ...(event.types as Record<string, TypedDataField[]>) };
      delete types.EIP712Domain;
      return messageAnswer(wallet, TypedDataEncoder.hash(event.domain as Record<string, string>, types, event.message as Record<string, unknown>));
    }
    case 'signAuthorization': {
      const authorization = { address: event.address as string, nonce: BigInt(event.nonce as string), chainId: BigInt(event.chainId as string) };
      const digest = hashAuthorization(authorization);
      const signature = wallet.signingKey.sign(digest);
      return {
        ...messageAnswer(wallet, digest),
        authorization: { chainId: authorization.chainId.toString(), address: authorization.address, nonce: authorization.nonce.toString(), yParity: signature.yParity, r: signature.r, s: signature.s },
      };
    }
    default:
      throw new Error(`the mock does not answer ${String(event.operation)}`);
  }
}

function messageAnswer(wallet: Wallet, digest: string) {
  const signature = wallet.signingKey.sign(digest);
  return { signature: signature.serialized, r: signature.r, s: signature.s, v: signature.v, yParity: signature.yParity, digest, address: wallet.address };
}
