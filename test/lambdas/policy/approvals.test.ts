import { Interface } from 'ethers';
import { parseMessageEvent } from '../../../lambdas/events/message-request';
import { transactionApproval, typedDataApprovals, UNDECODABLE_APPROVAL } from '../../../lambdas/policy/approvals';
import { TransactionView } from '../../../lambdas/policy/request';
import { eip1559Transfer } from '../../helpers/policy-requests';

const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const SPENDER = '0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af';
const abi = new Interface(['function approve(address spender, uint256 amount)', 'function setApprovalForAll(address operator, bool approved)', 'function transfer(address to, uint256 amount)']);
const view = (data: string) => new TransactionView({ ...eip1559Transfer(TOKEN), data });

describe('transactionApproval', () => {
  it('reads the token (the recipient), the spender and the amount of an approve', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('approve', [SPENDER, 5n])))).toEqual({ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 5n, via: 'approve' });
  });

  it('calls 2^256-1 and setApprovalForAll(true) unlimited, and setApprovalForAll(false) an approval of 0', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('approve', [SPENDER, 2n ** 256n - 1n])))).toMatchObject({ amount: 'unlimited' });
    expect(transactionApproval(view(abi.encodeFunctionData('setApprovalForAll', [SPENDER, true])))).toMatchObject({ amount: 'unlimited' });
    expect(transactionApproval(view(abi.encodeFunctionData('setApprovalForAll', [SPENDER, false])))).toMatchObject({ amount: 0n });
  });

  it('finds none in other calls or in plain transfers', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('transfer', [SPENDER, 5n])))).toBeUndefined();
    expect(transactionApproval(view('0x'))).toBeUndefined();
  });

  it('finds none in a contract creation, whose data is init code even where it starts like approve', () => {
    const creation = new TransactionView({ ...eip1559Transfer(TOKEN), to: undefined, data: abi.encodeFunctionData('approve', [SPENDER, 5n]) });
    expect(transactionApproval(creation)).toBeUndefined();
  });

  it('says an approval it cannot decode canonically is undecodable', () => {
    expect(transactionApproval(view(`${abi.encodeFunctionData('approve', [SPENDER, 5n])}00`))).toBe(UNDECODABLE_APPROVAL);
  });
});

describe('typedDataApprovals', () => {
  const PERMIT = [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }];
  const decode = (primaryType: string, types: Record<string, Array<{ name: string; type: string }>>, message: Record<string, unknown>) => {
    const domainType = [{ name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }];
    const request = parseMessageEvent({ operation: 'signTypedData', domain: { chainId: 1, verifyingContract: TOKEN }, types: { EIP712Domain: domainType, ...types }, primaryType, message }, 1n);
    if (request.operation !== 'signTypedData') throw new Error('not typed data');
    return typedDataApprovals(request.typedData);
  };

  it('reads an EIP-2612 Permit: the token is the domain\'s verifyingContract', () => {
    expect(decode('Permit', { Permit: PERMIT }, { owner: SPENDER, spender: SPENDER, value: '9', nonce: 0, deadline: 0 })).toEqual([{ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 9n, via: 'EIP-2612 Permit' }]);
  });

  it('does not read a look-alike Permit with another field', () => {
    expect(decode('Permit', { Permit: [...PERMIT, { name: 'memo', type: 'string' }] }, { owner: SPENDER, spender: SPENDER, value: '9', nonce: 0, deadline: 0, memo: '' })).toEqual([]);
  });

  it('reads a Permit2 witness transfer by its TokenPermissions field', () => {
    const types = {
      PermitWitnessTransferFrom: [{ name: 'permitted', type: 'TokenPermissions' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }, { name: 'witness', type: 'Order' }],
      TokenPermissions: [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }],
      Order: [{ name: 'id', type: 'uint256' }],
    };
    expect(decode('PermitWitnessTransferFrom', types, { permitted: { token: TOKEN, amount: '3' }, spender: SPENDER, nonce: 0, deadline: 0, witness: { id: 1 } })).toEqual([
      { token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 3n, via: 'Permit2 PermitWitnessTransferFrom' },
    ]);
  });

  it('finds none in other typed data', () => {
    expect(decode('Mail', { Mail: [{ name: 'contents', type: 'string' }] }, { contents: 'hi' })).toEqual([]);
  });
});
