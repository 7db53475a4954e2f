import { toUtf8Bytes } from 'ethers';
import type { MessageRequest } from '../../../lambdas/policy/message';
import { compileMessagePolicy, evaluateMessagePolicy, type MessagePolicy, type MessagesDocument, type TypedDataRule } from '../../../lambdas/policy/message-policy';
import { loadPolicy, parseAmount } from '../../../lambdas/policy';
import { parseTypedData } from '../../../lambdas/events/typed-data';
import { MAIL } from '../../fixtures/eip712-mail';

const NOW_MS = 1_700_000_000_000;
const NOW = 1_700_000_000n;
const CHAIN = 1n;
const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
const SPENDER = '0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD';
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OWNER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
/** OTHER with one letter's case flipped: a broken EIP-55 checksum. */
const BAD = '0x70997970c51812dc3A010C7d01b50e0d17dc79C8';

const message = (text: string): MessageRequest => ({ operation: 'signMessage', message: { bytes: toUtf8Bytes(text), text } });
const DOMAIN_FIELD_TYPES: Record<string, string> = { name: 'string', version: 'string', chainId: 'uint256', verifyingContract: 'address', salt: 'bytes32' };
/** Validated typed data; types.EIP712Domain (required) is declared from the domain's fields when the case leaves it out. */
function typed(input: Record<string, unknown>, chainId = CHAIN): MessageRequest {
  const types = input.types as Record<string, unknown>;
  const domain = input.domain as Record<string, unknown>;
  const EIP712Domain = Object.keys(DOMAIN_FIELD_TYPES).filter((name) => Object.hasOwn(domain, name)).map((name) => ({ name, type: DOMAIN_FIELD_TYPES[name] }));
  const typedData = parseTypedData({ ...input, types: { EIP712Domain, ...types } }, chainId, (field, problem) => {
    throw new Error(`${field} ${problem}`);
  });
  if (!typedData) throw new Error('invalid typed data');
  return { operation: 'signTypedData', typedData };
}

