import { parseUnits } from 'ethers';

const UINT256_MAX = 2n ** 256n - 1n;
// A token amount in the token's own units: "10000 * 10^6" is 10,000 of a token with 6 decimals (USDC).
const AMOUNT = /^(0|[1-9][0-9]*)(\.[0-9]+)?(?: (wei|kwei|mwei|gwei|szabo|finney|ether)| \* 10\^([1-9][0-9]?))?$/;
const MAX_DECIMALS = 77; // 10^77 < 2^256 < 10^78

/** What an amount may look like, for error messages. */
export const AMOUNT_FORMS =
  'a decimal number of wei (or token base units) such as "1000", a number with a unit: "1.5 ether", "30 gwei" (units: wei, kwei, mwei, gwei, szabo, finney, ether), ' +
  'or a token amount with the token\'s decimals: "10000 * 10^6" (10,000 USDC, which has 6 decimals)';

/**
 * Parses a policy amount exactly (bigint, never floating point): "1000" is wei (or token base units),
 * "1.5 ether" and "30 gwei" are scaled by their unit, "10000 * 10^6" by the token's decimals. Throws a
 * RangeError saying what was wrong.
 */
export function parseAmount(text: string): bigint {
  const match = AMOUNT.exec(text);
  if (!match) {
    if (/^\s*-/.test(text)) throw new RangeError('must not be negative');
    throw new RangeError(`must be ${AMOUNT_FORMS}`);
  }
  // Stryker disable next-line StringLiteral: a default for the type; group 1 is in every match
  const [, whole = '', fraction, unit, decimals] = match;
  let amount: bigint;
  if (decimals !== undefined) {
    if (Number(decimals) > MAX_DECIMALS) throw new RangeError(`has ${decimals} decimals; a token has at most ${MAX_DECIMALS}`);
    if ((fraction?.length ?? 1) - 1 > Number(decimals)) throw new RangeError(`has more decimals than 10^${decimals} allows (the result must be a whole number of base units)`);
    amount = BigInt(`${whole}${(fraction?.slice(1) ?? '').padEnd(Number(decimals), '0')}`);
  } else if (unit === undefined || unit === 'wei') {
    if (fraction !== undefined) throw new RangeError('has a fraction of a wei (or base unit); give a whole number or add a unit such as "gwei" or "ether"');
    amount = BigInt(whole);
  } else {
    try {
      amount = parseUnits(`${whole}${fraction ?? ''}`, unit);
    } catch {
      throw new RangeError(`has more decimals than ${unit} allows (the result must be a whole number of wei)`);
    }
  }
  if (amount > UINT256_MAX) throw new RangeError('is larger than 2^256-1 wei');
  return amount;
}
