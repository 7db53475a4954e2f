// npm runs scripts in the repository root, so a bare file name given to a command that writes a key lands in
// this repository's working tree, one `git add .` away from being pushed. Such writes need a git-ignored path.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SignerError } from '../../lambdas/signer/errors';

/**
 * Refuses to write key material to `path` (absolute) when it lies inside a git working tree and git does not
 * ignore it. A tree git cannot be asked about (git missing or failing) is refused too: fail closed.
 */
export function refuseUnignoredKeyFile(path: string, option: string, what = 'a private key'): void {
  const file = resolve(path);
  const dir = nearestExistingDir(dirname(file));
  const tree = workingTreeOf(dir);
  if (tree === undefined) return;
  if (tree.root === undefined) throw new KeyFileInWorkingTreeError(option, file, what, tree.repository, 'git could not be asked whether the path is ignored');
  let ignored: boolean;
  try {
    execFileSync('git', ['-C', tree.root, 'check-ignore', '-q', '--no-index', '--', file], { stdio: 'ignore' });
    ignored = true;
  } catch (error) {
    // Exit 1: not ignored. Anything else (128, a missing git): unknown, so refused too.
    if ((error as { status?: number }).status !== 1) throw new KeyFileInWorkingTreeError(option, file, what, tree.root, 'git could not be asked whether the path is ignored');
    ignored = false;
  }
  if (!ignored) throw new KeyFileInWorkingTreeError(option, file, what, tree.root);
}

function nearestExistingDir(dir: string): string {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

// The working tree holding `dir`: its root as git reports it, or only the folder with .git when git cannot say.
function workingTreeOf(dir: string): { root?: string; repository: string } | undefined {
  try {
    const inside = execFileSync('git', ['-C', dir, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (inside !== 'true') return undefined; // inside a .git folder or a bare repository: no working tree to commit from
    const root = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { root, repository: root };
  } catch {
    // "not a git repository" (exit 128), or git missing or refusing (dubious ownership): look for .git ourselves.
    const repository = ancestorWithGit(dir);
    return repository === undefined ? undefined : { repository };
  }
}

function ancestorWithGit(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, '.git'))) return current;
    if (dirname(current) === current) return undefined;
  }
}

/** A command was asked to write key material inside a git working tree, at a path git does not ignore. */
export class KeyFileInWorkingTreeError extends SignerError {
  override readonly name = 'KeyFileInWorkingTreeError';
  constructor(option: string, file: string, what: string, repository: string, problem = 'git does not ignore that path') {
    super(
      `${option} ${file}: refusing to write ${what} inside the git working tree ${repository} (${problem}): one ` +
        '`git add .` and it is committed and pushed. Nothing was written. Write it outside any repository, in a folder ' +
        'only you can read, e.g. mkdir -m 700 ~/keys, then ' +
        `${option} ~/keys/NAME (relative paths are relative to the directory you ran npm in), or to a path that ` +
        "repository's .gitignore covers (this project ignores *.pem, *.hex, *.key, *.der, /recovery/ and /backups/).",
    );
  }
}
