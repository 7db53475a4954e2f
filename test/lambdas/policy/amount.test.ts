import fc from 'fast-check';
import { formatUnits } from 'ethers';
import { loadPolicy, parseAmount } from '../../../lambdas/policy';

describe('parseAmount', () => {
  it.each([
    ['0', 0n],
    ['1000', 1000n],
    ['1.5 ether', 1500000000000000000n],
    ['30 gwei', 30000000000n],
    ['0.000000001 gwei', 1n],
    ['7 wei', 7n],
    [(2n ** 256n - 1n).toString(), 2n ** 256n - 1n],
    ['10000 * 10^6', 10000000000n], // 10,000 USDC (6 decimals)
    ['2.5 * 10^6', 2500000n],
    ['0.000001 * 10^6', 1n],
    ['1 * 10^18', 10n ** 18n],
    ['1 * 10^77', 10n ** 77n],
  ])('reads %s as %s wei (or token base units)', (text, wei) => {
    expect(parseAmount(text)).toBe(wei);
  });

  it.each([
    ['-1', /must not be negative/],
    ['-1.5 ether', /must not be negative/],
    ['  -3 ether', /^must not be negative$/],
    ['1-2', /^must be a decimal number of wei \(or token base units\) such as "1000", a number with a unit: "1\.5 ether", "30 gwei" \(units: wei, kwei, mwei, gwei, szabo, finney, ether\), or a token amount with the token's decimals: "10000 \* 10\^6" \(10,000 USDC, which has 6 decimals\)$/],
    ['0.0000001 * 10^6', /^has more decimals than 10\^6 allows \(the result must be a whole number of base units\)$/],
    ['1 * 10^78', /^has 78 decimals; a token has at most 77$/],
    ['1 * 10^0', /must be a decimal number/],
    ['1 * 10^06', /must be a decimal number/],
    ['1*10^6', /must be a decimal number/],
    ['1000 * 10^77', /^is larger than 2\^256-1 wei$/],
    ['1.5', /^has a fraction of a wei \(or base unit\); give a whole number or add a unit such as "gwei" or "ether"$/],
    ['1.5 wei', /fraction of a wei/],
    ['1 eth', /must be a decimal number/],
    ['1e18', /must be a decimal number/],
    ['0x10', /must be a decimal number/],
    ['01', /must be a decimal number/],
    [' 1', /must be a decimal number/],
    ['0.0000000001 gwei', /^has more decimals than gwei allows \(the result must be a whole number of wei\)$/],
    [(2n ** 256n).toString(), /^is larger than 2\^256-1 wei$/],
    ['115792089237316195423570985008687907853269984665640564039458 ether', /larger than 2\^256-1/],
  ])('rejects %s', (text, message) => {
    expect(() => parseAmount(text)).toThrow(message);
  });

  it('reads "N * 10^d" as ethers parseUnits(N, d) does, for any d from 1 to 30', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.integer({ min: 1, max: 30 }), (units, decimals) => {
        expect(parseAmount(`${formatUnits(units, decimals).replace(/\.0$/, '')} * 10^${decimals}`)).toBe(units);
      }),
    );
  });

  it('is exact for any ether amount with up to 18 decimals (no floating point)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), (wei) => {
        expect(parseAmount(`${formatUnits(wei, 18)} ether`)).toBe(wei);
        expect(parseAmount(wei.toString())).toBe(wei);
      }),
    );
  });
});

describe('a token amount with its decimals in a policy (schema and compiler)', () => {
  it('caps 10,000 USDC a day written as "10000 * 10^6"', () => {
    const usdc = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
    const policy = loadPolicy(JSON.stringify({ version: 1, rules: [{ id: 'usdc', effect: 'allow', to: [usdc], limits: [{ name: 'daily-usdc', window: '24h', token: usdc, maxValue: '10000 * 10^6' }] }] }));
    expect(policy.allowRules[0]?.limits[0]?.maxAmount).toBe(10_000_000_000n);
  });
});
