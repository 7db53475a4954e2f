import { awsSetupProblem } from '../../lambdas/signer/kms-errors';
import { BackupStorageError } from './errors';

/** The fields of an S3 SDK error that we read. */
interface S3Failure {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const BARE_KEY_ID = /^(mrk-)?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Turns an S3 error into one that says what to do. The SDK's own words for these cases are "UnknownError"
 * (a 403 to HeadObject, which has no body), "XML parse error" (an endpoint that is not S3) and "The
 * specified key does not exist" (easily read as a KMS key). Errors about the AWS setup pass through unchanged.
 */
export function toS3Error(error: unknown, operation: string, bucket: string, objectKey: string): unknown {
  if (awsSetupProblem(error)) return error;
  const { name = 'Error', message = String(error), code, $metadata } = (error ?? {}) as S3Failure;
  const status = $metadata?.httpStatusCode;
  const location = `s3://${bucket}/${objectKey}`;
  // A HEAD answer has no body, so the SDK can only say "Unknown: UnknownError": then the status is all there is.
  const opaque = name === 'Unknown' || message === 'UnknownError';
  const detail = opaque ? `HTTP ${status ?? 'error'} with no error body` : `${name}${status ? `, HTTP ${status}` : ''}: ${message.replace(/\s+/g, ' ').slice(0, 200)}`;
  const folder = objectKey.split('/')[0] ?? '';
  if (name === 'NoSuchBucket') {
    return new BackupStorageError(`The bucket ${bucket} does not exist at this endpoint and region (${detail}). Check the bucket name, --region, and AWS_ENDPOINT_URL_S3.`, error);
  }
  if (name === 'NoSuchKey' || (status === 404 && operation === 'GetObject')) {
    const hint = BARE_KEY_ID.test(folder)
      ? `List what the bucket holds with: aws s3 ls s3://${bucket}/${folder}/`
      : `"${folder.slice(0, 100)}" is not a bare KMS key id: backups are stored under the key id, never an alias or ARN. Find the key id with: aws kms describe-key --key-id alias/NAME --query KeyMetadata.KeyId --output text`;
    return new BackupStorageError(`There is no backup object at ${location} (the S3 object does not exist; ${detail}). The path is s3://BUCKET/<KMS key id>/recovery_shard-0.txt. ${hint}`, error);
  }
  if (status === 403 || name === 'AccessDenied' || name === 'Forbidden') {
    return new BackupStorageError(
      `S3 denied s3:${operation} on ${location} (${detail}). The identity needs s3:GetObject${operation === 'GetObject' ? '' : ', s3:PutObject'} and s3:ListBucket on the bucket ` +
        "(without s3:ListBucket, S3 answers 403 for a missing object too), and kms:Decrypt (kms:GenerateDataKey to write) on the bucket's KMS key; " +
        'the stack output BackupWriterPolicyArn is such a policy. Check which identity you are with: aws sts get-caller-identity',
      error,
    );
  }
  if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
    return new BackupStorageError(`The bucket ${bucket} is in another region (${detail}): give its region with --region.`, error);
  }
  if (/XML|Deserialization|char '|Unexpected token/i.test(`${name} ${message}`)) {
    return new BackupStorageError(
      `The S3 endpoint did not answer like S3 (${detail}). Check AWS_ENDPOINT_URL_S3 (and AWS_ENDPOINT_URL, which applies to every service): it must point at S3, not at the KMS endpoint.`,
      error,
    );
  }
  if (code === 'ECONNREFUSED' || name === 'ECONNREFUSED' || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(message)) {
    return new BackupStorageError(`Cannot reach S3 for ${location} (${detail}). Check the network, AWS_ENDPOINT_URL_S3, and that a local S3 is running.`, error);
  }
  return new BackupStorageError(`s3:${operation} on ${location} failed (${detail}). Check the bucket, the region and the network, then run the command again.`, error);
}
