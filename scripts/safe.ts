// Entry point of `npm run safe`: a Safe (1.3.0/1.4.1) transaction signed by several KMS keys through the signer
// Lambdas. `request` writes the signTypedData event each owner's Lambda signs, `hash` its SafeTx hash, and `exec`
// checks the Lambdas' responses, sorts and packs them, and writes the execTransaction call any account may send.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FetchRequest, JsonRpcProvider, getAddress } from 'ethers';
import {
  decodeWord, execTransactionData, NONCE_DATA, ownerSignatureFromResponse, packSignatures, safeTx, safeTxFromRequest, safeTxHash, safeTxSignRequest,
} from '../safe/safe-tx';

/** The --help text of npm run safe. */
const SAFE_USAGE = `Usage: npm run safe -- COMMAND [options]

Safe (1.3.0/1.4.1) transactions signed by KMS keys through the signer Lambdas.

  request --safe ADDRESS --chain-id N --to ADDRESS [--value WEI] [--data 0x...] [--operation 0|1] [--nonce N | --rpc-url URL]
      Prints the signTypedData event that each owner's signer Lambda signs (send it as the Lambda's payload).
      Without --nonce, the Safe's current nonce is read from --rpc-url.
  hash REQUEST.json
      Prints the SafeTx hash (what Safe.getTransactionHash returns and the owners sign).
  exec REQUEST.json RESPONSE.json...
      Checks that each Lambda response signs this SafeTx (EIP-712, or eth_sign of its hash) for its address,
      sorts the signatures by owner, packs them (v + 4 for eth_sign) and prints { to, data }: the Safe's
      execTransaction call, which any account may send.

Files are relative to the directory you ran npm in; - reads stdin (for one file).
`;

/** Runs `npm run safe`; resolves to the exit code (0 ok, 2 usage, 1 refused), never throws. */
async function main(argv: string[]): Promise<number> {
  try {
    process.stdout.write(`${await run(argv)}\n`);
    return 0;
  } catch (error) {
    const usage = error instanceof SafeUsageError;
    process.stderr.write(`${usage ? 'usage error' : 'error'}: ${(error as Error).message}\n${usage ? 'Run npm run safe -- --help for the options.\n' : ''}`);
    return usage ? 2 : 1;
  }
}

async function run(argv: string[]): Promise<string> {
  const { values, positionals } = parseCommandLine(argv);
  const [command, ...files] = positionals;
  if (values.help || command === undefined) return SAFE_USAGE.trimEnd();
  switch (command) {
    case 'request': {
      if (files.length > 0) throw new SafeUsageError(`request takes options only; got ${files.length} extra argument(s)`);
      const safe = address(values.safe, '--safe');
      const chainId = integer(values['chain-id'], '--chain-id');
      const nonce = values.nonce !== undefined ? integer(values.nonce, '--nonce') : await readNonce(safe, values['rpc-url']);
      const operation = values.operation === undefined ? 0 : Number(integer(values.operation, '--operation'));
      if (operation !== 0 && operation !== 1) throw new SafeUsageError('--operation must be 0 (CALL) or 1 (DELEGATECALL)');
      const data = values.data ?? '0x';
      if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(data)) throw new SafeUsageError('--data must be 0x-prefixed hex with an even number of digits');
      const tx = safeTx({ to: address(values.to, '--to'), value: values.value === undefined ? 0n : integer(values.value, '--value'), data, operation, nonce });
      return JSON.stringify(safeTxSignRequest(safe, chainId, tx), null, 2);
    }
    case 'hash': {
      if (files.length !== 1) throw new SafeUsageError('hash takes one REQUEST.json');
      const { safe, chainId, tx } = safeTxFromRequest(readJson(files[0]!));
      return safeTxHash(safe, chainId, tx);
    }
    case 'exec': {
      if (files.length < 2) throw new SafeUsageError('exec takes REQUEST.json and at least one RESPONSE.json');
      const { safe, chainId, tx } = safeTxFromRequest(readJson(files[0]!));
      const hash = safeTxHash(safe, chainId, tx);
      const signatures = packSignatures(files.slice(1).map((file) => ownerSignatureFromResponse(hash, readJson(file))));
      return JSON.stringify({ to: safe, data: execTransactionData(tx, signatures), safeTxHash: hash, signatures }, null, 2);
    }
    default:
      throw new SafeUsageError(`unknown command ${JSON.stringify(command.slice(0, 40))}; commands: request, hash, exec`);
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        safe: { type: 'string' }, 'chain-id': { type: 'string' }, to: { type: 'string' }, value: { type: 'string' }, data: { type: 'string' },
        operation: { type: 'string' }, nonce: { type: 'string' }, 'rpc-url': { type: 'string' }, help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new SafeUsageError((error as Error).message);
  }
}

function address(value: string | undefined, option: string): string {
  if (value === undefined) throw new SafeUsageError(`${option} is required`);
  try {
    return getAddress(value);
  } catch {
    throw new SafeUsageError(`${option} must be an address (0x and 40 hex digits, checksummed if mixed-case)`);
  }
}

function integer(value: string | undefined, option: string): bigint {
  if (value === undefined) throw new SafeUsageError(`${option} is required`);
  if (!/^(0|[1-9][0-9]{0,77})$/.test(value)) throw new SafeUsageError(`${option} must be a non-negative decimal integer`);
  return BigInt(value);
}

async function readNonce(safe: string, rpcUrl: string | undefined): Promise<bigint> {
  if (rpcUrl === undefined) throw new SafeUsageError('give --nonce N, or --rpc-url URL to read the Safe\'s nonce');
  const request = new FetchRequest(rpcUrl);
  request.timeout = 10_000;
  const provider = new JsonRpcProvider(request, undefined, { staticNetwork: true });
  try {
    return decodeWord(await provider.call({ to: safe, data: NONCE_DATA }));
  } finally {
    provider.destroy();
  }
}

function readJson(file: string): unknown {
  const path = file === '-' ? 0 : isAbsolute(file) ? file : resolve(process.env.INIT_CWD ?? process.cwd(), file);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${file === '-' ? 'stdin' : file} as JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** The command line is wrong; nothing was done. */
class SafeUsageError extends Error {
  override readonly name = 'SafeUsageError';
}

process.exitCode = await main(process.argv.slice(2));
