// npm run policy: validates a signing policy, and explains its decision for a transaction.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chainIdFromNetwork } from '../../lambdas/runtime/chains';
import { toCheckResponse, toPolicyRequest } from '../../lambdas/operations/policy-gate';
import { evaluatePolicy, loadPolicy, PolicyValidationError, type CompiledPolicy, type PolicyDecision } from '../../lambdas/policy';
import { InvalidRequestError, parseSignerEvent } from '../../lambdas/events/request';
import { userPath } from '../import-key/cli-io';
import { chainCoverage } from './chain-coverage';

/** The exit codes of npm run policy (also in its --help and the README). */
export const POLICY_EXIT = { ok: 0, invalidPolicy: 1, usage: 2, denied: 3 } as const;

export const POLICY_USAGE = `Usage:
  npm run policy -- check POLICY.json             validate a signing policy (schema and meaning); with
                                                  --network, also that some allow rule can match that chain
  npm run policy -- explain POLICY.json TX.json   the policy's decision for a transaction, and why

Relative paths are relative to the directory you ran npm in.
TX.json is a signer event ({"operation":"sign","transaction":{...}}) or just its transaction object, as
the Lambdas accept it; gasPrice selects the legacy signer, otherwise the EIP-1559 signer.

Options:
  --network NAME|ID   the chain the signer is configured for (ETH_NETWORK); default: the transaction's chainId
  --json              print the decision as the check operation returns it
  --help              this text

Exit codes: 0 valid policy / transaction allowed; 1 invalid policy (each problem with its JSON path);
2 usage, unreadable file or invalid transaction; 3 transaction denied, or (check --network) no allow rule
can match that chain, so the signer would deny every transaction there.
`;

/** Where the CLI writes; tests capture it. */
export interface PolicyCliIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: PolicyCliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

class UsageError extends Error {}

/** Runs the CLI; returns its exit code. */
export function main(argv: readonly string[], io: PolicyCliIo = processIo): number {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { network: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    });
    if (values.help) {
      io.out(POLICY_USAGE);
      return POLICY_EXIT.ok;
    }
    const [command, policyFile, txFile, ...extra] = positionals;
    if (command === 'check' && policyFile && !txFile) {
      const policy = readPolicy(policyFile);
      io.out(`${policyFile}: valid signing policy (${policy.allowRules.length} allow rule${policy.allowRules.length === 1 ? '' : 's'}, ${policy.denyRules.length} deny rule${policy.denyRules.length === 1 ? '' : 's'})`);
      if (policy.unrestrictedAllowRules.length > 0) {
        const ids = policy.unrestrictedAllowRules.slice(0, 5).map((id) => `"${id}"`).join(', ');
        io.out(`warning: it allows ANY ${policy.allowsEverything ? 'transaction' : 'transfer or call'} (allow rule ${ids} has no condition on recipient, value or data: to, maxValue, selector, calls or maxDataBytes); the signer logs a WARN on every cold start`);
      }
      if (values.network === undefined) return POLICY_EXIT.ok;
      const chainId = networkChainId(values.network);
      const { matching, otherChains } = chainCoverage(policy.document, chainId);
      if (matching.length > 0) {
        io.out(`on chain ${chainId} (--network ${values.network}): ${matching.length} allow rule${matching.length === 1 ? '' : 's'} can match (${matching.join(', ')})`);
        return POLICY_EXIT.ok;
      }
      io.err(
        `warning: no allow rule can match chain ${chainId} (--network ${values.network}): a signer with ETH_NETWORK=${values.network} ` +
          `would deny every transaction. The allow rules name ${otherChains.length > 0 ? `chain${otherChains.length === 1 ? '' : 's'} ${otherChains.join(', ')}` : 'no chain'}; ` +
          'add this chain id to a rule\'s chainId, or deploy with the network the policy was written for.',
      );
      return POLICY_EXIT.denied;
    }
    if (command === 'explain' && policyFile && txFile && extra.length === 0) {
      const policy = readPolicy(policyFile);
      const decision = explain(policy, readJson(txFile, 'transaction'), values.network);
      if (values.json) io.out(JSON.stringify(toCheckResponse(decision), null, 2));
      else io.out(formatDecision(decision));
      return decision.allowed ? POLICY_EXIT.ok : POLICY_EXIT.denied;
    }
    throw new UsageError('expected "check POLICY.json" or "explain POLICY.json TX.json"');
  } catch (error) {
    if (error instanceof PolicyValidationError) {
      io.err(`invalid signing policy (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`);
      for (const issue of error.issues) io.err(`  ${issue.path} ${issue.problem}`);
      return POLICY_EXIT.invalidPolicy;
    }
    if (error instanceof InvalidRequestError) {
      io.err(`invalid transaction: ${error.issues.map((issue) => `${issue.field} ${issue.problem}`).join('; ')}`);
      return POLICY_EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`npm run policy: ${message}${error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? `\n\n${POLICY_USAGE}` : ''}`);
    return POLICY_EXIT.usage;
  }
}

