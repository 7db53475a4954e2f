// Entry point of `npm run recovery-keypair`.
import { recoveryKeypairCommand } from './recovery/keypair-command';

process.exitCode = await recoveryKeypairCommand(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
