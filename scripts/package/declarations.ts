// The package's declarations: .d.ts for ESM consumers and .d.cts for CommonJS ones, resolvable by Node's rules.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { TYPES_DIR, type PackageEntry } from './entries';

/**
 * Emits declarations for the entries (and what they import), then makes them resolvable by Node's rules:
 * relative specifiers get `.js` in the .d.ts files (ESM) and `.cjs` in the .d.cts copies (CommonJS), which
 * TypeScript maps back to the declarations beside them.
 */
export function declarations(entries: readonly PackageEntry[]): void {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noUncheckedIndexedAccess: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    types: ['node'],
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    rootDir: '.',
    outDir: TYPES_DIR,
  };
  // The repository's own declarations for untyped dependencies (asn1.js) are part of the program, not emitted.
  const program = ts.createProgram([...entries.map((entry) => entry.source), 'lambdas/types/asn1.js.d.ts'], options);
  const result = program.emit();
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (problems.length > 0) {
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
    throw new Error(`The package's declarations did not compile:\n${ts.formatDiagnostics(problems, host)}`);
  }
  for (const file of walk(TYPES_DIR).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, withExtensions(text, file, '.js'));
    writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), withExtensions(text, file, '.cjs'));
  }
}

/** Rewrites the relative specifiers of a declaration file (`'./der'`, `'../signer'`) to name a file. */
export function withExtensions(text: string, file: string, extension: '.js' | '.cjs'): string {
  return text.replace(/(from\s+|import\(\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (_match, lead: string, quote: string, specifier: string) => {
    const target = join(dirname(file), specifier);
    const resolved = existsSync(`${target}.d.ts`) ? `${specifier}${extension}` : existsSync(join(target, 'index.d.ts')) ? `${specifier}/index${extension}` : undefined;
    if (!resolved) throw new Error(`${relative('.', file)}: cannot resolve the declaration import ${specifier}`);
    return `${lead}${quote}${resolved}${quote}`;
  });
}

function walk(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
