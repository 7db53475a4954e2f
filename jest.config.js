// Tests run as CommonJS through ts-jest (transpile only; `npm run typecheck` does the type checking),
// so source files must not use `import.meta`: entry points locate files from process.cwd().
import { availableParallelism } from 'node:os';

/** @type {import('jest').Config} */
export default {
  // Many specs wait on child processes (anvil, the local KMS, the CLIs): two workers per core keep the cores
  // busy, and keep the suite's share of a machine that other work also loads (Jest's default is cores - 1).
  maxWorkers: Math.min(8, 2 * availableParallelism()),
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: { module: 'commonjs', moduleResolution: 'node10', verbatimModuleSyntax: false },
        diagnostics: false,
      },
    ],
  },
  testTimeout: 30000,
};
