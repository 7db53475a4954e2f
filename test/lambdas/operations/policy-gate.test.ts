import { parseEther } from 'ethers';
import { toPolicyRequest, toCheckResponse, PolicyGate } from '../../../lambdas/operations/policy-gate';
import { loadPolicy } from '../../../lambdas/policy';
import { parseSignerEvent } from '../../../lambdas/events/request';
import { logger } from '../../../lambdas/runtime/logger';

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

  it('reads null or missing fields as absent: no to, value 0, empty data, type 0', () => {
    expect(toPolicyRequest({ to: null, value: null, data: null, type: null, gasLimit: null, gasPrice: null, maxFeePerGas: null, maxPriorityFeePerGas: null }, 5n, true)).toStrictEqual({ chainId: 5n, type: 0, value: 0n, data: '0x', preEip155: false });
    expect(toPolicyRequest({ type: 1, to: TO, gasPrice: 3n }, 5n, true)).toStrictEqual({ chainId: 5n, type: 1, to: TO, value: 0n, data: '0x', gasPrice: 3n, preEip155: false });
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
    await expect(gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => 'signed')).resolves.toBe('signed');
    expect(store.reserve).not.toHaveBeenCalled();
  });

  it('reports spending limits declared for the whole key, or on any allow rule', () => {
    expect(new PolicyGate(loadPolicy(JSON.stringify({ version: 1, limits: [{ name: 'all', window: '1d', maxCount: 9 }], rules: [{ id: 'a', effect: 'allow' }] }))).hasLimits).toBe(true);
    expect(new PolicyGate(loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'a', effect: 'allow', to: [TO] }, { id: 'b', effect: 'allow', limits: [{ name: 'l', window: '1d', maxCount: 9 }] }] }))).hasLimits).toBe(true);
  });

  it('returns the allow decision, and names the deny rule that refused', () => {
    const gate = new PolicyGate(loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'a', effect: 'allow' }, { id: 'no-big', effect: 'deny', maxValue: '10' }] })));
    expect(gate.authorize(request(11n))).toEqual({ allowed: true, ruleId: 'a', charges: [] });
    expect(() => gate.authorize(request(10n))).toThrow(expect.objectContaining({ name: 'PolicyDeniedError', ruleId: 'no-big', message: expect.stringContaining('denied by rule "no-big"') }));
    expect(gate.decide(request(10n))).toEqual({ allowed: false, ruleId: 'no-big', reason: 'denied by rule "no-big"', closest: [] });
  });

  it('reserves the decision\'s charges under the caller\'s reservation while signing, and keeps them when signing succeeds', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    const decision = gate.authorize(request(5n));
    await expect(gate.withReservation(decision, { keyArn: 'k', reservationId: 'r', deadlineMs: 9 }, async () => 'signed')).resolves.toBe('signed');
    expect(store.reserve).toHaveBeenCalledWith(decision.charges, { keyArn: 'k', reservationId: 'r', deadlineMs: 9 });
    expect(decision.charges).toHaveLength(1);
    expect(store.release).not.toHaveBeenCalled();
  });

  it('sends Sign without waiting for the reservation, but gives the signature only once the reservation has committed', async () => {
    let commit!: (value: string) => void;
    const store = { reserve: jest.fn(() => new Promise<string>((resolve) => (commit = resolve))), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    const events: string[] = [];
    const result = gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => { events.push('signed'); return 'signature'; });
    void result.then(() => events.push('returned'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['signed']); // KMS has answered; the reservation has not
    commit('held');
    await expect(result).resolves.toBe('signature');
    expect(events).toEqual(['signed', 'returned']);
  });

  it('drops the signature, unseen, and aborts Sign when the reservation is refused after Sign was sent', async () => {
    let refuse!: (error: Error) => void;
    const store = { reserve: jest.fn(() => new Promise<string>((_, reject) => (refuse = reject))), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    let signal: AbortSignal | undefined;
    const result = gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async (abort) => { signal = abort; return 'signature'; });
    await new Promise((resolve) => setImmediate(resolve));
    refuse(new Error('limit exceeded'));
    const outcome = await result.then((value) => ({ value }), (error: Error) => ({ error: error.message }));
    expect(outcome).toEqual({ error: 'limit exceeded' });
    expect(signal?.aborted).toBe(true);
    expect(store.release).not.toHaveBeenCalled();
  });

  it('gives the reservation back when the started signing is abandoned (a replay), once, and aborts Sign', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    let signal: AbortSignal | undefined;
    const signing = gate.start(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r', releaseDeadlineMs: 5 }, async (abort) => { signal = abort; return 'signature'; });
    await signing.abandon();
    expect(signal?.aborted).toBe(true);
    expect(store.release).toHaveBeenCalledTimes(1);
    expect(store.release).toHaveBeenCalledWith('held', { deadlineMs: 5 });
  });

  it('gives nothing back when abandoning a signing whose reservation was refused', async () => {
    const store = { reserve: jest.fn(async () => { throw new Error('limit exceeded'); }), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    await gate.start(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => 'signature').abandon();
    expect(store.release).not.toHaveBeenCalled();
  });

  it('gives the reservation back once when signing failed and the signing is then abandoned', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    const signing = gate.start(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => { throw new Error('kms failed'); });
    await signing.abandon();
    expect(store.release).toHaveBeenCalledTimes(1);
  });

  it('refuses to sign with charges but no spending store', async () => {
    const sign = jest.fn(async () => 'signed');
    const gate = new PolicyGate(policy);
    await expect(gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, sign)).rejects.toThrow('the policy has spending limits but no spending store is configured');
    expect(sign).not.toHaveBeenCalled();
  });

  it('releases the reservation when signing fails', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    await expect(gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => { throw new Error('kms failed'); })).rejects.toThrow('kms failed');
    expect(store.release).toHaveBeenCalledWith('held', {});
  });

  it('gives the release the deadline the caller set for it (the invocation\u2019s end), and no reserve option of its own', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => undefined) };
    const gate = new PolicyGate(policy, store);
    const target = { keyArn: 'k', reservationId: 'r', deadlineMs: 100, releaseDeadlineMs: 900 };
    await expect(gate.withReservation(gate.authorize(request(1n)), target, async () => { throw new Error('kms failed'); })).rejects.toThrow('kms failed');
    expect(store.reserve).toHaveBeenCalledWith(expect.anything(), { keyArn: 'k', reservationId: 'r', deadlineMs: 100 });
    expect(store.release).toHaveBeenCalledWith('held', { deadlineMs: 900 });
  });

  it('keeps the signing error when releasing the reservation also fails', async () => {
    const store = { reserve: jest.fn(async () => 'held'), release: jest.fn(async () => { throw new Error('dynamo down'); }) };
    const gate = new PolicyGate(policy, store);
    const failure = gate.withReservation(gate.authorize(request(1n)), { keyArn: 'k', reservationId: 'r' }, async () => { throw new Error('kms failed'); });
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      await expect(failure).rejects.toThrow('kms failed');
      expect(store.release).toHaveBeenCalledWith('held', {});
      expect(logged).toHaveBeenCalledWith('could not release a spending reservation after signing failed', expect.objectContaining({ message: 'dynamo down' }));
    } finally {
      logged.mockRestore();
    }
  });
});

