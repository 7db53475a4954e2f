import { DefaultStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SignerSettings } from './context';
import { EthereumSigner } from './ethereum-signer';
import { propsFromSettings } from './signer-props';

/** The stack's settings (checked CDK context), plus where the Lambda bundles are (tests point at a stand-in bundle). */
export interface SignerStackProps extends StackProps {
  readonly settings: SignerSettings;
  readonly codeDirectories?: { eip1559: string; legacy: string };
}

/**
 * The repository's own stack (infra/app.ts): one EthereumSigner, deployed only through a dedicated bootstrap
 * qualifier's roles, with termination protection on by default. The construct's id is `Default`, which CDK
 * leaves out of logical ids, so every resource and output keeps the logical id it had when its body was this
 * stack's: a deployed stack is updated, never replaced.
 */
export class SignerStack extends Stack {
  readonly signer: EthereumSigner;

  constructor(scope: Construct, id: string, props: SignerStackProps) {
    const { settings } = props;
    // The dedicated bootstrap's roles, never the default bootstrap's (shared by every CDK app in the account).
    // An explicit deployRoleArn is also the role CloudFormation is given, so that the key policy trusts the role that deploys.
    const synthesizer =
      props.synthesizer ??
      new DefaultStackSynthesizer({
        ...(settings.bootstrapQualifier && { qualifier: settings.bootstrapQualifier }),
        ...(settings.deployRoleArn && { cloudFormationExecutionRole: settings.deployRoleArn }),
      });
    super(scope, id, { terminationProtection: true, ...props, synthesizer });
    this.signer = new EthereumSigner(this, 'Default', propsFromSettings(settings, props.codeDirectories));
  }
}
