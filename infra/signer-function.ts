import { AssetHashType, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { copyFileSync, cpSync, existsSync } from 'node:fs';
import { signerBundleDirectory } from './bundle-location';
import type { S3Location } from './context';
import { join } from 'node:path';

/** One signer Lambda's settings; everything else is a shared default held here. */
export interface SignerFunctionProps {
  /** `eip1559` or `legacy`: the bundle in dist/<name> and the function's name suffix. */
  readonly kind: 'eip1559' | 'legacy';
  readonly keyArn: string;
  readonly ethNetwork: string;
  readonly logLevel: string;
  readonly expectedAddress?: string;
  readonly logRetentionDays: number;
  readonly reservedConcurrency?: number;
  /** The function's name (stable, so callers and policies can name it). */
  readonly functionName: string;
  /** The `service` dimension of the function's metrics (POWERTOOLS_SERVICE_NAME). */
  readonly metricsService: string;
  /** Lets the legacy signer sign pre-EIP-155 transactions (ALLOW_PRE_EIP155). */
  readonly allowPreEip155: boolean;
  /** With a value, the function runs only code signed by one of this config's profiles. */
  readonly codeSigningConfig?: lambda.ICodeSigningConfig;
  /** The bundle as a signed zip in S3 (code signing); replaces codeDirectory. */
  readonly signedCode?: S3Location;
  /** Where the bundle is; default the prebuilt dist/<kind> (written by npm run build, shipped in the package). */
  readonly codeDirectory?: string;
  /** The signing policy (already validated), shipped in the package as policy.json. */
  readonly policyFile: string;
}

/** Where the policy sits in the deployment package (SIGNING_POLICY_FILE, relative to LAMBDA_TASK_ROOT). */
export const POLICY_IN_PACKAGE = 'policy.json';

/**
 * A signer Lambda with every shared default in one place: Node.js 22 on ARM64 (cheaper per GB-second than
 * x86 for this CPU-light work), the prebuilt esbuild ESM bundle with source maps, 256 MB (the cost model in
 * docs/performance.md: 11 % dearer per signature than 128 MB, 7 ms faster warm, ~270 ms faster on an
 * instance's first signature, and headroom over the 85 MB peak RSS; 512 MB saves 4 ms for 18 % more), a 10 s
 * timeout (a warm signature is one KMS call of tens of milliseconds; 10 s leaves room for the SDK's
 * retries and fails fast otherwise), and its own log group with a fixed retention.
 */
export class SignerFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SignerFunctionProps) {
    super(scope, id);
    // A signed zip must already hold policy.json: AWS Signer signed the package as a whole.
    const code = props.signedCode ? signedCode(this, props.signedCode) : bundle(props.codeDirectory ?? signerBundleDirectory(props.kind), props.policyFile);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN, // the signing record outlives the stack
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `kms-eth-signer ${props.kind} signer: may sign with one KMS key and write its own logs`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs on every log group): this function's log group only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: `Signs ${props.kind === 'eip1559' ? 'EIP-1559 (type 2)' : 'legacy (type 0, EIP-155) and EIP-2930 (type 1)'} Ethereum transactions with a KMS key`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code,
      memorySize: 256,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrency !== undefined && { reservedConcurrentExecutions: props.reservedConcurrency }),
      ...(props.codeSigningConfig && { codeSigningConfig: props.codeSigningConfig }),
      environment: {
        KMS_KEY_ID: props.keyArn,
        ETH_NETWORK: props.ethNetwork,
        LOG_LEVEL: props.logLevel,
        SIGNING_POLICY_FILE: POLICY_IN_PACKAGE,
        ...(props.expectedAddress && { EXPECTED_ADDRESS: props.expectedAddress }),
        ...(props.kind === 'legacy' && props.allowPreEip155 && { ALLOW_PRE_EIP155: 'true' }),
        POWERTOOLS_SERVICE_NAME: props.metricsService,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  }
}

function bundle(codeDirectory: string, policyFile: string): lambda.Code {
  if (!existsSync(join(codeDirectory, 'index.mjs'))) {
    throw new Error(`${join(codeDirectory, 'index.mjs')} is missing: run npm run build before cdk synth or deploy (npm run deploy does).`);
  }
  // The policy travels in the package, so changing what the key may sign takes a review and a deploy.
  return lambda.Code.fromAsset(codeDirectory, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('unused-local-bundling-only'),
      local: {
        tryBundle: (outputDir) => {
          cpSync(codeDirectory, outputDir, { recursive: true });
          copyFileSync(policyFile, join(outputDir, POLICY_IN_PACKAGE));
          return true;
        },
      },
    },
  });
}

function signedCode(scope: Construct, location: S3Location): lambda.Code {
  return lambda.Code.fromBucket(s3.Bucket.fromBucketName(scope, 'SignedCodeBucket', location.bucket), location.key);
}
