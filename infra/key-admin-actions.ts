/**
 * What a key's administrators may do through IAM: manage its life, never sign with it, never rewrite its
 * policy or destroy it. Disabling is theirs (the incident response); re-enabling a key disabled in an incident
 * is not (only break-glass, with MFA, and it raises an alert). One list for the stack's key policy (signing-key.ts) and the policy that
 * `import-key --create` gives a key it creates (scripts/import-key/key-policy.ts).
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:GetPublicKey',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:CancelKeyDeletion',
] as const;
