import { Interface } from 'ethers';
import { parseMessageEvent } from '../../../lambdas/events/message-request';
import { transactionApproval, typedDataApprovals, UNDECODABLE_APPROVAL } from '../../../lambdas/policy/approvals';
import { TransactionView } from '../../../lambdas/policy/request';
import { eip1559Transfer } from '../../helpers/policy-requests';

const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const SPENDER = '0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af';
const abi = new Interface([
  'function approve(address spender, uint256 amount)',
  'function setApprovalForAll(address operator, bool approved)',
  'function transfer(address to, uint256 amount)',
  'function approve(address token, address spender, uint160 amount, uint48 expiration)',
]);
const view = (data: string) => new TransactionView({ ...eip1559Transfer(TOKEN), data });

describe('transactionApproval', () => {
  it('reads the token (the recipient), the spender and the amount of an approve', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('approve(address,uint256)', [SPENDER, 5n])))).toEqual({ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 5n, via: 'approve' });
  });

  it('calls 2^256-1 and setApprovalForAll(true) unlimited, and setApprovalForAll(false) an approval of 0', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('approve(address,uint256)', [SPENDER, 2n ** 256n - 1n])))).toMatchObject({ amount: 'unlimited' });
    expect(transactionApproval(view(abi.encodeFunctionData('setApprovalForAll', [SPENDER, true])))).toMatchObject({ amount: 'unlimited' });
    expect(transactionApproval(view(abi.encodeFunctionData('setApprovalForAll', [SPENDER, false])))).toMatchObject({ amount: 0n });
  });

  it('reads setApprovalForAll as an approval of the collection (the recipient) to the operator', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('setApprovalForAll', [SPENDER, true])))).toEqual({ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 'unlimited', via: 'setApprovalForAll' });
  });

  it('reads Permit2\'s approve: the token and the spender are its arguments, 2^160-1 is unlimited', () => {
    const permit2Approve = (amount: bigint) => view(abi.encodeFunctionData('approve(address,address,uint160,uint48)', [TOKEN, SPENDER, amount, 0]));
    expect(transactionApproval(permit2Approve(7n))).toEqual({ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 7n, via: 'Permit2 approve' });
    expect(transactionApproval(permit2Approve(2n ** 160n - 1n))).toMatchObject({ amount: 'unlimited' });
  });

  it('finds none in other calls or in plain transfers', () => {
    expect(transactionApproval(view(abi.encodeFunctionData('transfer', [SPENDER, 5n])))).toBeUndefined();
    expect(transactionApproval(view('0x'))).toBeUndefined();
  });

  it('finds none in a contract creation, whose data is init code even where it starts like approve', () => {
    const creation = new TransactionView({ ...eip1559Transfer(TOKEN), to: undefined, data: abi.encodeFunctionData('approve(address,uint256)', [SPENDER, 5n]) });
    expect(transactionApproval(creation)).toBeUndefined();
  });

  it('says an approval it cannot decode canonically is undecodable', () => {
    expect(transactionApproval(view(`${abi.encodeFunctionData('approve(address,uint256)', [SPENDER, 5n])}00`))).toBe(UNDECODABLE_APPROVAL);
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

  it('reads nothing from the domain of a Permit without a verifyingContract', () => {
    const request = parseMessageEvent(
      { operation: 'signTypedData', domain: { chainId: 1 }, types: { EIP712Domain: [{ name: 'chainId', type: 'uint256' }], Permit: PERMIT }, primaryType: 'Permit', message: { owner: SPENDER, spender: SPENDER, value: '9', nonce: 0, deadline: 0 } },
      1n,
    );
    if (request.operation !== 'signTypedData') throw new Error('not typed data');
    expect(typedDataApprovals(request.typedData)).toEqual([]);
  });

  it('reads a DAI-style Permit: allowed is unlimited, not allowed an approval of 0', () => {
    const DAI_PERMIT = [{ name: 'holder', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'expiry', type: 'uint256' }, { name: 'allowed', type: 'bool' }];
    const daiPermit = (allowed: boolean) => decode('Permit', { Permit: DAI_PERMIT }, { holder: SPENDER, spender: SPENDER, nonce: 0, expiry: 0, allowed });
    expect(daiPermit(true)).toEqual([{ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 'unlimited', via: 'DAI-style Permit' }]);
    expect(daiPermit(false)).toEqual([{ token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 0n, via: 'DAI-style Permit' }]);
  });

  describe('Permit2 allowances (PermitSingle, PermitBatch)', () => {
    const OTHER = '0x6B175474E89094C44Da98b954EedeAC495271d0F';
    const PERMIT_DETAILS = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }];
    const details = (token: string, amount: string) => ({ token, amount, expiration: 0, nonce: 0 });
    const permitSingle = (detailsField: { name: string; type: string }, permitDetails = PERMIT_DETAILS) => ({
      PermitSingle: [detailsField, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }],
      PermitDetails: permitDetails,
    });

    it('reads one approval per PermitDetails, for its token, to the message\'s spender', () => {
      expect(decode('PermitSingle', permitSingle({ name: 'details', type: 'PermitDetails' }), { details: details(OTHER, '5'), spender: SPENDER, sigDeadline: 0 })).toEqual([
        { token: OTHER.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 5n, via: 'Permit2 PermitSingle' },
      ]);
      const batch = { PermitBatch: [{ name: 'details', type: 'PermitDetails[]' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }], PermitDetails: PERMIT_DETAILS };
      expect(decode('PermitBatch', batch, { details: [details(OTHER, '5'), details(TOKEN, String(2n ** 160n - 1n))], spender: SPENDER, sigDeadline: 0 })).toEqual([
        { token: OTHER.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 5n, via: 'Permit2 PermitBatch' },
        { token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 'unlimited', via: 'Permit2 PermitBatch' },
      ]);
    });

    it('reads nothing from a look-alike: PermitDetails with another field, or under another name', () => {
      const extra = [...PERMIT_DETAILS, { name: 'memo', type: 'string' }];
      expect(decode('PermitSingle', permitSingle({ name: 'details', type: 'PermitDetails' }, extra), { details: { ...details(OTHER, '5'), memo: '' }, spender: SPENDER, sigDeadline: 0 })).toEqual([]);
      expect(decode('PermitSingle', permitSingle({ name: 'detail', type: 'PermitDetails' }), { detail: details(OTHER, '5'), spender: SPENDER, sigDeadline: 0 })).toEqual([]);
    });

    it('reads only the details field of type PermitDetails, not one of another type beside it', () => {
      const types = { PermitSingle: [{ name: 'details', type: 'Other' }, { name: 'spender', type: 'address' }, { name: 'extra', type: 'PermitDetails' }], Other: PERMIT_DETAILS, PermitDetails: PERMIT_DETAILS };
      expect(decode('PermitSingle', types, { details: details(OTHER, '5'), spender: SPENDER, extra: details(TOKEN, '6') })).toEqual([]);
    });
  });

  describe('Permit2 signature transfers (PermitTransferFrom, PermitBatchTransferFrom)', () => {
    const TOKEN_PERMISSIONS = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }];
    const transferTypes = (primary: string, permitted: { name: string; type: string }, tokenPermissions = TOKEN_PERMISSIONS) => ({
      [primary]: [permitted, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }],
      TokenPermissions: tokenPermissions,
    });

    it('reads one approval per TokenPermissions of a batch', () => {
      const message = { permitted: [{ token: TOKEN, amount: '3' }, { token: SPENDER, amount: '4' }], spender: SPENDER, nonce: 0, deadline: 0 };
      expect(decode('PermitBatchTransferFrom', transferTypes('PermitBatchTransferFrom', { name: 'permitted', type: 'TokenPermissions[]' }), message)).toEqual([
        { token: TOKEN.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 3n, via: 'Permit2 PermitBatchTransferFrom' },
        { token: SPENDER.toLowerCase(), spender: SPENDER.toLowerCase(), amount: 4n, via: 'Permit2 PermitBatchTransferFrom' },
      ]);
    });

    it('reads nothing from a look-alike: TokenPermissions with another field, under another name, or a field of another type', () => {
      const message = { permitted: { token: TOKEN, amount: '3' }, spender: SPENDER, nonce: 0, deadline: 0 };
      const withMemo = transferTypes('PermitTransferFrom', { name: 'permitted', type: 'TokenPermissions' }, [...TOKEN_PERMISSIONS, { name: 'memo', type: 'string' }]);
      expect(decode('PermitTransferFrom', withMemo, { ...message, permitted: { ...message.permitted, memo: '' } })).toEqual([]);
      const renamed = transferTypes('PermitTransferFrom', { name: 'allowed', type: 'TokenPermissions' });
      expect(decode('PermitTransferFrom', renamed, { allowed: message.permitted, spender: SPENDER, nonce: 0, deadline: 0 })).toEqual([]);
      const withOther = {
        PermitTransferFrom: [{ name: 'permitted', type: 'Other' }, { name: 'spender', type: 'address' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }, { name: 'extra', type: 'TokenPermissions' }],
        TokenPermissions: TOKEN_PERMISSIONS,
        Other: TOKEN_PERMISSIONS,
      };
      expect(decode('PermitTransferFrom', withOther, { ...message, extra: { token: TOKEN, amount: '4' } })).toEqual([]);
    });
  });

  it('finds none in other typed data', () => {
    expect(decode('Mail', { Mail: [{ name: 'contents', type: 'string' }] }, { contents: 'hi' })).toEqual([]);
  });
});