describe('toCheckResponse', () => {
  it('turns amounts into decimal strings (JSON has no bigint)', () => {
    const policy = loadPolicy(JSON.stringify({ version: 1, limits: [{ name: 'daily', window: '24h', maxValue: '1000 ether' }], rules: [{ id: 'a', effect: 'allow' }] }));
    const decision = new PolicyGate(policy).decide({ chainId: 1n, type: 2, to: TO, value: 2n ** 200n, data: '0x', preEip155: false });
    expect(JSON.parse(JSON.stringify(toCheckResponse(decision)))).toEqual({ allowed: true, ruleId: 'a', charges: [{ limitId: 'key:daily', amount: (2n ** 200n).toString(), asset: 'native' }] });
  });

  it('returns a denial with its rule id, reason and closest rules; an implicit deny has no rule id', () => {
    expect(toCheckResponse({ allowed: false, ruleId: 'no-b', reason: 'denied by rule "no-b"', closest: [] })).toStrictEqual({ allowed: false, ruleId: 'no-b', reason: 'denied by rule "no-b"', closest: [] });
    const closest = [{ ruleId: 'a', failed: [{ condition: 'to', reason: 'x' }] }];
    expect(toCheckResponse({ allowed: false, reason: 'no rule allowed the transaction', closest })).toStrictEqual({ allowed: false, reason: 'no rule allowed the transaction', closest });
  });
});
