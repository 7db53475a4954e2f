import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SignerSettings } from './context';
import { BackupBucket } from './backup-bucket';
import { SignerFunction } from './signer-function';
import { SigningKey } from './signing-key';

/** The stack's settings, plus where the Lambda bundles are (tests point at a stand-in bundle). */
export interface SignerStackProps extends StackProps {
  readonly settings: SignerSettings;
  readonly codeDirectories?: { eip1559: string; legacy: string };
}

/** The signing key and the two signer Lambdas, with least-privilege access between them. */
export class SignerStack extends Stack {
  readonly key: SigningKey;
  readonly functions: Record<'eip1559' | 'legacy', SignerFunction>;
  readonly backup?: BackupBucket;

  constructor(scope: Construct, id: string, props: SignerStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.key = new SigningKey(this, 'SigningKey', {
      mode: settings.keyMode,
      keyArn: settings.keyArn,
      alias: settings.keyAlias,
      adminPrincipalArns: settings.adminPrincipalArns,
      importerPrincipalArns: settings.importerPrincipalArns,
    });
    const make = (kind: 'eip1559' | 'legacy', id: string) => {
      const signer = new SignerFunction(this, id, {
        kind,
        keyArn: this.key.keyArn,
        ethNetwork: settings.ethNetwork,
        logLevel: settings.logLevel,
        expectedAddress: settings.expectedAddress,
        logRetentionDays: settings.logRetentionDays,
        reservedConcurrency: settings.reservedConcurrency,
        codeDirectory: props.codeDirectories?.[kind],
        policyFile: settings.policyFile,
      });
      this.key.grantSign(signer.role, id);
      return signer;
    };
    this.functions = { eip1559: make('eip1559', 'Eip1559Signer'), legacy: make('legacy', 'LegacySigner') };

    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn, description: 'The signing key (KMS_KEY_ID of both functions)' });
    if (this.key.aliasName) new CfnOutput(this, 'KeyAlias', { value: this.key.aliasName });
    for (const [kind, signer] of Object.entries(this.functions)) {
      const name = kind === 'eip1559' ? 'Eip1559' : 'Legacy';
      new CfnOutput(this, `${name}FunctionName`, { value: signer.function.functionName });
      new CfnOutput(this, `${name}FunctionArn`, { value: signer.function.functionArn });
    }
    new CfnOutput(this, 'InvokeExample', {
      value: `aws lambda invoke --function-name ${this.functions.eip1559.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"operation":"status"}' /dev/stdout`,
      description: 'Asks the EIP-1559 signer for its address',
    });
    if (settings.backupBucket) {
      this.backup = new BackupBucket(this, 'Backup', {
        ...(settings.backupObjectLockDays !== undefined && { objectLockDays: settings.backupObjectLockDays }),
        ...(settings.backupWriter && { writerAccount: settings.backupWriter }),
      });
    }
    if (settings.keyMode === 'external') {
      // With the backup bucket, the import is the moment to back the key up: the command says so.
      const backupFlags = this.backup ? ` --backup-public-key <your recovery-public.der> --backup-bucket ${this.backup.bucket.bucketName}` : '';
      new CfnOutput(this, 'NextStep', {
        value: `npm run import-key -- --key-id ${this.key.keyArn} --key-file <your key file>${backupFlags}`,
        description: 'The key has no key material yet (PendingImport): import yours, then the functions can sign',
      });
    }
    if (settings.keyMode === 'existing') {
      new CfnOutput(this, 'KeyPolicyForTheKeyOwner', {
        value: `Allow ${this.functions.eip1559.role.roleArn} and ${this.functions.legacy.role.roleArn}: kms:Sign (Condition StringEquals kms:SigningAlgorithm ECDSA_SHA_256) and kms:GetPublicKey, in the key policy of ${this.key.keyArn}`,
        description: 'What the key policy of the existing key must allow (see docs/deploy.md)',
      });
    }
    this.suppressNagFindings();
  }

  /** cdk-nag AwsSolutions findings we accept on purpose, each with its reason. */
  private suppressNagFindings(): void {
    for (const signer of Object.values(this.functions)) {
      Validations.of(signer.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime the bundles are built (esbuild target node22) and tested for; a newer runtime is adopted deliberately, after testing, not by default.',
      });
    }
  }
}
