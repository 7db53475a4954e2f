import { getAddress } from 'ethers';
import { ConfigurationError } from '../signer/errors';
import { chainIdFromNetwork, MAX_CHAIN_ID } from './chains';
import { DEFAULT_KMS_TIMEOUTS, type KmsTimeouts } from '../signer/kms-client';
import { DEFAULT_TIMEOUT_MARGIN_MS } from './invocation-budget';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Key id (UUID or multi-Region mrk-…), key ARN, alias/NAME, or alias ARN, as KMS accepts for Sign.
const KEY_ID_PATTERN =
  /^(?:(?:mrk-)?[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|alias\/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key\/[A-Za-z0-9-]+|alias\/[A-Za-z0-9/_-]{1,250}))$/;

/** The signer Lambda's settings, read from its environment. */
export interface SignerConfig {
  readonly keyId: string;
  readonly network: string;
  readonly chainId: bigint;
  readonly logLevel: LogLevel;
  readonly expectedAddress?: string;
  /** Sign pre-EIP-155 legacy transactions (valid on every chain) when a request asks: only if the deployment opted in. */
  readonly allowPreEip155: boolean;
  /** How long one KMS call may take (KMS_CONNECT_TIMEOUT_MS, KMS_REQUEST_TIMEOUT_MS, AWS_MAX_ATTEMPTS). */
  readonly kmsTimeouts: KmsTimeouts;
  /** Time kept back from the invocation's remaining time to answer after giving up on KMS (TIMEOUT_MARGIN_MS). */
  readonly timeoutMarginMs: number;
}

/** The NODE_OPTIONS the stack sets (infra/signer-function.ts); in Lambda, any other value is refused. */
export const SIGNER_NODE_OPTIONS = '--enable-source-maps';

// Lambda's longest timeout: no wait of one invocation can usefully be longer.
const MAX_TIMEOUT_MS = 900_000;

/** Reads and checks the settings, naming every missing or invalid variable at once. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): SignerConfig {
  const problems: string[] = [];
  const keyId = env.KMS_KEY_ID?.trim() ?? '';
  if (!keyId) problems.push('KMS_KEY_ID is not set: give the key id, key ARN, alias/NAME or alias ARN');
  else if (!KEY_ID_PATTERN.test(keyId)) {
    problems.push(`KMS_KEY_ID "${keyId}" is not a key id, key ARN, alias/NAME or alias ARN`);
  }

  const network = env.ETH_NETWORK?.trim() ?? '';
  const chainId = network ? chainIdFromNetwork(network) : undefined;
  if (!network) problems.push('ETH_NETWORK is not set: give a chain name (mainnet, sepolia, holesky, hoodi) or a decimal chain id');
  else if (chainId === undefined) {
    problems.push(`ETH_NETWORK "${network}" is neither a known chain name (mainnet, sepolia, holesky, hoodi, …) nor a decimal chain id from 1 to ${MAX_CHAIN_ID} (so that a legacy signature's v = 2·chainId + 36 stays a safe JSON integer)`);
  }

  const logLevel = (env.LOG_LEVEL?.trim() || 'INFO').toUpperCase();
  if (!isLogLevel(logLevel)) problems.push(`LOG_LEVEL "${env.LOG_LEVEL}" is not one of ${LOG_LEVELS.join(', ')}`);

  let expectedAddress: string | undefined;
  if (env.EXPECTED_ADDRESS?.trim()) {
    try {
      expectedAddress = getAddress(env.EXPECTED_ADDRESS.trim());
    } catch {
      problems.push(`EXPECTED_ADDRESS "${env.EXPECTED_ADDRESS}" is not an address (0x and 40 hex digits, with a valid EIP-55 checksum if mixed-case)`);
    }
  }

  problems.push(...runtimeTampering(env));

  const allowPre = env.ALLOW_PRE_EIP155?.trim().toLowerCase() || 'false';
  if (allowPre !== 'true' && allowPre !== 'false') problems.push(`ALLOW_PRE_EIP155 "${env.ALLOW_PRE_EIP155}" must be true or false`);
  const allowPreEip155 = allowPre === 'true';

  const integer = (name: string, fallback: number | undefined, min: number, max: number, what: string): number | undefined => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    if (/^[0-9]{1,7}$/.test(text) && Number(text) >= min && Number(text) <= max) return Number(text);
    problems.push(`${name} "${text.slice(0, 20)}" is not ${what}: give a whole number from ${min} to ${max}`);
    return fallback;
  };
  const kmsTimeouts: KmsTimeouts = {
    connectTimeoutMs: integer('KMS_CONNECT_TIMEOUT_MS', DEFAULT_KMS_TIMEOUTS.connectTimeoutMs, 1, MAX_TIMEOUT_MS, 'a connection timeout in milliseconds') ?? DEFAULT_KMS_TIMEOUTS.connectTimeoutMs,
    requestTimeoutMs: integer('KMS_REQUEST_TIMEOUT_MS', DEFAULT_KMS_TIMEOUTS.requestTimeoutMs, 1, MAX_TIMEOUT_MS, 'a request timeout in milliseconds') ?? DEFAULT_KMS_TIMEOUTS.requestTimeoutMs,
  };
  const maxAttempts = integer('AWS_MAX_ATTEMPTS', undefined, 1, 10, 'a number of attempts per KMS call');
  const timeoutMarginMs = integer('TIMEOUT_MARGIN_MS', DEFAULT_TIMEOUT_MARGIN_MS, 0, MAX_TIMEOUT_MS, 'a margin in milliseconds') ?? DEFAULT_TIMEOUT_MARGIN_MS;

  // Stryker disable next-line ConditionalExpression: type guards; each case added a problem already
  if (problems.length > 0 || chainId === undefined || !isLogLevel(logLevel)) throw new ConfigurationError(problems);
  return {
    keyId,
    network,
    chainId,
    logLevel,
    allowPreEip155,
    ...(expectedAddress && { expectedAddress }),
    kmsTimeouts: { ...kmsTimeouts, ...(maxAttempts !== undefined && { maxAttempts }) },
    timeoutMarginMs,
  };
}

/**
 * In Lambda (AWS_LAMBDA_FUNCTION_NAME set), settings that change what runs or silence the alarms without changing
 * the signed code: a NODE_OPTIONS other than the stack's (--import or --require run code before the handler) and
 * Powertools' switches that turn the custom metrics off. Defense in depth only: code that NODE_OPTIONS loads runs
 * before this check and can hide from it; the guard SCP, which denies UpdateFunctionConfiguration, is the control.
 */
function runtimeTampering(env: NodeJS.ProcessEnv): string[] {
  if (!env.AWS_LAMBDA_FUNCTION_NAME) return [];
  const problems: string[] = [];
  if ((env.NODE_OPTIONS ?? '') !== SIGNER_NODE_OPTIONS) {
    problems.push(`NODE_OPTIONS "${(env.NODE_OPTIONS ?? '').slice(0, 100)}" is not the deployment's (${SIGNER_NODE_OPTIONS}): someone changed the function's configuration outside the stack`);
  }
  for (const name of ['POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_DEV']) {
    if (env[name] !== undefined) problems.push(`${name} is set: the stack never sets it, and it would silence the signing metrics the alarms watch`);
  }
  return problems;
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
