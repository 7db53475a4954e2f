// Entry point of `npm run address`: everything else is in scripts/import-key/address-cli.ts (importable by tests).
import { main } from './import-key/address-cli';

// The SDK's Node 20 end-of-support notice is not the user's problem here, and buries the command's own output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2));
