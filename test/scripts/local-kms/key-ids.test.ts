// Which forms of KeyId each operation takes, as the KMS API reference documents them: a key id, a key ARN,
// an alias name or an alias ARN for DescribeKey, GetPublicKey, Sign and Verify; a key id or key ARN only for
// the others (an alias there is NotFoundException, as KMS answers "Invalid keyId alias/…").
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type OriginType,
} from '@aws-sdk/client-kms';
import { randomUUID } from 'node:crypto';
import { useLocalKms } from '../../helpers/local-kms';
import { rejectionOf as failure } from '../../helpers/rejection';

type Form = 'key id' | 'key ARN' | 'alias name' | 'alias ARN';
const FORMS: readonly Form[] = ['key id', 'key ARN', 'alias name', 'alias ARN'];

describe('local KMS: KeyId forms each operation accepts', () => {
  const local = useLocalKms();

  /** A fresh key with an alias, and the KeyId that names it in the given form. */
  async function keyNamedAs(form: Form, Origin: OriginType = 'AWS_KMS'): Promise<{ keyId: string; KeyId: string }> {
    const { KeyMetadata } = await local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin }));
    const keyId = KeyMetadata!.KeyId!;
    const alias = `alias/${randomUUID()}`;
    await local.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
    const names: Record<Form, string> = {
      'key id': keyId,
      'key ARN': KeyMetadata!.Arn!,
      'alias name': alias,
      'alias ARN': `arn:aws:kms:us-east-1:111122223333:${alias}`,
    };
    return { keyId, KeyId: names[form] };
  }

  const digest = { Message: Buffer.alloc(32, 1), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' } as const;
  const operations: Record<string, { takesAlias: boolean; origin?: OriginType; call: (KeyId: string, keyId: string) => Promise<unknown> }> = {
    DescribeKey: { takesAlias: true, call: (KeyId) => local.client.send(new DescribeKeyCommand({ KeyId })) },
    GetPublicKey: { takesAlias: true, call: (KeyId) => local.client.send(new GetPublicKeyCommand({ KeyId })) },
    Sign: { takesAlias: true, call: (KeyId) => local.client.send(new SignCommand({ KeyId, ...digest })) },
    Verify: {
      takesAlias: true,
      call: async (KeyId) => {
        const { Signature } = await local.client.send(new SignCommand({ KeyId, ...digest }));
        return local.client.send(new VerifyCommand({ KeyId, ...digest, Signature }));
      },
    },
    ListAliases: { takesAlias: false, call: (KeyId) => local.client.send(new ListAliasesCommand({ KeyId })) },
    CreateAlias: { takesAlias: false, call: (TargetKeyId) => local.client.send(new CreateAliasCommand({ AliasName: `alias/${randomUUID()}`, TargetKeyId })) },
    DisableKey: { takesAlias: false, call: (KeyId) => local.client.send(new DisableKeyCommand({ KeyId })) },
    EnableKey: { takesAlias: false, call: (KeyId) => local.client.send(new EnableKeyCommand({ KeyId })) },
    ScheduleKeyDeletion: { takesAlias: false, call: (KeyId) => local.client.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: 7 })) },
    CancelKeyDeletion: {
      takesAlias: false,
      call: async (KeyId, keyId) => {
        await local.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
        return local.client.send(new CancelKeyDeletionCommand({ KeyId }));
      },
    },
    GetParametersForImport: {
      takesAlias: false,
      origin: 'EXTERNAL',
      call: (KeyId) => local.client.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
    },
    DeleteImportedKeyMaterial: { takesAlias: false, origin: 'EXTERNAL', call: (KeyId) => local.client.send(new DeleteImportedKeyMaterialCommand({ KeyId })) },
  };

  const cases = Object.entries(operations).flatMap(([name, operation]) =>
    FORMS.map((form) => [name, form, operation.takesAlias || !form.startsWith('alias')] as const),
  );

  it.each(cases)('%s with KeyId as a %s: accepted = %s', async (name, form, accepted) => {
    const operation = operations[name]!;
    const { keyId, KeyId } = await keyNamedAs(form, operation.origin);
    if (accepted) await expect(operation.call(KeyId, keyId)).resolves.toBeDefined();
    else expect(await failure(operation.call(KeyId, keyId))).toMatchObject({ name: 'NotFoundException' });
  });

  it('answers NotFoundException for an alias ARN of another account, and InvalidArnException for a malformed ARN', async () => {
    const { KeyId } = await keyNamedAs('alias name');
    expect(await failure(local.client.send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:us-east-1:444455556666:${KeyId}` })))).toMatchObject({ name: 'NotFoundException' });
    expect(await failure(local.client.send(new DescribeKeyCommand({ KeyId: 'arn:aws:kms:nowhere' })))).toMatchObject({ name: 'InvalidArnException' });
  });
});
