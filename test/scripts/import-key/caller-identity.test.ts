// STS GetCallerIdentity as import-key sends it: a SigV4-signed POST, checked by a local STS stand-in on a free port.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { callerArn, CallerIdentityError, newKeyCreatorArn } from '../../../scripts/import-key/caller-identity';
import { referenceAuthorization } from '../../helpers/sigv4';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const ARN = 'arn:aws:sts::111122223333:assumed-role/KeyAdmin/alice';

describe('callerArn', () => {
  let server: Server;
  let requests: Array<{ request: IncomingMessage; body: string }>;
  let answer: { status: number; body: string };
  const saved = process.env.AWS_ENDPOINT_URL_STS;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        requests.push({ request, body });
        response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
    else process.env.AWS_ENDPOINT_URL_STS = saved;
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests = [];
    answer = { status: 200, body: `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${ARN}</Arn><UserId>AROA:alice</UserId><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>` };
  });

  const client = () => new KMSClient({ region: 'eu-west-1', credentials: CREDENTIALS });

  it("returns the ARN STS answers, for a GetCallerIdentity signed with the KMS client's credentials and region", async () => {
    expect(await callerArn(client())).toBe(ARN);
    expect(requests).toHaveLength(1);
    const [{ request, body }] = requests as [{ request: IncomingMessage; body: string }];
    expect(request.method).toBe('POST');
    expect(body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    // The signature STS would check: recomputed by a signer independent of the one callerArn uses.
    const received = { method: request.method ?? '', path: request.url ?? '', headers: request.headers, body };
    expect(request.headers.authorization).toBe(await referenceAuthorization(received, { service: 'sts', region: 'eu-west-1', credentials: CREDENTIALS }));
  });

  it('throws CallerIdentityError with the STS error code, not a stack of XML', async () => {
    answer = { status: 403, body: '<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>' };
    await expect(callerArn(client())).rejects.toThrow(CallerIdentityError);
    await expect(callerArn(client())).rejects.toThrow(/InvalidClientTokenId.*aws sts get-caller-identity/);
  });

  it('names no creator for a KMS on this machine (the local KMS evaluates no key policy), and asks STS nothing', async () => {
    expect(await newKeyCreatorArn(new KMSClient({ region: 'eu-west-1', credentials: CREDENTIALS, endpoint: 'http://127.0.0.1:4599' }))).toBeUndefined();
    expect(requests).toEqual([]);
  });
});
