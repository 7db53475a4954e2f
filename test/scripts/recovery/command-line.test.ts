// How the recovery commands read their command line: values, or an exit code with what to print.
import { parseCommandArgs } from '../../../scripts/recovery/command-line';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const OPTIONS = { out: { type: 'string' }, der: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } as const;
const USAGE = 'Usage: npm run example -- --out FILE [--der]';

/** parseCommandArgs with what it prints captured. */
function parse(argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const result = parseCommandArgs(argv, OPTIONS, USAGE, { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t) });
  return { result, ...out };
}

describe('parseCommandArgs', () => {
  it('returns the option values, defaults filled in, printing nothing', () => {
    expect(parse(['--out', 'key.hex'])).toEqual({ result: { out: 'key.hex', der: false, help: false }, stdout: '', stderr: '' });
  });

  it('prints the usage on stdout and gives exit code 0 for --help', () => {
    expect(parse(['--help', '--out', 'x'])).toEqual({ result: 0, stdout: `${USAGE}\n`, stderr: '' });
  });

  it('gives exit code 2 for an unknown option or a positional, with the problem and the usage on stderr', () => {
    for (const argv of [['--nope'], ['--out', 'x', 'stray']]) {
      const { result, stdout, stderr } = parse(argv);
      expect(result).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^\S.*\n\nUsage: npm run example/);
    }
  });

  it('refuses a value that looks like a private key before parsing, without printing it (exit code 2)', () => {
    const key = KNOWN_KEYS[0].privateKey;
    const { result, stderr } = parse(['--out', key, '--help']);
    expect(result).toBe(2);
    expect(stderr).toMatch(/^error: The value given to --out looks like a private key/);
    expect(stderr).toContain(USAGE);
    expect(stderr).not.toContain(key.slice(2, 30));
  });
});
