import { importedKeyPolicy, keyCreatorFromCallerArn, UnnamablePrincipalError } from '../../../scripts/import-key/key-policy';

describe('keyCreatorFromCallerArn', () => {
  it('names an assumed role by its role name under any path (a session ARN omits the path, as SSO roles have)', () => {
    expect(keyCreatorFromCallerArn('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com')).toEqual({
      partition: 'aws',
      accountId: '111122223333',
      principalArnPatterns: ['arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_abc', 'arn:aws:iam::111122223333:role/*/AWSReservedSSO_Admin_abc'],
    });
  });

  it('names an IAM user and the account root as they are, in their partition', () => {
    expect(keyCreatorFromCallerArn('arn:aws-us-gov:iam::111122223333:user/ops/bob').principalArnPatterns).toEqual(['arn:aws-us-gov:iam::111122223333:user/ops/bob']);
    expect(keyCreatorFromCallerArn('arn:aws:iam::111122223333:root').principalArnPatterns).toEqual(['arn:aws:iam::111122223333:root']);
  });

  it.each(['arn:aws:sts::111122223333:federated-user/bob', 'not an arn', 'arn:aws:iam::111122223333:group/Admins'])('refuses %s, which a key policy cannot name', (arn) => {
    expect(() => keyCreatorFromCallerArn(arn)).toThrow(UnnamablePrincipalError);
  });
});

describe('importedKeyPolicy', () => {
  const policy = JSON.parse(importedKeyPolicy(keyCreatorFromCallerArn('arn:aws:sts::111122223333:assumed-role/KeyAdmin/s'))) as { Statement: Array<Record<string, any>> };
  const allowed = (action: string) => policy.Statement.filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action));

  it('lets the account administer the key through IAM but never sign, rewrite the policy or delete', () => {
    const admin = policy.Statement.find((s) => s.Sid === 'KeyAdministratorsManageNeverSign')!;
    expect(admin.Principal).toEqual({ AWS: 'arn:aws:iam::111122223333:root' });
    expect(admin.Condition).toBeUndefined();
    for (const action of ['kms:Sign', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DeleteImportedKeyMaterial', 'kms:*']) expect(admin.Action).not.toContain(action);
  });

  it('grants no kms:Sign to anyone', () => {
    expect(allowed('kms:Sign')).toEqual([]);
  });

  it('lets only the creator rewrite the policy, import, delete imported material, or schedule deletion (30 days or more)', () => {
    for (const action of ['kms:PutKeyPolicy', 'kms:ImportKeyMaterial', 'kms:DeleteImportedKeyMaterial', 'kms:ScheduleKeyDeletion']) {
      expect(allowed(action).map((s) => s.Condition.ArnLike)).toEqual([{ 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/KeyAdmin', 'arn:aws:iam::111122223333:role/*/KeyAdmin'] }]);
    }
    expect(allowed('kms:ScheduleKeyDeletion')[0]!.Condition.NumericGreaterThanEquals).toEqual({ 'kms:ScheduleKeyDeletionPendingWindowInDays': '30' });
  });

  it('denies bypassing the lockout check and deletion windows under 30 days to everyone', () => {
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:PutKeyPolicy', Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } } }));
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:ScheduleKeyDeletion', Condition: { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '30' } } }),
    );
  });
});
