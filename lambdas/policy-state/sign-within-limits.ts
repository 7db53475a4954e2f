import type { SpendCharge } from '../policy/spending';
import { logger } from '../logger';
import { InvalidSpendingLimitError } from './errors';
import type { ReserveOptions, SpendingStore } from './spending-store';

/**
 * Signs only within the spending limits: reserves `charges` (all or none) before `sign` is called, and gives
 * them back if `sign` fails, so a failed signature costs nothing and a signature is never returned uncounted.
 * With no charges it calls `sign` directly (no DynamoDB call). If DynamoDB fails, `sign` is never called
 * (PolicyStateUnavailableError); if the release fails, the charges stay counted (stricter, never looser) and
 * the signing error is what the caller sees.
 */
export async function signWithinLimits<R>(
  store: SpendingStore | undefined,
  charges: readonly SpendCharge[],
  options: ReserveOptions,
  sign: () => Promise<R>,
): Promise<R> {
  if (charges.length === 0) return sign();
  if (!store) throw new InvalidSpendingLimitError('The policy has spending limits but no spending store was configured (POLICY_TABLE_NAME).');
  const reservation = await store.reserve(charges, options);
  try {
    return await sign();
  } catch (error) {
    try {
      await store.release(reservation, options);
    } catch (releaseError) {
      logger.warn('could not release a spending reservation after signing failed; it stays counted until it leaves the window', {
        reservationId: reservation.reservationId,
        limits: reservation.charges.map((charge) => charge.limit.id),
        error: releaseError as Error,
      });
    }
    throw error;
  }
}
