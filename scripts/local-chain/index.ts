// The local chain: anvil and cast from Foundry's npm packages.
export { PortInUseError, portIsFree, startAnvil, waitForReceipt, type Anvil } from './anvil';
export { runCast } from './cast';
export { foundryBinary } from './binaries';
export { ANVIL_CHAIN_ID, DEV_ACCOUNTS, DEV_MNEMONIC } from './dev-accounts';
