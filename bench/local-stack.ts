// The local KMS for the throughput and first-invocation figures; undefined until scripts/local-kms exists.
import type { LocalKms } from './benchmark';

/** Starts the local KMS with a secp256k1 signing key, or undefined when this checkout has none. */
export const startBenchLocalKms: (() => Promise<LocalKms>) | undefined = undefined;
