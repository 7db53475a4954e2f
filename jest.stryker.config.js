// Jest settings for mutation testing (npm run mutate). The normal config's `roots: ['<rootDir>/test']`
// keeps lambdas/ out of Jest's module map, so Stryker's related-test lookup (jest --findRelatedTests)
// finds no test for a mutated source file; here the sources are roots too, and only the unit tests of
// lambdas/ run, with the adversarial suites that drive the policy engine in-process (the end-to-end suites
// start servers and would make each mutant take seconds).
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ['<rootDir>/lambdas', '<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/lambdas/**/*.test.ts',
    '<rootDir>/test/adversarial/approvals-and-permits.test.ts',
    '<rootDir>/test/adversarial/non-canonical-calldata.test.ts',
    '<rootDir>/test/adversarial/duplicate-keys.test.ts',
  ],
};
