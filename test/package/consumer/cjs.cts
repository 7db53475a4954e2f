// A CommonJS consumer (as a default `cdk init` app compiles to): both entries through require(). Prints one JSON line.
import { KMSClient } from '@aws-sdk/client-kms';
import { verifyMessage } from 'ethers';
import { KmsSigner, SignerError } from 'kms-eth-signer';
import { kmsAccount } from 'kms-eth-signer/viem';

// @ts-expect-error keyId is required
void new KmsSigner({});

async function main(): Promise<void> {
  const keyId = process.env.KEY_ID ?? '';
  const client = new KMSClient({ endpoint: process.env.KMS_ENDPOINT ?? '', region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const signer = new KmsSigner({ keyId, client });
  const account = await kmsAccount({ keyId, client });
  const signature = await signer.signMessage('from CommonJS');
  let refusal = 'none';
  try {
    await signer.signDigest('0x1234');
  } catch (error) {
    refusal = error instanceof SignerError ? error.name : 'not a SignerError';
  }
  console.log(JSON.stringify({ ethers: await signer.getAddress(), viem: account.address, recovered: verifyMessage('from CommonJS', signature), refusal, module: typeof module }));
  client.destroy();
}

void main();
