// Entry point of `npm run recover`.
import { recoverCommand } from './recovery/recover-command';

process.exitCode = await recoverCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
