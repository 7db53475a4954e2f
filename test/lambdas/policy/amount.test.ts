import fc from 'fast-check';
import { formatUnits } from 'ethers';
import { parseAmount } from '../../../lambdas/policy';

describe('parseAmount', () => {
  it.each([
    ['0', 0n],
    ['1000', 1000n],
    ['1.5 ether', 1500000000000000000n],
    ['30 gwei', 30000000000n],
    ['0.000000001 gwei', 1n],
    ['7 wei', 7n],
    [(2n ** 256n - 1n).toString(), 2n ** 256n - 1n],
  ])('reads %s as %s wei', (text, wei) => {
    expect(parseAmount(text)).toBe(wei);
  });

  it.each([
    ['-1', /must not be negative/],
    ['-1.5 ether', /must not be negative/],
    ['  -3 ether', /^must not be negative$/],
    ['1-2', /^must be a decimal number of wei \(or token base units\) such as "1000", or a number with a unit: "1\.5 ether", "30 gwei" \(units: wei, kwei, mwei, gwei, szabo, finney, ether\)$/],
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

  it('is exact for any ether amount with up to 18 decimals (no floating point)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), (wei) => {
        expect(parseAmount(`${formatUnits(wei, 18)} ether`)).toBe(wei);
        expect(parseAmount(wei.toString())).toBe(wei);
      }),
    );
  });
});
