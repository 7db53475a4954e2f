// The two built signer bundles (npm run build) served as local Lambda functions behind the Invoke API, configured
// for the local stack's KMS key, chain and (when it runs) policy table.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startInvokeEndpoint, type LocalInvokeEndpoint } from './invoke-endpoint';
import { LocalFunction } from './local-function';
import type { LocalStack } from './stack';
import { SIGNER_NODE_OPTIONS } from '../../lambdas/runtime/config';

/** The signer kinds, each one bundle (dist/<kind>/index.mjs) and one function. */
export const SIGNER_KINDS = ['eip1559', 'legacy'] as const;
export type SignerKindName = (typeof SIGNER_KINDS)[number];

/** The function name prefix of the deployed stack (infra/context.ts), so that local and deployed names match. */
export const LOCAL_FUNCTION_PREFIX = 'eth-signer';

/** The local function name of a signer kind: eth-signer-eip1559 or eth-signer-legacy. */
export function signerFunctionName(kind: SignerKindName): string {
  return `${LOCAL_FUNCTION_PREFIX}-${kind}`;
}

/** How to run the local signer functions. */
export interface SignerFunctionsOptions {
  /** The KMS key the functions sign with (KMS_KEY_ID). */
  readonly keyId: string;
  /** The signing policy file (SIGNING_POLICY_FILE). */
  readonly policyFile: string;
  /** The Invoke endpoint's port (default 0: a free one). */
  readonly port?: number;
  /** Where the bundles are (default dist). */
  readonly distDir?: string;
  /** Each function's timeout in ms (default 10 s, as deployed). */
  readonly timeoutMs?: number;
  /** Where the functions' logs go (default: this process's output). */
  readonly logs?: 'inherit' | 'ignore';
  /** More environment variables for both functions (LOG_LEVEL, ALLOW_PRE_EIP155, IDEMPOTENCY_WINDOW_SECONDS, …). */
  readonly environment?: Readonly<Record<string, string>>;
  /** The Node.js binary both functions run on (default: this process's). */
  readonly nodeBinary?: string;
}

/** Starts the Invoke endpoint with both signer functions, each in its own process. */
export async function startSignerFunctions(stack: LocalStack, options: SignerFunctionsOptions): Promise<LocalInvokeEndpoint> {
  const distDir = options.distDir ?? 'dist';
  const missing = SIGNER_KINDS.map((kind) => join(distDir, kind, 'index.mjs')).filter((bundle) => !existsSync(bundle));
  if (missing.length > 0) throw new Error(`${missing.join(' and ')} not found: run npm run build first (npm run local does)`);
  const environment: Record<string, string> = {
    ...stack.awsEnv,
    KMS_KEY_ID: options.keyId,
    ETH_NETWORK: String(stack.anvil.chainId),
    SIGNING_POLICY_FILE: resolve(options.policyFile),
    ...(stack.dynamodb && { POLICY_TABLE_NAME: stack.dynamodb.tableName }),
    // As the stack sets it (infra/signer-function.ts): the function refuses any other NODE_OPTIONS in Lambda.
    NODE_OPTIONS: SIGNER_NODE_OPTIONS,
    // The SDK's Node 20 end-of-support notice would only clutter the logs.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.environment,
  };
  const functions = SIGNER_KINDS.map(
    (kind) =>
      new LocalFunction({
        name: signerFunctionName(kind),
        bundle: join(distDir, kind, 'index.mjs'),
        environment,
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        ...(options.logs !== undefined && { logs: options.logs }),
        ...(options.nodeBinary !== undefined && { nodeBinary: options.nodeBinary }),
      }),
  );
  return startInvokeEndpoint(functions, { ...(options.port !== undefined && { port: options.port }) });
}
