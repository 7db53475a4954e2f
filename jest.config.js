// Tests run as CommonJS through ts-jest (transpile only; `npm run typecheck` does the type checking),
// so source files must not use `import.meta`: entry points locate files from process.cwd().
/** @type {import('jest').Config} */
export default {
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
