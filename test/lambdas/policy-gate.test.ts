import { parseEther } from 'ethers';
import { toPolicyRequest, toCheckResponse, PolicyGate } from '../../lambdas/policy-gate';
import { loadPolicy } from '../../lambdas/policy';
import { parseSignerEvent } from '../../lambdas/request';

const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

describe('toPolicyRequest', () => {
  it('gives the policy the validated EIP-1559 fields, with the configured chain id', () => {
    const request = parseSignerEvent({ operation: 'sign', transaction: { to: TO.toLowerCase(), value: '5', nonce: 0, gasLimit: 21000, maxFeePerGas: '10', maxPriorityFeePerGas: '1', data: '0xABCD' } }, 'eip1559', 1n);
    if (request.operation === 'status') throw new Error('expected a transaction');
    expect(toPolicyRequest(request.transaction, 1n, request.replayProtection)).toEqual({
      chainId: 1n, type: 2, to: TO, value: 5n, data: '0xabcd', gasLimit: 21000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, preEip155: false,
    });
  });

  it('gives a pre-EIP-155 request no chain id, and a deployment no to', () => {
    const request = parseSignerEvent({ operation: 'check', transaction: { data: '0x6000', nonce: 0, gasLimit: 60000, gasPrice: '7' }, replayProtection: false }, 'legacy', 1n);
    if (request.operation === 'status') throw new Error('expected a transaction');
    expect(toPolicyRequest(request.transaction, 1n, request.replayProtection)).toEqual({ type: 0, value: 0n, data: '0x6000', gasLimit: 60000n, gasPrice: 7n, preEip155: true });
  });
});

describe('PolicyGate', () => {
  const policy = loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'small', effect: 'allow', maxValue: '1 ether', limits: [{ name: 'daily', window: '24h', maxValue: '2 ether' }] }] }));
  const request = (value: bigint) => ({ chainId: 1n, type: 2, to: TO, value, data: '0x', gasLimit: 21000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, preEip155: false });

  it('throws PolicyDeniedError with the reason for a denial', () => {
    expect(() => new PolicyGate(policy).authorize(request(parseEther('2')))).toThrow(expect.objectContaining({ name: 'PolicyDeniedError', ruleId: undefined, message: expect.stringMatching(/no rule allowed the transaction; closest: rule "small": maxValue/) }));
  });

  it('reports whether the policy has spending limits', () => {
    expect(new PolicyGate(policy).hasLimits).toBe(true);
    expect(new PolicyGate(loadPolicy('{"version":1,"rules":[{"id":"a","effect":"allow"}]}')).hasLimits).toBe(false);
  });

  it('runs sign without touching the store when the decision carries no charges', async () => {
    const store = { reserve: jest.fn(), release: jest.fn() };
    const gate = new PolicyGate(loadPolicy('{"version":1,"rules":[{"id":"a","effect":"allow"}]}'), store);
    await expect(gate.withReservation(gate.authorize(request(1n)), async () => ({ keyArn: 'k', reservationId: 'r' }), async () => 'signed')).resolves.toBe('signed');
    expect(store.reserve).not.toHaveBeenCalled();
  });

  it('keeps the signing error when releasing the reservation also fails', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => { throw new Error('dynamo down'); }) };
    const gate = new PolicyGate(policy, store);
    const failure = gate.withReservation(gate.authorize(request(1n)), async () => ({ keyArn: 'k', reservationId: 'r' }), async () => { throw new Error('kms failed'); });
    await expect(failure).rejects.toThrow('kms failed');
    expect(store.release).toHaveBeenCalledWith('held');
  });
});

describe('toCheckResponse', () => {
  it('turns amounts into decimal strings (JSON has no bigint)', () => {
    const policy = loadPolicy(JSON.stringify({ version: 1, limits: [{ name: 'daily', window: '24h', maxValue: '1000 ether' }], rules: [{ id: 'a', effect: 'allow' }] }));
    const decision = new PolicyGate(policy).decide({ chainId: 1n, type: 2, to: TO, value: 2n ** 200n, data: '0x', preEip155: false });
    expect(JSON.parse(JSON.stringify(toCheckResponse(decision)))).toEqual({ allowed: true, ruleId: 'a', charges: [{ limitId: 'key:daily', amount: (2n ** 200n).toString(), asset: 'native' }] });
  });
});