function readPolicy(file: string): CompiledPolicy {
  return loadPolicy(readText(file, 'policy'));
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(userPath(file), 'utf8'); // relative to where npm was run, as the other commands
  } catch (error) {
    throw new Error(`cannot read the ${what} file ${file.slice(0, 200)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readText(file, what)) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) throw new Error(`the ${what} file ${file.slice(0, 200)} is not valid JSON: ${error.message.slice(0, 200)}`);
    throw error;
  }
}

/** The decision for a transaction file's content, validated exactly as the Lambdas validate events. */
function explain(policy: CompiledPolicy, content: unknown, network: string | undefined): PolicyDecision {
  const record = typeof content === 'object' && content !== null && !Array.isArray(content) ? (content as Record<string, unknown>) : {};
  const event = Object.hasOwn(record, 'transaction') ? { ...record, operation: 'check' } : { operation: 'check', transaction: content };
  const transaction = (event as { transaction?: unknown }).transaction;
  const tx = typeof transaction === 'object' && transaction !== null ? (transaction as Record<string, unknown>) : {};
  const kind = Object.hasOwn(tx, 'gasPrice') ? 'legacy' : 'eip1559';
  const chainText = network ?? (Object.hasOwn(tx, 'chainId') ? String(tx.chainId) : undefined);
  if (chainText === undefined) throw new UsageError('the transaction has no chainId: give the signer\'s chain with --network NAME|ID');
  const chainId = networkChainId(chainText);
  const request = parseSignerEvent(event, kind, chainId);
  if (request.operation === 'status') throw new UsageError('the event is a status request, not a transaction');
  return evaluatePolicy(policy, toPolicyRequest(request.transaction, chainId, request.replayProtection));
}

// --network NAME|ID (or a transaction's chainId, which may be hex) as a chain id.
function networkChainId(chainText: string): bigint {
  const chainId = /^0x[0-9a-fA-F]+$/.test(chainText) ? BigInt(chainText) : chainIdFromNetwork(chainText);
  if (chainId === undefined) throw new UsageError(`--network "${chainText.slice(0, 80)}" is neither a known chain name nor a decimal chain id`);
  return chainId;
}

/** The decision in a few readable lines. */
export function formatDecision(decision: PolicyDecision): string {
  if (decision.allowed) {
    const charges = decision.charges.map(({ limit, amount }) => {
      const units = limit.asset === 'native' ? 'wei' : `base units of token ${limit.asset}`;
      return `  counts 1 signature${limit.maxAmount === undefined ? '' : ` and ${amount} ${units}`} against limit ${limit.id}`;
    });
    return [`ALLOWED by rule "${decision.ruleId}"`, ...charges].join('\n');
  }
  if (decision.ruleId !== undefined) return `DENIED by rule "${decision.ruleId}": ${decision.reason}`;
  return [
    'DENIED: no rule allowed the transaction',
    ...decision.closest.flatMap((miss) => [`  closest rule "${miss.ruleId}" failed:`, ...miss.failed.map((failure) => `    ${failure.condition}: ${failure.reason}`)]),
  ].join('\n');
}
