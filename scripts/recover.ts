// Entry point of `npm run recover`.
import { recoverCommand } from './recovery/recover-command';

// The SDK's Node 20 end-of-support notice is not the user's problem here, and buries the command's own output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await recoverCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
