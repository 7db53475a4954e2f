/** An error KMS would return: `type` is KMS's own exception name, sent as `__type` with the HTTP status. */
export class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** Shorthands for the exceptions the emulator raises, named as in the KMS API reference. */
export const kmsErrors = {
  notFound: (message: string) => new KmsError('NotFoundException', message),
  disabled: (message: string) => new KmsError('DisabledException', message),
  invalidState: (message: string) => new KmsError('KMSInvalidStateException', message),
  invalidKeyUsage: (message: string) => new KmsError('InvalidKeyUsageException', message),
  validation: (message: string) => new KmsError('ValidationException', message),
  unsupported: (message: string) => new KmsError('UnsupportedOperationException', message),
  alreadyExists: (message: string) => new KmsError('AlreadyExistsException', message),
  incorrectKeyMaterial: (message: string) => new KmsError('IncorrectKeyMaterialException', message),
  invalidImportToken: (message: string) => new KmsError('InvalidImportTokenException', message),
  expiredImportToken: (message: string) => new KmsError('ExpiredImportTokenException', message),
  invalidCiphertext: (message: string) => new KmsError('InvalidCiphertextException', message),
  invalidSignature: (message: string) => new KmsError('KMSInvalidSignatureException', message),
  invalidArn: (message: string) => new KmsError('InvalidArnException', message),
};
