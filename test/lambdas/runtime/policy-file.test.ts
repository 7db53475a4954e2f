import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as load from '../../../lambdas/policy/load';
import { transformSync } from 'esbuild';
import { BUILT_POLICY_SHA256, loadSigningPolicy, STAGED_POLICY_SHA256_FILE } from '../../../lambdas/runtime/policy-file';

describe('loadSigningPolicy', () => {
  const root = mkdtempSync(join(tmpdir(), 'task-root-'));
  writeFileSync(join(root, 'policy.json'), JSON.stringify({ version: 1, rules: [{ id: 'in-package', effect: 'allow', maxValue: '0' }] }));
  /** The SHA-256 a bundle built for the file named would carry (undefined when there is no such file to read). */
  const builtFor = (name: string): string | undefined => {
    try {
      return createHash('sha256').update(readFileSync(join(root, name.trim()))).digest('hex');
    } catch {
      return undefined;
    }
  };
  /** Loads as a function deployed from `root` whose bundle was built for that very file. */
  const inPackage = (name: string) => loadSigningPolicy({ SIGNING_POLICY_FILE: name, LAMBDA_TASK_ROOT: root }, builtFor(name));

  it('reads a relative SIGNING_POLICY_FILE from the deployment package (LAMBDA_TASK_ROOT), as deployed by CDK', () => {
    const { policy, file } = inPackage('policy.json');
    expect(file).toBe('policy.json');
    expect(policy.allowRules.map((rule) => rule.id)).toEqual(['in-package']);
  });

  it('reads a relative path from the working directory outside Lambda, and an absolute path as is', () => {
    expect(loadSigningPolicy({ SIGNING_POLICY_FILE: 'examples/policies/allow-all.json' }).policy.allowsEverything).toBe(true);
    expect(loadSigningPolicy({ SIGNING_POLICY_FILE: join(root, 'policy.json') }).policy.allowsEverything).toBe(false);
  });

  it('refuses a file larger than 4 MiB without parsing it', () => {
    writeFileSync(join(root, 'huge.json'), ' '.repeat(4 * 1024 * 1024 + 1));
    expect(() => inPackage('huge.json')).toThrow(/at most 4194304 are accepted/);
  });

  it('says how to add a policy when none is set, and never loads a default', () => {
    expect(() => loadSigningPolicy({})).toThrow(expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(/SIGNING_POLICY_FILE is not set: every signer needs a signing policy .*examples\/policies\/allow-all\.json signs anything/) }));
    expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: '   ' })).toThrow(/SIGNING_POLICY_FILE is not set/);
  });

  it('accepts a policy of exactly 4 MiB', () => {
    const json = JSON.stringify({ version: 1, rules: [{ id: 'big', effect: 'allow' }] });
    writeFileSync(join(root, 'big.json'), json.padEnd(4 * 1024 * 1024, ' '));
    expect(inPackage('big.json').policy.allowRules.map((rule) => rule.id)).toEqual(['big']);
  });

  it('trims spaces around the file name', () => {
    expect(inPackage(' policy.json\n').file).toBe('policy.json');
  });

  it('says which file cannot be read and why, and how to add a policy', () => {
    expect(() => inPackage('missing.json')).toThrow(expect.objectContaining({
      name: 'ConfigurationError',
      message: expect.stringMatching(/^The signer is misconfigured: SIGNING_POLICY_FILE missing\.json cannot be read \(ENOENT\): every signer needs a signing policy/),
    }));
    expect(() => inPackage('.')).toThrow(/SIGNING_POLICY_FILE \. cannot be read \(EISDIR\)/);
  });

  it('quotes at most 200 characters of the file name', () => {
    const name = `${'d'.repeat(200)}e.json`;
    expect(() => inPackage(name)).toThrow(new RegExp(`SIGNING_POLICY_FILE ${'d'.repeat(200)} cannot be read`));
  });

  it('quotes at most 200 characters of the file name when refusing a file too large or an invalid policy', () => {
    const folder = 'd'.repeat(200);
    mkdirSync(join(root, folder));
    writeFileSync(join(root, folder, 'huge.json'), ' '.repeat(4 * 1024 * 1024 + 1));
    writeFileSync(join(root, folder, 'bad.json'), JSON.stringify({ version: 1 }));
    expect(() => inPackage(`${folder}/huge.json`)).toThrow(`SIGNING_POLICY_FILE ${folder} is 4194305 bytes`);
    expect(() => inPackage(`${folder}/bad.json`)).toThrow(`SIGNING_POLICY_FILE ${folder} is not a valid signing policy`);
  });

  it('lets a failure of the policy engine itself through as it is, not as a problem of the policy', () => {
    const bug = new TypeError('cannot read properties of undefined');
    const loadPolicy = jest.spyOn(load, 'loadPolicy').mockImplementation(() => {
      throw bug;
    });
    try {
      expect(() => inPackage('policy.json')).toThrow(bug);
      expect(loadPolicy).toHaveBeenCalledTimes(1);
    } finally {
      loadPolicy.mockRestore();
    }
  });

  it('refuses an invalid policy with the policy\'s problems, so that nothing is signed', () => {
    writeFileSync(join(root, 'bad.json'), JSON.stringify({ version: 1 }));
    expect(() => inPackage('bad.json')).toThrow(expect.objectContaining({
      name: 'ConfigurationError',
      message: 'The signer is misconfigured: SIGNING_POLICY_FILE bad.json is not a valid signing policy, so nothing will be signed: Invalid signing policy (1 problem): $.rules is required. Fix the function\'s environment variables.',
    }));
  });

  describe('in Lambda (LAMBDA_TASK_ROOT set): the start-up self-check, defense in depth (the guard SCP is the control)', () => {
    const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    const outside = mkdtempSync(join(tmpdir(), 'layer-'));
    writeFileSync(join(outside, 'allow-all.json'), JSON.stringify({ version: 1, rules: [{ id: 'everything', effect: 'allow' }] }));

    it('loads the policy the bundle was built for', () => {
      expect(loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: root }, sha256(join(root, 'policy.json'))).policy.allowRules.map((rule) => rule.id)).toEqual(['in-package']);
    });

    it('refuses a policy file whose SHA-256 differs from the one baked into the bundle, naming both', () => {
      const expected = 'ab'.repeat(32);
      expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: root }, expected)).toThrow(
        expect.objectContaining({
          name: 'ConfigurationError',
          message: expect.stringContaining(`SIGNING_POLICY_FILE policy.json has SHA-256 ${sha256(join(root, 'policy.json'))}, but this bundle was built for the policy with SHA-256 ${expected}: rebuild with SIGNING_POLICY_FILE=`),
        }),
      );
    });

    it.each([
      ['an absolute path outside the package (a layer\'s /opt)', () => join(outside, 'allow-all.json')],
      ['a relative path that climbs out of it', () => `../${outside.split('/').pop()}/allow-all.json`],
    ])('refuses %s', (_label, name) => {
      const rootInTmp = mkdtempSync(join(tmpdir(), 'task-root-'));
      expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: name(), LAMBDA_TASK_ROOT: rootInTmp }, undefined)).toThrow(
        expect.objectContaining({ name: 'ConfigurationError', message: expect.stringMatching(/is outside the deployment package .*: only the policy shipped with the code is accepted/) }),
      );
    });

    it('refuses a package that carries no hash of its policy (no policy.sha256) when the bundle was built for no policy', () => {
      expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: root }, undefined)).toThrow(
        expect.objectContaining({
          name: 'ConfigurationError',
          message: expect.stringContaining('SIGNING_POLICY_FILE policy.json cannot be checked: the deployment package has no policy.sha256 and this bundle was built for no policy'),
        }),
      );
    });

    it('refuses a link inside the package that points out of it', () => {
      const linked = mkdtempSync(join(tmpdir(), 'task-root-'));
      symlinkSync(join(outside, 'allow-all.json'), join(linked, 'policy.json'));
      expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: linked }, undefined)).toThrow(/is outside the deployment package/);
    });

    describe('the SHA-256 staged at synth beside policy.json (policy.sha256, written by infra/signer-function.ts)', () => {
      const staged = (policy: string, hash: string) => {
        const dir = mkdtempSync(join(tmpdir(), 'task-root-'));
        writeFileSync(join(dir, 'policy.json'), policy);
        writeFileSync(join(dir, 'other.json'), JSON.stringify({ version: 1, rules: [{ id: 'everything', effect: 'allow' }] }));
        writeFileSync(join(dir, STAGED_POLICY_SHA256_FILE), `${hash}\n`);
        return dir;
      };
      const policy = JSON.stringify({ version: 1, rules: [{ id: 'staged', effect: 'allow', maxValue: '0' }] });
      const policyHash = createHash('sha256').update(policy).digest('hex');

      it('loads the policy whose hash the synth staged, in a bundle built for no policy (the package\'s prebuilt bundles)', () => {
        expect(loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: staged(policy, policyHash) }, undefined).policy.allowRules.map((rule) => rule.id)).toEqual(['staged']);
      });

      it('refuses another file of the package whose SHA-256 differs from the staged one, naming both', () => {
        const dir = staged(policy, policyHash);
        expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'other.json', LAMBDA_TASK_ROOT: dir }, undefined)).toThrow(
          expect.objectContaining({
            name: 'ConfigurationError',
            message: expect.stringContaining(`SIGNING_POLICY_FILE other.json has SHA-256 ${sha256(join(dir, 'other.json'))}, but the policy staged with this function at synth (policy.sha256) has SHA-256 ${policyHash}`),
          }),
        );
      });

      it('refuses a policy.json that differs from the staged hash', () => {
        expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: staged(policy, 'ab'.repeat(32)) }, undefined)).toThrow(/has SHA-256 [0-9a-f]{64}, but the policy staged with this function at synth/);
      });

      it('refuses when the staged hash and the hash baked into the bundle disagree, even if the file matches one of them', () => {
        expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: staged(policy, policyHash) }, 'cd'.repeat(32))).toThrow(/this bundle was built for the policy with SHA-256 cdcd/);
      });

      it('refuses a staged file that is not a hex SHA-256', () => {
        expect(() => loadSigningPolicy({ SIGNING_POLICY_FILE: 'policy.json', LAMBDA_TASK_ROOT: staged(policy, 'not-a-hash') }, undefined)).toThrow(
          expect.objectContaining({ name: 'ConfigurationError', message: expect.stringContaining('policy.sha256 in the deployment package is not a hex SHA-256') }),
        );
      });
    });

    it('accepts an absolute path inside the package', () => {
      expect(loadSigningPolicy({ SIGNING_POLICY_FILE: join(root, 'policy.json'), LAMBDA_TASK_ROOT: root }, builtFor('policy.json')).policy.allowsEverything).toBe(false);
    });
  });

  it('has no baked policy hash outside a build for a policy (tests, and builds without SIGNING_POLICY_FILE)', () => {
    expect(BUILT_POLICY_SHA256).toBeUndefined();
  });

  it('gets the hash from the build\'s esbuild define (scripts/build.ts), as a string constant', () => {
    const hash = 'cd'.repeat(32);
    const source = readFileSync(join(__dirname, '../../../lambdas/runtime/policy-file.ts'), 'utf8');
    const built = transformSync(source, { loader: 'ts', format: 'esm', define: { __SIGNING_POLICY_SHA256__: JSON.stringify(hash) } }).code;
    expect(built).toContain(`const BUILT_POLICY_SHA256 = true ? "${hash}" : void 0;`);
  });
});
