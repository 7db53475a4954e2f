// Compiles Solidity for the end-to-end tests with solc from npm (solc-js 0.8.28), resolving imports of
// @openzeppelin/contracts from node_modules. Compiled output is kept in memory for the rest of the run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { InterfaceAbi } from 'ethers';

/** A compiled contract: what ethers' ContractFactory needs. */
export interface CompiledContract {
  readonly abi: InterfaceAbi;
  readonly bytecode: string;
}

interface SolcOutput {
  errors?: Array<{ severity: string; formattedMessage: string }>;
  contracts?: Record<string, Record<string, { abi: InterfaceAbi; evm: { bytecode: { object: string } } }>>;
}

const requireFromRoot = createRequire(join(process.cwd(), 'package.json'));
const cache = new Map<string, Map<string, CompiledContract>>();

/** Compiles one source file (its imports resolved from node_modules) and returns its contracts by name. */
export function compileSolidity(source: string): Map<string, CompiledContract> {
  const cached = cache.get(source);
  if (cached) return cached;
  const solc = requireFromRoot('solc') as { compile(input: string, options: { import: (path: string) => { contents: string } | { error: string } }): string };
  const input = {
    language: 'Solidity',
    sources: { 'Test.sol': { content: source } },
    settings: { optimizer: { enabled: false }, evmVersion: 'cancun', outputSelection: { 'Test.sol': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const findImport = (path: string) => {
    try {
      return { contents: readFileSync(requireFromRoot.resolve(path), 'utf8') };
    } catch {
      return { error: `import not found: ${path}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const contracts = new Map<string, CompiledContract>();
  for (const [name, contract] of Object.entries(output.contracts?.['Test.sol'] ?? {})) {
    contracts.set(name, { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` });
  }
  cache.set(source, contracts);
  return contracts;
}
