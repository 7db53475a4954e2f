import type { TypedDataField } from 'ethers';
import type { TypedDataPayload } from '../../../lambdas/policy/message';
import { safeTransactionRequest } from '../../../lambdas/policy/safe-transaction';

const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const ZERO = '0x0000000000000000000000000000000000000000';
const SAFE_TX: TypedDataField[] = [
  { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'data', type: 'bytes' }, { name: 'operation', type: 'uint8' },
  { name: 'safeTxGas', type: 'uint256' }, { name: 'baseGas', type: 'uint256' }, { name: 'gasPrice', type: 'uint256' },
  { name: 'gasToken', type: 'address' }, { name: 'refundReceiver', type: 'address' }, { name: 'nonce', type: 'uint256' },
];
const SAFE_TX_MESSAGE = { to: TO, value: 5n, data: '0xdeadbeef', operation: 0n, safeTxGas: 0n, baseGas: 0n, gasPrice: 0n, gasToken: ZERO, refundReceiver: ZERO, nonce: 7n };

/** A SafeTx as parseTypedData leaves it (bigints, EIP-55 addresses), with the parts a case changes. */
function payload(parts: Partial<TypedDataPayload> = {}): TypedDataPayload {
  return {
    domain: { chainId: 10n, verifyingContract: SAFE },
    domainFields: [{ name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
    types: { SafeTx: SAFE_TX },
    primaryType: 'SafeTx',
    message: SAFE_TX_MESSAGE,
    ...parts,
  };
}

describe('safeTransactionRequest', () => {
  it('reads a Safe 1.3.0/1.4.1 SafeTx as the call it makes the Safe send, on the domain\'s chain', () => {
    expect(safeTransactionRequest(payload())).toEqual({ chainId: 10n, type: 2, to: TO, value: 5n, data: '0xdeadbeef', preEip155: false });
  });

  it('refuses typed data whose primaryType is not SafeTx, even when a SafeTx struct with the Safe fields is part of it', () => {
    const wrapper = payload({ primaryType: 'Wrapper', types: { Wrapper: [{ name: 'tx', type: 'SafeTx' }], SafeTx: SAFE_TX }, message: { tx: SAFE_TX_MESSAGE } });
    expect(safeTransactionRequest(wrapper)).toMatch(/^the typed data is not a Safe 1.3.0\/1.4.1 SafeTx\(address to,/);
  });

  it('refuses typed data that declares no SafeTx struct', () => {
    const mail = payload({ primaryType: 'Mail', types: { Mail: [{ name: 'contents', type: 'string' }] }, message: { contents: 'hi' } });
    expect(safeTransactionRequest(mail)).toMatch(/^the typed data is not a Safe 1.3.0\/1.4.1 SafeTx/);
  });
});
