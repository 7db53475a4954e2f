// Entry point of `npm run policy`: everything else is in scripts/policy/cli.ts (importable by tests).
import { main } from './policy/cli';

process.exitCode = main(process.argv.slice(2));
