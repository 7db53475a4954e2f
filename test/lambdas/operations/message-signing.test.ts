import { hashAuthorization as viemHashAuthorization } from 'viem/utils';
import { hashEIP7702Authorization } from '@metamask/eth-sig-util';
import { concat, encodeRlp, keccak256, Signature, toBeArray } from 'ethers';
import { parseMessageEvent } from '../../../lambdas/events/message-request';
import { messageDigest, toMessageSignResponse } from '../../../lambdas/operations/message-signing';
import { EIP191_HASHES, WEB3_SIGN_VECTOR } from '../../fixtures/eip191';
import { MAIL, MAIL_VECTOR } from '../../fixtures/eip712-mail';

const DELEGATE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const authorization = (nonce: unknown, chainId?: unknown) =>
  parseMessageEvent({ operation: 'signAuthorization', address: DELEGATE, nonce, ...(chainId !== undefined && { chainId }) }, 1n);
/** EIP-7702: keccak256(MAGIC 0x05 ‖ rlp([chain_id, address, nonce])), integers as minimal big-endian bytes (0 is empty). */
const eip7702Hash = (chainId: bigint, nonce: bigint) => keccak256(concat(['0x05', encodeRlp([toBeArray(chainId), DELEGATE, toBeArray(nonce)])]));

describe('messageDigest', () => {
  it.each(EIP191_HASHES)('hashes $message ($encoding) as an EIP-191 personal message', ({ message, encoding, hash }) => {
    expect(messageDigest(parseMessageEvent({ operation: 'signMessage', message, encoding }, 1n))).toBe(hash);
  });

  it("hashes typed data as EIP-712 does (the EIP's Mail example)", () => {
    expect(messageDigest(parseMessageEvent({ operation: 'signTypedData', ...MAIL }, 1n))).toBe(MAIL_VECTOR.digest);
  });

  it.each<[string, unknown, unknown, bigint, bigint]>([
    ['nonce 7 on the signer chain', 7, undefined, 1n, 7n],
    ['nonce 0 and chain id 0 (empty byte strings in canonical RLP)', 0, 0, 0n, 0n],
    ['nonce 2^64-2', '18446744073709551614', 1, 1n, 2n ** 64n - 2n],
  ])('hashes an EIP-7702 authorization: %s', (_label, nonce, chainId, expectedChain, expectedNonce) => {
    expect(messageDigest(authorization(nonce, chainId))).toBe(eip7702Hash(expectedChain, expectedNonce));
  });

  it('agrees with viem and eth-sig-util on an authorization hash (their nonces are JS numbers: 2^53-1 here)', () => {
    const digest = messageDigest(authorization(String(2 ** 53 - 1), 1));
    expect(viemHashAuthorization({ chainId: 1, address: DELEGATE, nonce: 2 ** 53 - 1 })).toBe(digest);
    expect(`0x${hashEIP7702Authorization([1, DELEGATE, 2 ** 53 - 1]).toString('hex')}`).toBe(digest);
  });
});

describe('toMessageSignResponse', () => {
  const signature = Signature.from(WEB3_SIGN_VECTOR.signature);

  it('returns the 65-byte signature, its parts, the digest and the address, and no authorization for a message', () => {
    const request = parseMessageEvent({ operation: 'signMessage', message: WEB3_SIGN_VECTOR.message }, 1n);
    const response = toMessageSignResponse(request, WEB3_SIGN_VECTOR.messageHash, signature, WEB3_SIGN_VECTOR.address);
    expect(response).toStrictEqual({
      signature: WEB3_SIGN_VECTOR.signature,
      r: WEB3_SIGN_VECTOR.r,
      s: WEB3_SIGN_VECTOR.s,
      v: 28,
      yParity: 1,
      digest: WEB3_SIGN_VECTOR.messageHash,
      address: WEB3_SIGN_VECTOR.address,
    });
  });

  it('adds no authorization to a typed data signature', () => {
    const response = toMessageSignResponse(parseMessageEvent({ operation: 'signTypedData', ...MAIL }, 1n), MAIL_VECTOR.digest, signature, WEB3_SIGN_VECTOR.address);
    expect(Object.keys(response)).toEqual(['signature', 'r', 's', 'v', 'yParity', 'digest', 'address']);
  });

  it("adds the signed EIP-7702 tuple for a type 4 transaction's authorizationList, with nonce and chain id as decimal strings", () => {
    const request = authorization('18446744073709551614', 0);
    const response = toMessageSignResponse(request, eip7702Hash(0n, 2n ** 64n - 2n), signature, WEB3_SIGN_VECTOR.address);
    expect(response.authorization).toStrictEqual({
      chainId: '0',
      address: DELEGATE,
      nonce: '18446744073709551614',
      yParity: 1,
      r: WEB3_SIGN_VECTOR.r,
      s: WEB3_SIGN_VECTOR.s,
    });
  });
});
