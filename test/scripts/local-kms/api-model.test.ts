// The local KMS enforces the KMS API model's input constraints (from botocore's service model) as KMS does,
// for every member of every operation it implements; DryRun; request bodies that are not JSON objects.
import { CreateKeyCommand, DescribeKeyCommand, ListAliasesCommand, ListKeysCommand, SignCommand, VerifyCommand, type KeySpec } from '@aws-sdk/client-kms';
import { IMPLEMENTED_OPERATIONS, type Shape } from '../../../scripts/local-kms/api-model';
import { OPERATION_INPUTS } from '../../../scripts/local-kms/api-model.generated';
import { useLocalKmsSigningKey } from '../../helpers/local-kms';
import { rejectionOf as failure } from '../../helpers/rejection';

describe('local KMS: the API model', () => {
  const local = useLocalKmsSigningKey();

  const post = async (operation: string, body: string) => {
    const response = await fetch(local.kms.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` }, body });
    return { status: response.status, body: (await response.json()) as { __type: string; message: string } };
  };

  it('has the input shape of each of the 16 operations it implements', () => {
    expect(Object.keys(OPERATION_INPUTS).sort()).toEqual([...IMPLEMENTED_OPERATIONS].sort());
    expect(IMPLEMENTED_OPERATIONS).toHaveLength(16);
  });

  describe('request bodies that are not JSON objects', () => {
    it.each(['null', '[]', '42', '"x"', 'true'])('answers %s with HTTP 400 SerializationException, without internals', async (body) => {
      const { status, body: error } = await post('DescribeKey', body);
      expect(status).toBe(400);
      expect(error.__type).toBe('SerializationException');
      expect(error.message).not.toMatch(/TypeError|Cannot read|at /);
    });
  });

  describe('DryRun', () => {
    const message = Buffer.alloc(32, 1);
    it('Sign with DryRun: true answers DryRunOperationException and returns no signature', async () => {
      const error = await failure(local.client.send(new SignCommand({ KeyId: local.keyId, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })));
      expect(error).toMatchObject({ name: 'DryRunOperationException', $metadata: { httpStatusCode: 412 } });
      expect(error).not.toHaveProperty('Signature');
    });

    it('Verify with DryRun: true answers DryRunOperationException', async () => {
      const { Signature } = await local.client.send(new SignCommand({ KeyId: local.keyId, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
      const error = await failure(local.client.send(new VerifyCommand({ KeyId: local.keyId, Message: message, MessageType: 'DIGEST', Signature, SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true })));
      expect(error).toMatchObject({ name: 'DryRunOperationException' });
    });

    it('every implemented operation that has DryRun refuses to act on it', async () => {
      const withDryRun = IMPLEMENTED_OPERATIONS.filter((operation) => OPERATION_INPUTS[operation]?.members?.DryRun);
      expect(withDryRun).toEqual(['Sign', 'Verify']);
      for (const operation of withDryRun) {
        const body = { KeyId: local.keyId, Message: Buffer.alloc(32).toString('base64'), MessageType: 'DIGEST', Signature: 'AA==', SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true };
        expect((await post(operation, JSON.stringify(body))).body.__type).toBe('DryRunOperationException');
      }
    });

    it('DryRun: false signs as usual', async () => {
      await expect(local.client.send(new SignCommand({ KeyId: local.keyId, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256', DryRun: false }))).resolves.toHaveProperty('Signature');
    });
  });

  describe('constraints named in the issue, through the SDK', () => {
    it('refuses a KeyId over 2,048 characters with ValidationException, not NotFoundException', async () => {
      expect(await failure(local.client.send(new DescribeKeyCommand({ KeyId: 'k'.repeat(2049) })))).toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048"),
      });
    });

    it('refuses an empty Marker (minimum length 1) on ListKeys and ListAliases', async () => {
      expect(await failure(local.client.send(new ListKeysCommand({ Marker: '' })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new ListAliasesCommand({ Marker: '' })))).toMatchObject({ name: 'ValidationException' });
    });

    it('refuses a Description over 8,192 characters', async () => {
      const error = await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Description: 'd'.repeat(8193) })));
      expect(error).toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'description'") });
    });

    it('refuses an invalid CustomerMasterKeySpec beside a valid KeySpec', async () => {
      const error = await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', CustomerMasterKeySpec: 'NOPE' as 'ECC_SECG_P256K1' })));
      expect(error).toMatchObject({ name: 'ValidationException', message: expect.stringContaining("at 'customerMasterKeySpec' failed to satisfy constraint: Member must satisfy enum value set") });
    });

    it('refuses an unknown KeySpec, Origin or SigningAlgorithm with ValidationException', async () => {
      expect(await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_FOO' as KeySpec, KeyUsage: 'SIGN_VERIFY' })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(local.client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'ELSEWHERE' as 'EXTERNAL' })))).toMatchObject({ name: 'ValidationException' });
      const sign = new SignCommand({ KeyId: local.keyId, Message: Buffer.alloc(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_999' as 'ECDSA_SHA_256' });
      expect(await failure(local.client.send(sign))).toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('every constrained member of every operation', () => {
    type Case = [operation: string, member: string, value: unknown, constraint: RegExp];
    const cases: Case[] = [];
    for (const operation of IMPLEMENTED_OPERATIONS) {
      for (const [member, shape] of Object.entries(OPERATION_INPUTS[operation]!.members ?? {}) as Array<[string, Shape]>) {
        if (shape.type === 'string' && shape.enum) cases.push([operation, member, 'NOT_IN_THE_ENUM', /enum value set/]);
        if (shape.type === 'string' && shape.max !== undefined) cases.push([operation, member, 'a'.repeat(shape.max + 1), /length less than or equal to/]);
        if (shape.type === 'string' && shape.min !== undefined && shape.min > 0) cases.push([operation, member, 'a'.repeat(shape.min - 1), /length greater than or equal to|pattern/]);
        if (shape.type === 'string' && shape.pattern && !shape.enum) cases.push([operation, member, '\u2603'.repeat(Math.max(1, shape.min ?? 1)), /regular expression pattern/]);
        if (shape.type === 'blob' && shape.max !== undefined) cases.push([operation, member, Buffer.alloc(shape.max + 1).toString('base64'), /length less than or equal to/]);
        if (shape.type === 'integer' && shape.min !== undefined) cases.push([operation, member, shape.min - 1, /greater than or equal to/]);
        if (shape.type === 'integer' && shape.max !== undefined) cases.push([operation, member, shape.max + 1, /less than or equal to/]);
        if (shape.type === 'list' && shape.max !== undefined) cases.push([operation, member, Array.from({ length: shape.max + 1 }, () => 'g'), /length less than or equal to/]);
      }
      for (const member of OPERATION_INPUTS[operation]!.required ?? []) cases.push([operation, member, null, /must not be null/]);
    }

    it('covers the members of all 16 operations', () => {
      expect(new Set(cases.map(([operation]) => operation)).size).toBe(16);
    });

    it.each(cases)('%s refuses a bad %s with ValidationException naming it', async (operation, member, value, constraint) => {
      const { status, body } = await post(operation, JSON.stringify({ [member]: value }));
      expect(status).toBe(400);
      expect(body.__type).toBe('ValidationException');
      const at = `at '${member.charAt(0).toLowerCase()}${member.slice(1)}'`;
      expect(body.message.split('; ').some((error) => error.includes(at) && constraint.test(error))).toBe(true);
    });
  });
});
