import { hashMessage, getBytes, Signature, Wallet } from 'ethers';
import { hashTypedData } from 'viem';
import { SignTypedDataVersion, TypedDataUtils } from '@metamask/eth-sig-util';
import { parseTypedData, typedDataDigest } from '../../lambdas/events/typed-data';
import {
  execTransactionData, ownerSignatureFromResponse, packSignatures, SAFE_TX_TYPES, safeTx, safeTxFromRequest, safeTxHash, safeTxSignRequest,
} from '../../safe/safe-tx';
import { KNOWN_KEYS } from '../fixtures/known-keys';

const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TX = safeTx({ to: TO, value: 10n ** 18n, data: '0xdeadbeef', nonce: 5n });
const typedDataOf = (event: Record<string, unknown>) => ({ domain: event.domain, types: SAFE_TX_TYPES, primaryType: 'SafeTx', message: event.message }) as never;

describe('safeTxHash and safeTxSignRequest', () => {
  it('agree with viem, eth-sig-util (V4) and the Lambda\'s typed-data parser on the SafeTx hash', () => {
    const event = safeTxSignRequest(SAFE, 1n, TX);
    const hash = safeTxHash(SAFE, 1n, TX);
    expect(hashTypedData(typedDataOf(event))).toBe(hash);
    expect(`0x${Buffer.from(TypedDataUtils.eip712Hash(typedDataOf(event), SignTypedDataVersion.V4)).toString('hex')}`).toBe(hash);
    const payload = parseTypedData(event, 1n, (field, problem) => {
      throw new Error(`${field} ${problem}`);
    });
    expect(typedDataDigest(payload!)).toBe(hash);
  });

  it('changes with the Safe, the chain and every SafeTx field', () => {
    const hash = safeTxHash(SAFE, 1n, TX);
    expect(safeTxHash(TO, 1n, TX)).not.toBe(hash);
    expect(safeTxHash(SAFE, 5n, TX)).not.toBe(hash);
    expect(safeTxHash(SAFE, 1n, { ...TX, nonce: 6n })).not.toBe(hash);
    expect(safeTxHash(SAFE, 1n, { ...TX, operation: 1 })).not.toBe(hash);
  });

  it('reads back the SafeTx a request carries', () => {
    expect(safeTxFromRequest(JSON.parse(JSON.stringify(safeTxSignRequest(SAFE, 1n, TX))))).toEqual({ safe: SAFE, chainId: 1n, tx: TX });
  });
});

describe('packSignatures', () => {
  const owners = KNOWN_KEYS.slice(0, 3).map((key) => new Wallet(key.privateKey));
  const sign = (wallet: Wallet) => wallet.signingKey.sign(safeTxHash(SAFE, 1n, TX)).serialized;

  it('sorts by owner address, ascending, and packs 65 bytes each with v 27/28', () => {
    const signatures = owners.map((wallet) => ({ owner: wallet.address, signature: sign(wallet) }));
    const packed = packSignatures([...signatures].reverse());
    const sorted = [...signatures].sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : 1));
    expect(packed).toBe(`0x${sorted.map((s) => s.signature.slice(2)).join('')}`);
    expect(getBytes(packed)).toHaveLength(195);
  });

  it('adds 4 to v for an eth_sign signature (Safe reads v 31/32 as eth_sign of the hash)', () => {
    const wallet = owners[0]!;
    const ethSign = wallet.signingKey.sign(hashMessage(getBytes(safeTxHash(SAFE, 1n, TX)))).serialized;
    const packed = packSignatures([{ owner: wallet.address, signature: ethSign, kind: 'ethSign' }]);
    expect(Number.parseInt(packed.slice(-2), 16)).toBe(Signature.from(ethSign).v + 4);
  });

  it('refuses an owner that signed twice, and a signature that is not 65 bytes', () => {
    const entry = { owner: owners[0]!.address, signature: sign(owners[0]!) };
    expect(() => packSignatures([entry, { ...entry, owner: entry.owner.toLowerCase() }])).toThrow(/signed twice/);
    expect(() => packSignatures([{ ...entry, signature: entry.signature.slice(0, -2) }])).toThrow(/64 bytes; Safe takes 65/);
  });
});

describe('ownerSignatureFromResponse', () => {
  const wallet = new Wallet(KNOWN_KEYS[0].privateKey);
  const hash = safeTxHash(SAFE, 1n, TX);

  it('takes an EIP-712 signature of this SafeTx, and an eth_sign one of its hash', () => {
    const typed = wallet.signingKey.sign(hash).serialized;
    expect(ownerSignatureFromResponse(hash, { signature: typed, address: wallet.address })).toEqual({ owner: wallet.address, signature: typed, kind: 'typedData' });
    const ethSign = wallet.signingKey.sign(hashMessage(getBytes(hash))).serialized;
    expect(ownerSignatureFromResponse(hash, { signature: ethSign, address: wallet.address })).toMatchObject({ kind: 'ethSign' });
  });

  it('refuses a signature of another SafeTx, or one that is not by the address it claims', () => {
    const other = wallet.signingKey.sign(safeTxHash(SAFE, 1n, { ...TX, nonce: 6n })).serialized;
    expect(() => ownerSignatureFromResponse(hash, { signature: other, address: wallet.address })).toThrow(/does not sign SafeTx/);
    expect(() => ownerSignatureFromResponse(hash, { signature: wallet.signingKey.sign(hash).serialized, address: TO })).toThrow(/does not sign SafeTx/);
    expect(() => ownerSignatureFromResponse(hash, { signature: 7 })).toThrow(/needs signature and address/);
  });
});

describe('execTransactionData', () => {
  it('encodes Safe.execTransaction with the SafeTx fields and the packed signatures', () => {
    const data = execTransactionData(TX, '0x');
    expect(data.slice(0, 10)).toBe('0x6a761202'); // execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)
  });
});
