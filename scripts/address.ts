// Entry point of `npm run address`: everything else is in scripts/import-key/address-cli.ts (importable by tests).
import { main } from './import-key/address-cli';

process.exitCode = await main(process.argv.slice(2));
