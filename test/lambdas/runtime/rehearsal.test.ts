// The cold start's rehearsal of the first signature (lambdas/runtime/rehearsal.ts): it runs the real code on a
// fixed vector and sends nothing, through the real SDK clients pointed at a server that counts what arrives.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { computeAddress, recoverAddress } from 'ethers';
import { decodeSignature } from '../../../lambdas/signer/der';
import { createKmsClient } from '../../../lambdas/signer/kms-client';
import { publicKeyFromSpki } from '../../../lambdas/signer/public-key';
import { toEthereumSignature } from '../../../lambdas/signer/signature';
import { sharedPolicyStateClient } from '../../../lambdas/policy-state/config';
import { REHEARSAL_VECTOR, rehearseFirstSignature } from '../../../lambdas/runtime/rehearsal';

describe('REHEARSAL_VECTOR', () => {
  it('is a signature of its digest by its key, so that the rehearsal runs the recovery check to its end', () => {
    const { publicKey, address } = publicKeyFromSpki(Buffer.from(REHEARSAL_VECTOR.spki, 'hex'));
    expect(address).toBe(REHEARSAL_VECTOR.address);
    expect(computeAddress(publicKey)).toBe(REHEARSAL_VECTOR.address); // ethers, independently
    const { r, s } = decodeSignature(Buffer.from(REHEARSAL_VECTOR.der, 'hex'));
    const signature = toEthereumSignature(REHEARSAL_VECTOR.digest, r, s, publicKey);
    expect(recoverAddress(REHEARSAL_VECTOR.digest, signature)).toBe(REHEARSAL_VECTOR.address);
  });
});

describe('rehearseFirstSignature', () => {
  let server: Server;
  let url: string;
  let requests = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests++;
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_DYNAMODB: url });
  });
  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (requests = 0));

  const policyState = { tableName: 'policy', idempotency: true, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 };

  it('runs KMS Sign and the policy table calls through the SDK clients, signing each request, and sends nothing', async () => {
    const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const kmsSigning = jest.spyOn(client.config, 'signer');
    const dynamodbSigning = jest.spyOn(sharedPolicyStateClient(policyState).config, 'signer');
    await rehearseFirstSignature({ client, keyId: 'alias/eth-signer', policyState });
    expect(kmsSigning).toHaveBeenCalledTimes(1);
    expect(dynamodbSigning).toHaveBeenCalledTimes(2); // the reservation and the idempotency record
    expect(requests).toBe(0);
    client.destroy();
  });

  it('stops once `until` has settled: the first invocation then runs the real calls', async () => {
    const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const kmsSigning = jest.spyOn(client.config, 'signer');
    await rehearseFirstSignature({ client, keyId: 'alias/eth-signer', policyState, until: Promise.reject(new Error('GetPublicKey failed')) });
    expect(kmsSigning).not.toHaveBeenCalled();
    expect(requests).toBe(0);
    client.destroy();
  });

  it('never rejects, whatever a step meets', async () => {
    const client = createKmsClient({ endpoint: url, region: 'us-east-1', credentials: async () => Promise.reject(new Error('no credentials')) });
    await expect(rehearseFirstSignature({ client, keyId: 'alias/eth-signer' })).resolves.toBeUndefined();
    expect(requests).toBe(0);
    client.destroy();
  });
});
