import { SignerError } from '../../lambdas/signer/errors';
import { KEY_ADMIN_ACTIONS } from '../../infra/key-admin-actions';

// The key policy import-key --create gives a new key: the stack's rules (infra/signing-key.ts), not KMS's
// default (the account root with kms:*, which lets any IAM policy in the account grant kms:Sign).

/** Who created the key, as IAM policy conditions can name them. */
export interface KeyCreator {
  readonly partition: string;
  readonly accountId: string;
  /** `aws:PrincipalArn` patterns that match the creator (a role by name under any path, a user, or the root). */
  readonly principalArnPatterns: readonly string[];
}

// What the creator alone may do: import (and re-import) the material, change the policy (KMS's lockout check
// requires it of whoever sets the policy), and delete the key or its material.
const CREATOR_ACTIONS = ['kms:PutKeyPolicy', 'kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial'];
const MIN_DELETION_WINDOW_DAYS = '30';

/** The creator of a key, from the ARN STS GetCallerIdentity returns (an assumed-role session, a user or the root). */
export function keyCreatorFromCallerArn(callerArn: string): KeyCreator {
  const match = /^arn:(aws[a-z-]*):(sts|iam)::(\d{12}):(.+)$/.exec(callerArn);
  if (!match) throw new UnnamablePrincipalError(callerArn);
  const [, partition, service, accountId, resource] = match as unknown as [string, string, string, string, string];
  const iam = `arn:${partition}:iam::${accountId}`;
  const role = /^assumed-role\/([\w+=,.@-]{1,64})\/.+$/.exec(resource);
  if (service === 'sts' && role) {
    // A session's ARN omits the role's path (SSO roles live under /aws-reserved/…); role names are unique in an
    // account, so the name under any path names exactly that role.
    return { partition, accountId, principalArnPatterns: [`${iam}:role/${role[1]}`, `${iam}:role/*/${role[1]}`] };
  }
  if (service === 'iam' && (resource === 'root' || resource.startsWith('user/'))) return { partition, accountId, principalArnPatterns: [`${iam}:${resource}`] };
  throw new UnnamablePrincipalError(callerArn);
}

/** The key policy document (JSON) for a key import-key creates. */
export function importedKeyPolicy(creator: KeyCreator): string {
  const root = { AWS: `arn:${creator.partition}:iam::${creator.accountId}:root` };
  const creatorOnly = { ArnLike: { 'aws:PrincipalArn': creator.principalArnPatterns } };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'KeyAdministratorsManageNeverSign', Effect: 'Allow', Principal: root, Action: KEY_ADMIN_ACTIONS, Resource: '*' },
      { Sid: 'CreatorImportsAndKeepsThePolicyUpdatable', Effect: 'Allow', Principal: root, Action: CREATOR_ACTIONS, Resource: '*', Condition: creatorOnly },
      {
        Sid: 'CreatorSchedulesDeletionWith30DaysToCancel',
        Effect: 'Allow',
        Principal: root,
        Action: 'kms:ScheduleKeyDeletion',
        Resource: '*',
        Condition: { ...creatorOnly, NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': MIN_DELETION_WINDOW_DAYS } },
      },
      { Sid: 'NobodyBypassesThePolicyLockoutCheck', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:PutKeyPolicy', Resource: '*', Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } } },
      {
        Sid: 'NobodySchedulesDeletionInUnder30Days',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:ScheduleKeyDeletion',
        Resource: '*',
        Condition: { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': MIN_DELETION_WINDOW_DAYS } },
      },
    ],
  });
}

/** The caller is a principal a key policy cannot name (a federated user, a malformed ARN). */
export class UnnamablePrincipalError extends SignerError {
  override readonly name = 'UnnamablePrincipalError';
  constructor(callerArn: string) {
    super(
      `--create names its creator in the new key's policy, and ${callerArn.slice(0, 200)} cannot be named there: ` +
        'run it as an IAM role (including an SSO role), an IAM user or the account root.',
    );
  }
}
