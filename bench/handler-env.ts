/** The environment our handler reads on its first invocation; SILENT because the peers do not log either. */
export const BENCH_HANDLER_ENV = { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'sepolia', LOG_LEVEL: 'SILENT' } as const;
