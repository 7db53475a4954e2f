// The sign operation's JSON response: what it reports about a signed transaction, and the v it refuses to round.
import { keccak256, Signature, Transaction, Wallet } from 'ethers';
import { toSignResponse } from '../../../lambdas/operations/response';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const FROM = KNOWN_KEYS[0].address;
const r = `0x${'11'.repeat(32)}`;
const s = `0x${'22'.repeat(32)}`;

/** A legacy transaction on `chainId` carrying an (unchecked) signature with the given parity. */
function legacySigned(chainId: bigint, yParity: 0 | 1): Transaction {
  const transaction = Transaction.from({ type: 0, chainId, nonce: 0, gasLimit: 21000n, gasPrice: 1n, to: KNOWN_KEYS[1].address, value: 1n });
  transaction.signature = Signature.from({ r, s, yParity });
  return transaction;
}

const signed = (transaction: Transaction) => ({ transaction, from: FROM, keyArn: 'arn:aws:kms:us-east-1:111122223333:key/k', kmsLatencyMs: 1 });

describe('toSignResponse', () => {
  it('reports the serialised transaction, its hash, the sender and r, s, v and yParity', () => {
    const transaction = legacySigned(1n, 1);
    expect(toSignResponse(signed(transaction))).toEqual({
      signedTransaction: transaction.serialized,
      transactionHash: keccak256(transaction.serialized),
      from: FROM,
      signature: { r, s, v: 38, yParity: 1 },
    });
  });

  it('returns a v of exactly 2^53-1, the largest safe JSON integer, and refuses one past it rather than round it', () => {
    // v = 2·chainId + 35 + yParity: this chain id gives 2^53-1 with parity 0 and 2^53 with parity 1.
    const chainId = (BigInt(Number.MAX_SAFE_INTEGER) - 35n) / 2n;
    expect(toSignResponse(signed(legacySigned(chainId, 0))).signature.v).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toSignResponse(signed(legacySigned(chainId, 1)))).toThrow(
      new RangeError(`v ${2n ** 53n} is not a safe JSON integer; the chain id is above MAX_CHAIN_ID`),
    );
  });

  it('reports yParity as the v of a type 2 transaction, for a signature that recovers to the sender', () => {
    const wallet = new Wallet(KNOWN_KEYS[0].privateKey);
    const transaction = Transaction.from({ type: 2, chainId: 11155111n, nonce: 3, gasLimit: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, to: KNOWN_KEYS[1].address, value: 5n });
    transaction.signature = wallet.signingKey.sign(transaction.unsignedHash);
    const response = toSignResponse(signed(transaction));
    expect(response).toStrictEqual({
      signedTransaction: transaction.serialized,
      transactionHash: transaction.hash,
      from: FROM,
      signature: { r: transaction.signature!.r, s: transaction.signature!.s, v: transaction.signature!.yParity, yParity: transaction.signature!.yParity },
    });
    expect(Transaction.from(response.signedTransaction).from).toBe(FROM);
  });

  it('reports v = 27 + yParity for a legacy transaction without a chain id (pre-EIP-155)', () => {
    expect(toSignResponse(signed(legacySigned(0n, 0))).signature).toMatchObject({ v: 27, yParity: 0 });
    expect(toSignResponse(signed(legacySigned(0n, 1))).signature).toMatchObject({ v: 28, yParity: 1 });
  });

  it('refuses a transaction that carries no signature', () => {
    const unsigned = Transaction.from({ type: 2, chainId: 1n, nonce: 0, gasLimit: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, to: FROM });
    expect(() => toSignResponse(signed(unsigned))).toThrow(new TypeError('toSignResponse needs a signed transaction'));
  });

  it('refuses a signed transaction whose type was never set (the v to report depends on it)', () => {
    const untyped = new Transaction();
    untyped.chainId = 1n;
    untyped.gasPrice = 1n;
    untyped.signature = Signature.from({ r, s, yParity: 0 });
    expect(untyped.type).toBeNull();
    expect(() => toSignResponse(signed(untyped))).toThrow(new TypeError('toSignResponse needs a signed transaction'));
  });
});
