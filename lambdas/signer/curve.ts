/** Order n of the secp256k1 group (SEC 2, section 2.4.1). */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** n / 2: the largest s allowed by EIP-2's low-s rule. */
export const SECP256K1_HALF_N = SECP256K1_N / 2n;
