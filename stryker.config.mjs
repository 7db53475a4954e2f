// Mutation testing of the signing core, the event parser and the policy engine: `npm run mutate`.
// Incremental: the report of the last run (reports/stryker-incremental.json, committed) lets a re-run
// test only the mutants whose code or covering tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.stryker.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  // ts-jest only transpiles (diagnostics off), so mutants need no @ts-nocheck; and adding it would change
  // the generated policy validator, whose up-to-date test compares the file byte for byte.
  disableTypeChecks: false,
  // Every module of the Lambdas, except generated code and type declarations.
  mutate: [
    'lambdas/**/*.ts',
    '!lambdas/policy/schema-validator.ts',
    '!lambdas/events/schema-validator.ts',
    '!lambdas/types/**',
  ],
  // Static mutants (module-level tables, evaluated once at import) need the whole test set per mutant and
  // took 70% of the run time for a quarter of the mutants; they are reported as ignored.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 95, low: 85, break: null },
  timeoutMS: 10000,
};
