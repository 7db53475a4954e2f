// In-process IO for the commands' main(argv, io): stdin from a buffer, stdout and stderr captured.
import type { KMSClient } from '@aws-sdk/client-kms';
import type { CliIo } from '../../../scripts/import-key/cli-io';

/** Who the captured IO says the caller is. */
export const CREATOR_ARN = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_KeyAdmin_0123456789abcdef/alice@example.com';

export interface CapturedIo {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** IO whose stdin yields `stdin` and whose KMS client comes from `client`. */
export function captureIo(stdin: string | Buffer = '', client?: () => KMSClient): CapturedIo {
  let out = '';
  let err = '';
  return {
    io: {
      stdin: (async function* () {
        if (stdin.length > 0) yield Buffer.from(stdin);
      })(),
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
      ...(client ? { kmsClient: client } : {}),
      // As STS GetCallerIdentity answers for an SSO user: --create names this creator in the new key's policy.
      creatorArn: async () => CREATOR_ARN,
    },
    stdout: () => out,
    stderr: () => err,
  };
}
