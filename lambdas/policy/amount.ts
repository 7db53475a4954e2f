import { parseUnits } from 'ethers';

const UINT256_MAX = 2n ** 256n - 1n;
const AMOUNT = /^(0|[1-9][0-9]*)(\.[0-9]+)?(?: (wei|kwei|mwei|gwei|szabo|finney|ether))?$/;

/** What an amount may look like, for error messages. */
export const AMOUNT_FORMS = 'a decimal number of wei (or token base units) such as "1000", or a number with a unit: "1.5 ether", "30 gwei" (units: wei, kwei, mwei, gwei, szabo, finney, ether)';

/**
 * Parses a policy amount exactly (bigint, never floating point): "1000" is wei (or token base units),
 * "1.5 ether" and "30 gwei" are scaled by their unit. Throws a RangeError saying what was wrong.
 */
export function parseAmount(text: string): bigint {
  const match = AMOUNT.exec(text);
  if (!match) {
    if (/^\s*-/.test(text)) throw new RangeError('must not be negative');
    throw new RangeError(`must be ${AMOUNT_FORMS}`);
  }
  // Stryker disable next-line StringLiteral: a default for the type; group 1 is in every match
  const [, whole = '', fraction, unit] = match;
  let amount: bigint;
  if (unit === undefined || unit === 'wei') {
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
