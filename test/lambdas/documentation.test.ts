// The README documents what the Lambdas can answer and read: every error type and every environment variable.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = readFileSync('README.md', 'utf8');
const section = (title: string) => README.split(/^#{2,3} /m).find((part) => part.startsWith(`${title}\n`)) ?? '';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [readFileSync(join(dir, entry.name), 'utf8')] : [],
  );
}
const lambdaSources = sources('lambdas').join('\n');

describe('README', () => {
  // Errors that never reach a caller, and why.
  const internal = new Map([
    ['PolicyValidationError', 'policy-file.ts reports an invalid policy as ConfigurationError'],
    ['RehearsalEndedError', 'ends a cold start\'s rehearsal inside kms-client.ts, never thrown to a caller'],
  ]);
  const errorTypes = [...lambdaSources.matchAll(/override readonly name = '(\w+Error)'/g)].map((match) => match[1]!).filter((name) => !internal.has(name));

  it('finds the error types to check', () => {
    expect(errorTypes).toEqual(expect.arrayContaining(['InvalidRequestError', 'KmsUnavailableError', 'InvalidPublicKeyError']));
  });

  it.each(errorTypes)('lists %s in the error table', (name) => {
    expect(section('Errors')).toContain(`\`${name}\``);
  });

  const variables = [...new Set([...lambdaSources.matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]+)|integer\('([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1] ?? match[2]!))];

  it.each(variables)('documents the environment variable %s', (name) => {
    expect(README).toMatch(new RegExp(`\`${name}(?![A-Z0-9_])`));
  });

  it.each(['KMS_CONNECT_TIMEOUT_MS', 'KMS_REQUEST_TIMEOUT_MS', 'AWS_MAX_ATTEMPTS', 'TIMEOUT_MARGIN_MS'])('explains %s in Timeouts', (name) => {
    expect(section('Timeouts')).toContain(`\`${name}\``);
  });

  it.each(['512 KiB', '128 KiB', '1,024 entries', '21,000', '2^53-1', '4,503,599,627,370,477', '4,000 characters', '16 KB'])('lists the limit %s in Limits', (limit) => {
    expect(section('Limits')).toContain(limit);
  });
});
