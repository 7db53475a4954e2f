// Entry point of `npm run import-key`: everything else is in scripts/import-key/cli.ts (importable by tests).
import { main } from './import-key/cli';

process.exitCode = await main(process.argv.slice(2));