const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' },
  ],
};
const permit = (fields: Record<string, unknown> = {}, domain: Record<string, unknown> = {}, chainId = CHAIN) => typed({
  domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: TOKEN, ...domain },
  types: permitTypes,
  primaryType: 'Permit',
  message: { owner: OWNER, spender: SPENDER, value: '1000000', nonce: 0, deadline: (NOW + 600n).toString(), ...fields },
}, chainId);
const PERMIT_SINGLE = [{ name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint256' }];
const PERMIT_DETAILS = [{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }];
const permitSingleWith = (detailsType: object[], singleType: object[], details: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) => typed({
  domain: { name: 'Permit2', chainId: 1, verifyingContract: PERMIT2 },
  types: { PermitSingle: singleType, PermitDetails: detailsType },
  primaryType: 'PermitSingle',
  message: { details: { token: TOKEN, amount: '5000', expiration: (NOW + 3600n).toString(), nonce: 0, ...details }, spender: SPENDER, sigDeadline: (NOW + 600n).toString(), ...fields },
});
const permitSingle = (details: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) => permitSingleWith(PERMIT_DETAILS, PERMIT_SINGLE, details, fields);
const authorization = (address: string, chainId = CHAIN): MessageRequest => ({ operation: 'signAuthorization', authorization: { address, nonce: 0n, chainId } });

const PERMIT_RULE: TypedDataRule = {
  id: 'usdc-permit',
  primaryType: 'Permit',
  domain: { name: 'USD Coin', version: '2', chainId: 1n, verifyingContract: [TOKEN] },
  permit: { maxValue: 1_000_000n, spenders: [SPENDER], maxDeadlineSeconds: 3600 },
};
const PERMIT2_RULE: TypedDataRule = {
  id: 'permit2',
  primaryType: 'PermitSingle',
  domain: { name: 'Permit2', verifyingContract: [PERMIT2] },
  permit2: { maxAmount: 5000n, spenders: [SPENDER], tokens: [TOKEN], maxDeadlineSeconds: 7200 },
};
const POLICY: MessagePolicy = {
  signMessage: { allow: true, prefixes: ['example.com wants you to sign in'], exact: ['gm'] },
  signTypedData: [PERMIT_RULE, PERMIT2_RULE, { id: 'mail', primaryType: 'Mail', domain: { name: 'Ether Mail' } }],
  signAuthorization: { delegates: [OTHER] },
};

describe('evaluateMessagePolicy', () => {
  const cases: Array<[string, MessagePolicy | undefined, MessageRequest, string | RegExp]> = [
    // Default: everything denied.
    ['no policy: signMessage', undefined, message('gm'), /does not allow signMessage/],
    ['no policy: signTypedData', undefined, typed(MAIL), /no signTypedData rules/],
    ['no policy: signAuthorization', undefined, authorization(OTHER), /does not allow signAuthorization/],
    ['an empty policy: signMessage', {}, message('gm'), /does not allow signMessage/],
    // Messages.
    ['signMessage switched off', { signMessage: { allow: false, exact: ['gm'] } }, message('gm'), /does not allow signMessage/],
    ['any message when allowed without lists', { signMessage: { allow: true } }, message('anything'), 'signMessage'],
    ['an exact message', POLICY, message('gm'), 'signMessage.exact'],
    ['a message that only starts like an exact one', POLICY, message('gm!'), /neither one of signMessage.exact/],
    ['a message with an allowed prefix', POLICY, message('example.com wants you to sign in with your Ethereum account'), 'signMessage.prefixes'],
    ['a message with another prefix', POLICY, message('evil.com wants you to sign in'), /neither/],
    ['a hex message whose bytes spell an allowed message', POLICY, { operation: 'signMessage', message: { bytes: toUtf8Bytes('gm') } }, 'signMessage.exact'],
    ['a message when only exact messages are listed', { signMessage: { allow: true, exact: ['gm'] } }, message('gn'), /neither/],
    ['a message shorter than an exact one', { signMessage: { allow: true, exact: ['gm'] } }, message('g'), /neither/],
    ['a message equal to a listed prefix', { signMessage: { allow: true, prefixes: ['gm'] } }, message('gm'), 'signMessage.prefixes'],
    ['a message that shares only its first byte with a prefix', { signMessage: { allow: true, prefixes: ['gm'] } }, message('gn'), /neither/],
    ['a message equal to any one of several exact ones', { signMessage: { allow: true, exact: ['gm', 'gn'] } }, message('gn'), 'signMessage.exact'],
    ['a message starting with any one of several prefixes', { signMessage: { allow: true, prefixes: ['gm', 'gn'] } }, message('gn frens'), 'signMessage.prefixes'],
    // Typed data: domain and primaryType.
    ['typed data matching a rule by primaryType and domain name', POLICY, typed(MAIL), 'mail'],
    ['typed data from another domain', POLICY, typed({ ...MAIL, domain: { ...MAIL.domain, name: 'Evil Mail' } }), /mail: domain.name is "Evil Mail", not "Ether Mail"/],
    ['a permit within every cap', POLICY, permit(), 'usdc-permit'],
    ['a permit on another token contract', POLICY, permit({}, { verifyingContract: OTHER }), /usdc-permit: domain.verifyingContract .* not in the rule's list/],
    ['a permit of another version', POLICY, permit({}, { version: '1' }), /domain.version is "1", not "2"/],
    ['typed data of another primaryType', { signTypedData: [{ id: 'orders', primaryType: 'Order' }] }, typed(MAIL), /\(orders: primaryType is Mail, not Order\)$/],
    ['typed data for any domain when the rule names none', { signTypedData: [{ id: 'any-mail', primaryType: 'Mail' }] }, typed(MAIL), 'any-mail'],
    ['a permit for another chain', POLICY, permit({}, { chainId: 5 }, 5n), /domain.chainId is 5, not 1/],
    ['a permit without a domain name when the rule names one', POLICY, typed({ domain: { version: '2', chainId: 1, verifyingContract: TOKEN }, types: permitTypes, primaryType: 'Permit', message: { owner: OWNER, spender: SPENDER, value: 1, nonce: 0, deadline: 1 } }), /usdc-permit: domain.name is absent, not "USD Coin"/],
    ['a permit without a verifying contract when the rule lists some', { signTypedData: [{ id: 'p', primaryType: 'Permit', domain: { verifyingContract: [TOKEN] } }] }, typed({ domain: { name: 'USD Coin', chainId: 1 }, types: permitTypes, primaryType: 'Permit', message: { owner: OWNER, spender: SPENDER, value: 1, nonce: 0, deadline: 1 } }), /p: domain.verifyingContract absent is not in the rule's list/],
    ['a permit without a chain id when the rule names one', POLICY, typed({ domain: { name: 'USD Coin', version: '2', verifyingContract: TOKEN }, types: permitTypes, primaryType: 'Permit', message: { owner: OWNER, spender: SPENDER, value: 1, nonce: 0, deadline: 1 } }), /domain.chainId is absent, not 1/],
    // Typed data: decoded-field caps.
    ['a permit value at the cap', POLICY, permit({ value: '1000000' }), 'usdc-permit'],
    ['a permit value above the cap', POLICY, permit({ value: '1000001' }), /Permit.value 1000001 exceeds the cap 1000000/],
    ['an unlimited permit (2^256-1)', POLICY, permit({ value: (2n ** 256n - 1n).toString() }), /exceeds the cap/],
    ['a permit to a spender not in the list', POLICY, permit({ spender: OTHER }), /Permit.spender 0x7099.* is not in the rule's list/],
    ['a permit deadline at now + N', POLICY, permit({ deadline: (NOW + 3600n).toString() }), 'usdc-permit'],
    ['a permit deadline beyond now + N', POLICY, permit({ deadline: (NOW + 3601n).toString() }), /Permit.deadline .* more than 3600 s from now/],
    ['a look-alike Permit struct (caps cannot be decoded)', { signTypedData: [PERMIT_RULE] }, typed({ domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: TOKEN }, types: { Permit: [{ name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }] }, primaryType: 'Permit', message: { spender: SPENDER, value: 1 } }), /not an EIP-2612 Permit/],
    ['a permit with any value, spender and deadline under a rule capping none', { signTypedData: [{ id: 'any-permit', primaryType: 'Permit', permit: {} }] }, permit({ spender: OTHER, value: (2n ** 256n - 1n).toString(), deadline: (2n ** 256n - 1n).toString() }), 'any-permit'],
    ['a permit under a rule that caps only its value', { signTypedData: [{ id: 'value-only', primaryType: 'Permit', permit: { maxValue: 10n } }] }, permit({ spender: OTHER, value: '10', deadline: (NOW * 2n).toString() }), 'value-only'],
    ['a Permit2 PermitSingle within every cap', POLICY, permitSingle(), 'permit2'],
    ['a Permit2 PermitSingle at every cap (amount, sigDeadline and expiration at now + N)', POLICY, permitSingle({ amount: '5000', expiration: (NOW + 7200n).toString() }, { sigDeadline: (NOW + 7200n).toString() }), 'permit2'],
    ['a Permit2 PermitSingle under a rule capping nothing', { signTypedData: [{ id: 'any-permit2', primaryType: 'PermitSingle', permit2: {} }] }, permitSingle({ token: OTHER, amount: (2n ** 160n - 1n).toString() }, { spender: OTHER, sigDeadline: (2n ** 256n - 1n).toString() }), 'any-permit2'],
    ['a Permit2 PermitSingle under a rule that caps only its amount', { signTypedData: [{ id: 'amount-only', primaryType: 'PermitSingle', permit2: { maxAmount: 5000n } }] }, permitSingle({ token: OTHER }, { spender: OTHER, sigDeadline: (NOW * 2n).toString() }), 'amount-only'],
    ['a PermitSingle look-alike with other PermitDetails', { signTypedData: [PERMIT2_RULE] }, permitSingleWith([{ name: 'token', type: 'address' }, { name: 'amount', type: 'uint256' }, { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' }], PERMIT_SINGLE), /^no signTypedData rule matches \(permit2: the typed data is not a Permit2 PermitSingle\(PermitDetails details,address spender,uint256 sigDeadline\)\)$/],
    ['a PermitSingle look-alike with another PermitSingle struct', { signTypedData: [PERMIT2_RULE] }, permitSingleWith(PERMIT_DETAILS, [{ name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' }, { name: 'sigDeadline', type: 'uint48' }]), /permit2: the typed data is not a Permit2 PermitSingle/],
    ['a Permit2 amount above the cap', POLICY, permitSingle({ amount: '5001' }), /PermitSingle.details.amount 5001 exceeds the cap 5000/],
    ['a Permit2 token not in the list', POLICY, permitSingle({ token: OTHER }), /details.token .* not in the rule's list/],
    ['a Permit2 spender not in the list', POLICY, permitSingle({}, { spender: OTHER }), /PermitSingle.spender .* not in the rule's list/],
    ['a Permit2 sigDeadline beyond now + N', POLICY, permitSingle({}, { sigDeadline: (NOW + 7201n).toString() }), /sigDeadline .* more than 7200 s/],
    ['a Permit2 expiration beyond now + N', POLICY, permitSingle({ expiration: (NOW + 7201n).toString() }), /details.expiration .* more than 7200 s/],
    // Authorizations.
    ['a delegation to a listed contract', POLICY, authorization(OTHER), 'signAuthorization'],
    ['a delegation to any one of several listed contracts', { signAuthorization: { delegates: [SPENDER, OTHER] } }, authorization(OTHER), 'signAuthorization'],
    ['a delegation to an unlisted contract', POLICY, authorization(SPENDER), /not in signAuthorization.delegates/],
    ['a chain id 0 delegation without allowAnyChain', POLICY, authorization(OTHER, 0n), /valid on every chain/],
    ['a delegation to a listed contract written in lower case', POLICY, authorization(OTHER.toLowerCase()), 'signAuthorization'],
    ['a chain id 0 delegation with allowAnyChain', { signAuthorization: { delegates: [OTHER], allowAnyChain: true } }, authorization(OTHER, 0n), 'signAuthorization'],
  ];

  it.each(cases)('%s', (_label, policy, request, expected) => {
    const decision = evaluateMessagePolicy(policy, request, NOW_MS);
    if (typeof expected === 'string') expect(decision).toEqual({ allowed: true, ruleId: expected });
    else expect(decision).toEqual({ allowed: false, reason: expect.stringMatching(expected) });
  });

  it.each<[string, MessagePolicy, MessageRequest, string]>([
    ['signMessage not allowed', {}, message('gm'), 'the policy does not allow signMessage (set signMessage.allow)'],
    ['a message not listed', POLICY, message('hello'), 'the message is neither one of signMessage.exact nor starts with one of signMessage.prefixes'],
    ['no signTypedData rules', { signMessage: { allow: true } }, typed(MAIL), 'the policy has no signTypedData rules'],
    ['a permit above the value cap', { signTypedData: [PERMIT_RULE] }, permit({ value: '1000001' }), 'no signTypedData rule matches (usdc-permit: Permit.value 1000001 exceeds the cap 1000000)'],
    ['a permit to another spender', { signTypedData: [PERMIT_RULE] }, permit({ spender: OTHER }), `no signTypedData rule matches (usdc-permit: Permit.spender ${OTHER} is not in the rule's list)`],
    ['a permit deadline too far', { signTypedData: [PERMIT_RULE] }, permit({ deadline: (NOW + 3601n).toString() }), `no signTypedData rule matches (usdc-permit: Permit.deadline ${NOW + 3601n} is more than 3600 s from now)`],
    ['a permit look-alike', { signTypedData: [PERMIT_RULE] }, typed({ domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: TOKEN }, types: { Permit: [{ name: 'spender', type: 'address' }] }, primaryType: 'Permit', message: { spender: SPENDER } }),
      'no signTypedData rule matches (usdc-permit: the typed data is not an EIP-2612 Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline))'],
    ['a Permit2 amount above the cap', { signTypedData: [PERMIT2_RULE] }, permitSingle({ amount: '5001' }), 'no signTypedData rule matches (permit2: PermitSingle.details.amount 5001 exceeds the cap 5000)'],
    ['a Permit2 token not listed', { signTypedData: [PERMIT2_RULE] }, permitSingle({ token: OTHER }), `no signTypedData rule matches (permit2: PermitSingle.details.token ${OTHER} is not in the rule's list)`],
    ['a Permit2 spender not listed', { signTypedData: [PERMIT2_RULE] }, permitSingle({}, { spender: OTHER }), `no signTypedData rule matches (permit2: PermitSingle.spender ${OTHER} is not in the rule's list)`],
    ['a Permit2 signature deadline too far', { signTypedData: [PERMIT2_RULE] }, permitSingle({}, { sigDeadline: (NOW + 7201n).toString() }), `no signTypedData rule matches (permit2: PermitSingle.sigDeadline ${NOW + 7201n} is more than 7200 s from now)`],
    ['a Permit2 expiration too far', { signTypedData: [PERMIT2_RULE] }, permitSingle({ expiration: (NOW + 7201n).toString() }), `no signTypedData rule matches (permit2: PermitSingle.details.expiration ${NOW + 7201n} is more than 7200 s from now)`],
    ['signAuthorization not allowed', {}, authorization(OTHER), 'the policy does not allow signAuthorization (EIP-7702 delegation)'],
    ['a delegation not listed', POLICY, authorization(SPENDER), `delegation to ${SPENDER} is not allowed: it is not in signAuthorization.delegates`],
    ['a delegation on every chain', POLICY, authorization(OTHER, 0n), 'chainId 0 makes the authorization valid on every chain; the policy allows it only with signAuthorization.allowAnyChain'],
  ])('denies %s, saying why', (_label, policy, request, reason) => {
    expect(evaluateMessagePolicy(policy, request, NOW_MS)).toEqual({ allowed: false, reason });
  });

  it('names the first five signTypedData rules that do not match, and marks more with ... (printable ASCII)', () => {
    const rules = (count: number) => Array.from({ length: count }, (_, index) => ({ id: `r${index + 1}`, primaryType: `Order${index + 1}` }));
    const reasons = (count: number) => Array.from({ length: count }, (_, index) => `r${index + 1}: primaryType is Mail, not Order${index + 1}`).join('; ');
    expect(evaluateMessagePolicy({ signTypedData: rules(5) }, typed(MAIL), NOW_MS)).toEqual({ allowed: false, reason: `no signTypedData rule matches (${reasons(5)})` });
    expect(evaluateMessagePolicy({ signTypedData: rules(6) }, typed(MAIL), NOW_MS)).toEqual({ allowed: false, reason: `no signTypedData rule matches (${reasons(5)}; ...)` });
  });

  it('measures deadlines from the current whole second', () => {
    const policy = { signTypedData: [PERMIT_RULE] };
    expect(evaluateMessagePolicy(policy, permit({ deadline: (NOW + 3600n).toString() }), NOW_MS + 999).allowed).toBe(true);
    expect(evaluateMessagePolicy(policy, permit({ deadline: (NOW + 3601n).toString() }), NOW_MS + 999).allowed).toBe(false);
  });
});

describe('evaluateMessagePolicy: a SafeTx is decided as the transaction it makes the Safe send', () => {
  const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const SAFE_TX = [
    { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'data', type: 'bytes' }, { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' }, { name: 'baseGas', type: 'uint256' }, { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' }, { name: 'refundReceiver', type: 'address' }, { name: 'nonce', type: 'uint256' },
  ];
  const ZERO = '0x0000000000000000000000000000000000000000';
  const safeTx = (fields: Record<string, unknown> = {}, types: Record<string, unknown> = { SafeTx: SAFE_TX }) => typed({
    domain: { chainId: 1, verifyingContract: SAFE },
    types,
    primaryType: 'SafeTx',
    message: { to: OTHER, value: '1000', data: '0x', operation: 0, safeTxGas: 0, baseGas: 0, gasPrice: 0, gasToken: ZERO, refundReceiver: ZERO, nonce: 7, ...fields },
  });
  const SAFE_RULE: TypedDataRule = { id: 'treasury', primaryType: 'SafeTx', domain: { verifyingContract: [SAFE] }, safeTransaction: true };
  const limit = { id: 'key:daily', windowSeconds: 86400, maxAmount: 5000n, asset: 'native' as const };

  it('allows it when the transaction rules allow the inner call, with the inner charges, and passes them the inner transaction', () => {
    const seen: unknown[] = [];
    const decision = evaluateMessagePolicy({ signTypedData: [SAFE_RULE] }, safeTx({ data: '0xdeadbeef' }), NOW_MS, (request) => {
      seen.push(request);
      return { allowed: true, ruleId: 'payments', charges: [{ limit, amount: request.value }] };
    });
    expect(decision).toEqual({ allowed: true, ruleId: 'treasury/payments', charges: [{ limit, amount: 1000n }] });
    expect(seen).toEqual([{ chainId: 1n, type: 2, to: OTHER, value: 1000n, data: '0xdeadbeef', preEip155: false }]);
  });

  it("denies it with the transaction rules' reason when they deny the inner call", () => {
    const decision = evaluateMessagePolicy({ signTypedData: [SAFE_RULE] }, safeTx({ value: '2000000000000000000' }), NOW_MS, () => ({ allowed: false, reason: 'no rule allowed the transaction', closest: [] }));
    expect(decision).toEqual({ allowed: false, reason: `treasury: the SafeTx's transaction (to ${OTHER}, value 2000000000000000000) is not allowed by the transaction rules: no rule allowed the transaction` });
  });

  it.each<[string, MessageRequest, RegExp]>([
    ['a DELEGATECALL (operation 1)', safeTx({ operation: 1 }), /SafeTx.operation is 1: a DELEGATECALL runs other code as the Safe itself/],
    ['a gas refund (gasPrice above 0)', safeTx({ gasPrice: 1 }), /SafeTx.gasPrice is 1: a gas refund pays the Safe's funds to refundReceiver/],
    ['a look-alike SafeTx without the gas fields (a Safe would hash another struct)', typed({
      domain: { chainId: 1, verifyingContract: SAFE }, types: { SafeTx: SAFE_TX.slice(0, 3).concat(SAFE_TX.slice(9)) }, primaryType: 'SafeTx', message: { to: OTHER, value: 1, data: '0x', nonce: 0 },
    }), /not a Safe 1.3.0\/1.4.1 SafeTx/],
    ['a SafeTx under a domain with a name (not a Safe 1.3.0/1.4.1 domain)', typed({
      domain: { name: 'Safe', chainId: 1, verifyingContract: SAFE }, types: { SafeTx: SAFE_TX }, primaryType: 'SafeTx',
      message: { to: OTHER, value: 1, data: '0x', operation: 0, safeTxGas: 0, baseGas: 0, gasPrice: 0, gasToken: ZERO, refundReceiver: ZERO, nonce: 0 },
    }), /the domain is not a Safe 1.3.0\/1.4.1 domain/],
  ])('denies %s, whatever the transaction rules say', (_label, request, reason) => {
    const decision = evaluateMessagePolicy({ signTypedData: [SAFE_RULE] }, request, NOW_MS, () => ({ allowed: true, ruleId: 'everything', charges: [] }));
    expect(decision).toMatchObject({ allowed: false, reason: expect.stringMatching(reason) });
  });

  it('denies it without transaction rules to consult', () => {
    expect(evaluateMessagePolicy({ signTypedData: [SAFE_RULE] }, safeTx(), NOW_MS)).toMatchObject({ allowed: false, reason: expect.stringMatching(/cannot be checked against the transaction rules/) });
  });

  it('denies a SafeTx for a Safe the rule does not list before consulting the transaction rules', () => {
    const decision = evaluateMessagePolicy({ signTypedData: [{ ...SAFE_RULE, domain: { verifyingContract: [OTHER] } }] }, safeTx(), NOW_MS, () => { throw new Error('not consulted'); });
    expect(decision).toMatchObject({ allowed: false, reason: expect.stringMatching(/verifyingContract .* is not in the rule's list/) });
  });
});

describe('compileMessagePolicy', () => {
  const compile = (document: MessagesDocument | undefined) => {
    const issues: Array<{ path: string; problem: string }> = [];
    const policy = compileMessagePolicy(document, '$.messages', (path, problem) => void issues.push({ path, problem }), parseAmount);
    return { policy, issues };
  };

  it('compiles no section to a policy that denies every message operation', () => {
    const { policy, issues } = compile(undefined);
    expect(issues).toEqual([]);
    expect(evaluateMessagePolicy(policy, message('gm'), NOW_MS).allowed).toBe(false);
    expect(evaluateMessagePolicy(policy, authorization(OTHER), NOW_MS).allowed).toBe(false);
  });

  it('compiles amounts to bigints, addresses to EIP-55 and chain ids to bigints, so the compiled rules decide as written', () => {
    const { policy, issues } = compile({
      signTypedData: [{ id: 'usdc-permit', primaryType: 'Permit', domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: [TOKEN.toLowerCase()] }, permit: { maxValue: '1000000', spenders: [SPENDER.toLowerCase()], maxDeadlineSeconds: 3600 } }],
      signAuthorization: { delegates: [OTHER.toLowerCase()] },
    });
    expect(issues).toEqual([]);
    expect(policy.signTypedData?.[0]).toEqual({ ...PERMIT_RULE, permit: { maxValue: 1_000_000n, spenders: [SPENDER], maxDeadlineSeconds: 3600 } });
    expect(evaluateMessagePolicy(policy, permit(), NOW_MS)).toEqual({ allowed: true, ruleId: 'usdc-permit' });
    expect(evaluateMessagePolicy(policy, permit({ value: '1000001' }), NOW_MS).allowed).toBe(false);
    expect(policy.signAuthorization).toEqual({ delegates: [OTHER], allowAnyChain: false });
  });

  it('compiles Permit2 caps (amount, spender and token lists) and passes signMessage through', () => {
    const { policy, issues } = compile({
      signMessage: { allow: true, prefixes: ['example.com wants you to sign in'], exact: ['gm'] },
      signTypedData: [{ id: 'permit2', primaryType: 'PermitSingle', domain: { name: 'Permit2', verifyingContract: [PERMIT2.toLowerCase()] }, permit2: { maxAmount: '5000', spenders: [SPENDER.toLowerCase()], tokens: [TOKEN.toLowerCase()], maxDeadlineSeconds: 7200 } }],
      signAuthorization: { delegates: [OTHER], allowAnyChain: true },
    });
    expect(issues).toEqual([]);
    expect(policy).toEqual({ signMessage: POLICY.signMessage, signTypedData: [PERMIT2_RULE], signAuthorization: { delegates: [OTHER], allowAnyChain: true } });
  });

  it.each<[string, MessagesDocument, string]>([
    ['a domain contract', { signTypedData: [{ id: 'p', primaryType: 'Mail', domain: { verifyingContract: [TOKEN, BAD] } }] }, '$.messages.signTypedData[0].domain.verifyingContract[1]'],
    ['a permit spender', { signTypedData: [{ id: 'p', primaryType: 'Permit', permit: { spenders: [BAD] } }] }, '$.messages.signTypedData[0].permit.spenders[0]'],
    ['a Permit2 spender', { signTypedData: [{ id: 'p', primaryType: 'PermitSingle', permit2: { spenders: [BAD] } }] }, '$.messages.signTypedData[0].permit2.spenders[0]'],
    ['a Permit2 token', { signTypedData: [{ id: 'p', primaryType: 'PermitSingle', permit2: { tokens: [BAD] } }] }, '$.messages.signTypedData[0].permit2.tokens[0]'],
    ['a delegate', { signAuthorization: { delegates: [BAD] } }, '$.messages.signAuthorization.delegates[0]'],
  ])('reports a bad checksum on %s by its JSON path, quoting the address', (_label, document, path) => {
    expect(compile(document).issues).toEqual([{ path, problem: `has an invalid EIP-55 checksum (${BAD}); copy the address again, or write it in lower case` }]);
  });

  it.each<[string, MessagesDocument, string, string]>([
    ['a Permit2 amount with a fraction', { signTypedData: [{ id: 'p', primaryType: 'PermitSingle', permit2: { maxAmount: '1.5' } }] }, '$.messages.signTypedData[0].permit2.maxAmount',
      'has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"'],
    ['a duplicate rule id', { signTypedData: [{ id: 'a', primaryType: 'Mail' }, { id: 'a', primaryType: 'Order' }] }, '$.messages.signTypedData[1].id', '"a" is already the id of another signTypedData rule; ids must be unique (denials name them)'],
    ['permit caps on another primaryType', { signTypedData: [{ id: 'p', primaryType: 'Order', permit: {} }] }, '$.messages.signTypedData[0].primaryType', 'must be "Permit" for a rule with permit caps (EIP-2612); got "Order"'],
    ['permit2 caps on another primaryType', { signTypedData: [{ id: 'p', primaryType: 'Permit', permit2: {} }] }, '$.messages.signTypedData[0].primaryType', 'must be "PermitSingle" for a rule with permit2 caps; got "Permit"'],
  ])('reports %s in these words', (_label, document, path, problem) => {
    expect(compile(document).issues).toEqual([{ path, problem }]);
  });

  it.each<[string, MessagesDocument, string, RegExp]>([
    ['a bad checksum', { signAuthorization: { delegates: ['0x70997970c51812dc3A010C7d01b50e0d17dc79C8'] } }, '$.messages.signAuthorization.delegates[0]', /checksum/],
    ['a fraction of a base unit', { signTypedData: [{ id: 'p', primaryType: 'Permit', permit: { maxValue: '1.5' } }] }, '$.messages.signTypedData[0].permit.maxValue', /fraction/],
    ['duplicate rule ids', { signTypedData: [{ id: 'a', primaryType: 'Mail' }, { id: 'a', primaryType: 'Order' }] }, '$.messages.signTypedData[1].id', /already the id/],
    ['permit caps on another primaryType', { signTypedData: [{ id: 'p', primaryType: 'Order', permit: {} }] }, '$.messages.signTypedData[0].primaryType', /must be "Permit"/],
    ['permit2 caps on another primaryType', { signTypedData: [{ id: 'p', primaryType: 'Permit', permit2: {} }] }, '$.messages.signTypedData[0].primaryType', /must be "PermitSingle"/],
    ['both permit and permit2', { signTypedData: [{ id: 'p', primaryType: 'Permit', permit: {}, permit2: {} }] }, '$.messages.signTypedData[0]', /both permit and permit2/],
    ['safeTransaction on another primaryType', { signTypedData: [{ id: 'p', primaryType: 'Permit', safeTransaction: true }] }, '$.messages.signTypedData[0].primaryType', /^must be "SafeTx" for a rule with safeTransaction; got "Permit"$/],
    ['safeTransaction with permit caps', { signTypedData: [{ id: 'p', primaryType: 'SafeTx', safeTransaction: true, permit: {} }] }, '$.messages.signTypedData[0]', /^has safeTransaction and permit caps/],
    ['a SafeTx rule without safeTransaction (it would be a way around the transaction rules)', { signTypedData: [{ id: 'p', primaryType: 'SafeTx' }] }, '$.messages.signTypedData[0].safeTransaction', /^must be true for a SafeTx rule: a SafeTx authorizes a transaction/],
    ['a SafeTx rule with safeTransaction false', { signTypedData: [{ id: 'p', primaryType: 'SafeTx', safeTransaction: false }] }, '$.messages.signTypedData[0].safeTransaction', /^must be true for a SafeTx rule/],
  ])('reports %s by its JSON path', (_label, document, path, problem) => {
    expect(compile(document).issues).toContainEqual({ path, problem: expect.stringMatching(problem) });
  });
});

describe('compileMessagePolicy: safeTransaction', () => {
  it('compiles a SafeTx rule with safeTransaction', () => {
    const issues: unknown[] = [];
    const policy = compileMessagePolicy({ signTypedData: [{ id: 's', primaryType: 'SafeTx', domain: { verifyingContract: [OTHER.toLowerCase()] }, safeTransaction: true }] }, '$.messages', (path, problem) => void issues.push({ path, problem }), parseAmount);
    expect(issues).toEqual([]);
    expect(policy.signTypedData).toEqual([{ id: 's', primaryType: 'SafeTx', domain: { verifyingContract: [OTHER] }, safeTransaction: true }]);
  });
});

describe('loadPolicy with a messages section', () => {
  const load = (messages: unknown) => loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'no-transactions', effect: 'deny' }], messages }));

  it('compiles it into the policy the handler consults (amounts with units)', () => {
    const policy = load({ signTypedData: [{ id: 'usdc-permit', primaryType: 'Permit', domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: [TOKEN] }, permit: { maxValue: '0.000000000001 ether', spenders: [SPENDER], maxDeadlineSeconds: 3600 } }] });
    expect(policy.messages.signTypedData).toEqual([PERMIT_RULE]);
    expect(evaluateMessagePolicy(policy.messages, permit(), NOW_MS)).toEqual({ allowed: true, ruleId: 'usdc-permit' });
  });

  it('denies every message operation when a policy has no messages section', () => {
    expect(loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'anything', effect: 'allow' }] })).messages).toEqual({});
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown field', { signMessage: { allow: true, regex: '.*' } }, /\$\.messages\.signMessage\.regex is not an accepted field/],
    ['signMessage without allow', { signMessage: { prefixes: ['a'] } }, /\$\.messages\.signMessage\.allow is required/],
    ['a typed-data rule without primaryType', { signTypedData: [{ id: 'x' }] }, /\$\.messages\.signTypedData\[0\]\.primaryType is required/],
    ['a negative deadline window', { signTypedData: [{ id: 'x', primaryType: 'Permit', permit: { maxDeadlineSeconds: -1 } }] }, /\$\.messages\.signTypedData\[0\]\.permit\.maxDeadlineSeconds/],
    ['an amount that is not one', { signTypedData: [{ id: 'x', primaryType: 'Permit', permit: { maxValue: 'lots' } }] }, /\$\.messages\.signTypedData\[0\]\.permit\.maxValue must be a decimal number/],
    ['a delegate that is not an address', { signAuthorization: { delegates: ['me'] } }, /\$\.messages\.signAuthorization\.delegates\[0\] must be an address/],
  ])('refuses %s, naming its JSON path', (_label, messages, problem) => {
    expect(() => load(messages)).toThrow(problem);
  });
});
