// Who can sign around the policy (issue 23): the synthesised key, role, table and bucket policies and the deployed
// guard (SCPs and the RCP of infra/guard-stack.ts), evaluated by a real IAM engine for every principal kind and
// every action that matters. The expected answers are the matrix in docs/deploy.md; this test reads them from there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { mockClient } from 'aws-sdk-client-mock';
import { HeadObjectCommand, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { guardInputs } from '../../infra/guard-inputs';
import { GuardStack } from '../../infra/guard-stack';
import { storeBackup } from '../../scripts/recovery/backup-store';
import { synthesize } from './stack-fixture';
import { templateResolver } from './resolve-template';

type Policy = { Version: string; Statement: Array<Record<string, unknown>> };
type Answer = 'yes' | 'no';

const ACCOUNT = '111122223333';
const FOREIGN = '444455556666';
const REGION = 'eu-west-1';
const STACK = 'KmsEthSigner';
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const INVOKER = role('PaymentsApp');
const FOREIGN_INVOKER = role('PartnerApp', FOREIGN);
const KEY_ADMIN = role('KeyAdmin');
const BREAK_GLASS = role('KeyBreakGlass');
const DEPLOYER = role(`cdk-ethsigner-cfn-exec-role-${ACCOUNT}-${REGION}`);
const DEFAULT_BOOTSTRAP = role(`cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`);
const ADMIN = role('AccountAdministrator');
const OTHER_FUNCTION_ROLE = role('SomeOtherFunctionRole');
const OTHER_FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:some-other-function`;

const { stack, template } = synthesize(
  {
    invokerPrincipalArns: `${INVOKER},${FOREIGN_INVOKER}`,
    adminPrincipalArns: KEY_ADMIN,
    breakGlassPrincipalArns: BREAK_GLASS,
    trail: 'true',
    backupBucket: 'true',
    alarmEmail: 'security@example.com',
  },
  { stackName: STACK },
);
const { resolve, arnOf, resources } = templateResolver(template, { account: ACCOUNT, region: REGION, stackName: STACK });
const idOf = (type: string, test: (properties: Record<string, any>) => boolean = () => true) => {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && test(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]![0];
};

// The resources of the matrix's columns.
const keyId = idOf('AWS::KMS::Key', (p) => p.KeySpec === 'ECC_SECG_P256K1');
const KEY = arnOf(keyId);
const SIGNER = arnOf(idOf('AWS::Lambda::Function', (p) => p.FunctionName === 'eth-signer-eip1559'));
const SIGNER_ROLE_ID = idOf('AWS::IAM::Role', (p) => p.RoleName === 'eth-signer-eip1559');
const SIGNER_ROLE = arnOf(SIGNER_ROLE_ID);
const tableId = idOf('AWS::DynamoDB::Table');
const TABLE = arnOf(tableId);
const TRAIL = arnOf(idOf('AWS::CloudTrail::Trail'));
const ALARM = arnOf(idOf('AWS::CloudWatch::Alarm', (p) => p.AlarmName === 'eth-signer-Eip1559Errors'));

// The policies that decide.
const keyPolicy = resolve(resources[keyId]!.Properties!.KeyPolicy) as Policy;
const tablePolicy = resolve(resources[tableId]!.Properties!.ResourcePolicy.PolicyDocument) as Policy;
const signerRolePolicies = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties!.Roles) === JSON.stringify([{ Ref: SIGNER_ROLE_ID }]))
  .map(([id, r]) => ({ name: id, policy: resolve(r.Properties!.PolicyDocument) as Policy }));
const executionPolicy = JSON.parse(readFileSync(join(__dirname, '../../infra/bootstrap/execution-policy.json'), 'utf8')) as Policy;

// The guard as deployed from the management account: the guard stack's Organizations policies.
const inputs = guardInputs(stack.signer.settings, { partition: 'aws', account: ACCOUNT, region: REGION, policyTableArn: TABLE, deployRoleArn: DEPLOYER });
const guardApp = new App();
const guardTemplate = Template.fromStack(
  new GuardStack(guardApp, `${STACK}Guard`, {
    signers: inputs.signers,
    records: inputs.records,
    key: { keyArn: KEY, signerRoleArns: inputs.signerRoleArns, changerPrincipalArns: inputs.changerPrincipalArns },
    targetIds: [ACCOUNT],
    namePrefix: 'eth-signer',
  }),
);
const organizationPolicies = (type: string) =>
  Object.entries(guardTemplate.findResources('AWS::Organizations::Policy', { Properties: { Type: type } })).map(([name, r]) => ({ name, policy: r.Properties.Content as Policy }));
const FULL_ACCESS = { name: 'FullAWSAccess', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } };
const SCPS = [{ orgIdentifier: ACCOUNT, policies: [FULL_ACCESS, ...organizationPolicies('SERVICE_CONTROL_POLICY')] }];
const RCPS = [{ orgIdentifier: ACCOUNT, policies: organizationPolicies('RESOURCE_CONTROL_POLICY') }];

const allow = (Action: string | string[], Resource: string | string[] = '*'): Policy => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource }] });
const ADMINISTRATOR_ACCESS = allow('*');

/** A principal kind of the matrix: its ARN, identity policies, and the context its requests carry. */
interface PrincipalKind {
  readonly arn: string;
  readonly identity: Policy[];
  readonly context?: Record<string, string>;
  /** Its account's organization applies our SCPs (false: another organization's account). */
  readonly inOrganization?: boolean;
}
const PRINCIPALS: Record<string, PrincipalKind> = {
  'invoker (invokerPrincipalArns)': { arn: INVOKER, identity: [allow('lambda:InvokeFunction', SIGNER)] },
  'key administrator (adminPrincipalArns, kms:* in IAM)': { arn: KEY_ADMIN, identity: [allow('kms:*')] },
  "deployer: the dedicated qualifier's cfn-exec role": { arn: DEPLOYER, identity: [executionPolicy] },
  'default bootstrap cfn-exec role (hnb659fds, AdministratorAccess)': { arn: DEFAULT_BOOTSTRAP, identity: [ADMINISTRATOR_ACCESS] },
  'break-glass (with MFA)': { arn: BREAK_GLASS, identity: [ADMINISTRATOR_ACCESS], context: { 'aws:MultiFactorAuthPresent': 'true' } },
  'account administrator (lambda:*, iam:PassRole, everything)': { arn: ADMIN, identity: [ADMINISTRATOR_ACCESS] },
  'foreign account named as invoker (AdministratorAccess there)': { arn: FOREIGN_INVOKER, identity: [ADMINISTRATOR_ACCESS], inOrganization: false },
  'a function that is not a signer (AdministratorAccess role)': { arn: OTHER_FUNCTION_ROLE, identity: [ADMINISTRATOR_ACCESS], context: { 'lambda:SourceFunctionArn': OTHER_FUNCTION } },
  'signer role used outside its function (credentials taken out)': { arn: SIGNER_ROLE, identity: signerRolePolicies.map((p) => p.policy) },
  'signer role passed to another function': { arn: SIGNER_ROLE, identity: signerRolePolicies.map((p) => p.policy), context: { 'lambda:SourceFunctionArn': OTHER_FUNCTION } },
  'signer role in its own function (the one path meant to sign)': { arn: SIGNER_ROLE, identity: signerRolePolicies.map((p) => p.policy), context: { 'lambda:SourceFunctionArn': SIGNER } },
};

/** An action of the matrix: the request, and the resource policy that decides with the identity's. */
interface ActionColumn {
  readonly action: string;
  readonly resource: string;
  readonly resourcePolicy?: Policy;
  readonly context?: Record<string, string | string[]>;
}
const ACTIONS: Record<string, ActionColumn> = {
  'kms:Sign': { action: 'kms:Sign', resource: KEY, resourcePolicy: keyPolicy, context: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } },
  'kms:PutKeyPolicy': { action: 'kms:PutKeyPolicy', resource: KEY, resourcePolicy: keyPolicy },
  'kms:EnableKey': { action: 'kms:EnableKey', resource: KEY, resourcePolicy: keyPolicy },
  'change code': { action: 'lambda:UpdateFunctionCode', resource: SIGNER },
  'change configuration': { action: 'lambda:UpdateFunctionConfiguration', resource: SIGNER },
  'iam:PassRole a signer role': { action: 'iam:PassRole', resource: SIGNER_ROLE, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
  'write the policy table': { action: 'dynamodb:UpdateItem', resource: TABLE, resourcePolicy: tablePolicy, context: { 'dynamodb:LeadingKeys': [KEY] } },
  'stop the trail': { action: 'cloudtrail:StopLogging', resource: TRAIL },
  'delete an alarm': { action: 'cloudwatch:DeleteAlarms', resource: ALARM },
};

const accountOf = (arn: string) => arn.split(':')[4]!;

/** The engine's answer: is the request allowed? Validation errors fail the test rather than read as "no". */
async function decide(principal: PrincipalKind, column: ActionColumn): Promise<Answer> {
  const simulation: Simulation = {
    identityPolicies: principal.identity.map((policy, index) => ({ name: `identity${index}`, policy })),
    serviceControlPolicies: principal.inOrganization === false ? [] : SCPS,
    resourceControlPolicies: RCPS,
    ...(column.resourcePolicy && { resourcePolicy: column.resourcePolicy }),
    request: {
      action: column.action,
      principal: principal.arn,
      resource: { accountId: ACCOUNT, resource: column.resource },
      // The engine does not fill in the principal's own keys: a request always carries them.
      contextVariables: { 'aws:PrincipalArn': principal.arn, 'aws:PrincipalAccount': accountOf(principal.arn), ...principal.context, ...column.context },
    },
  } as Simulation;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`${column.action} by ${principal.arn}: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed' ? 'yes' : 'no';
}

/** The expected matrix, read from docs/deploy.md (between the authority-matrix markers). */
function documentedMatrix(): { columns: string[]; rows: Map<string, Answer[]> } {
  const docs = readFileSync(join(__dirname, '../../docs/deploy.md'), 'utf8');
  const table = /<!-- authority-matrix[^>]*-->\n([\s\S]*?)\n<!-- \/authority-matrix -->/.exec(docs)?.[1];
  if (!table) throw new Error('docs/deploy.md has no authority-matrix table');
  const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, ''));
  const [header, , ...lines] = table.split('\n');
  return { columns: cells(header!).slice(1), rows: new Map(lines.map((line) => [cells(line)[0]!, cells(line).slice(1) as Answer[]])) };
}

describe('who can do what (docs/deploy.md, "Who can sign around the policy"), computed by @cloud-copilot/iam-simulate', () => {
  const documented = documentedMatrix();

  it('documents every principal kind and every action, in this order', () => {
    expect(documented.columns).toEqual(Object.keys(ACTIONS));
    expect([...documented.rows.keys()]).toEqual(Object.keys(PRINCIPALS));
  });

  describe.each(Object.entries(PRINCIPALS))('%s', (label, principal) => {
    it.each(Object.keys(ACTIONS).map((column, index) => [column, index] as const))('%s: as documented', async (column, index) => {
      expect(`${column}: ${await decide(principal, ACTIONS[column]!)}`).toBe(`${column}: ${documented.rows.get(label)?.[index]}`);
    });
  });

  it('has exactly one principal that can sign: the signer role inside its own function', async () => {
    const signers = [];
    for (const [label, principal] of Object.entries(PRINCIPALS)) if ((await decide(principal, ACTIONS['kms:Sign']!)) === 'yes') signers.push(label);
    expect(signers).toEqual(['signer role in its own function (the one path meant to sign)']);
  });

  it('trusts the default bootstrap role nowhere: not in the key policy, the table policy or the guard', () => {
    for (const document of [keyPolicy, tablePolicy, ...organizationPolicies('SERVICE_CONTROL_POLICY').map((p) => p.policy), ...organizationPolicies('RESOURCE_CONTROL_POLICY').map((p) => p.policy)]) {
      expect(JSON.stringify(document)).not.toContain('hnb659fds');
    }
  });
});

describe('the backup bucket policy, computed by @cloud-copilot/iam-simulate', () => {
  const bucketId = idOf('AWS::S3::Bucket', (p) => p.ObjectLockEnabled === true);
  const bucket = resolve(resources[bucketId]!.Properties!.BucketName ?? { Ref: bucketId }) as string;
  const bucketPolicy = resolve(Object.values(resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties!.Bucket) === JSON.stringify({ Ref: bucketId }))!.Properties!.PolicyDocument) as Policy;
  const writerPolicy = resolve(Object.values(resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && /import-key store/.test(String(r.Properties!.Description)))!.Properties!.PolicyDocument) as Policy;
  const WRITER = role('KeyImporter');

  /** The S3 condition keys a PutObject with these parameters carries. */
  const s3Context = (input: PutObjectCommandInput): Record<string, string> => ({
    'aws:SecureTransport': 'true',
    's3:TlsVersion': '1.3',
    ...(input.ServerSideEncryption && { 's3:x-amz-server-side-encryption': input.ServerSideEncryption }),
    ...(input.SSEKMSKeyId && { 's3:x-amz-server-side-encryption-aws-kms-key-id': input.SSEKMSKeyId }),
  });
  const upload = async (input: PutObjectCommandInput): Promise<string> => {
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'writer', policy: writerPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: bucketPolicy,
        request: {
          action: 's3:PutObject',
          principal: WRITER,
          resource: { accountId: ACCOUNT, resource: `arn:aws:s3:::${input.Bucket}/${input.Key}` },
          contextVariables: { 'aws:PrincipalArn': WRITER, 'aws:PrincipalAccount': ACCOUNT, ...s3Context(input) },
        },
      } as Simulation,
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  };

  /** The PutObject parameters scripts/recovery/backup-store.ts sends, captured from the real function. */
  async function sentBy(kmsKeyArn?: string): Promise<PutObjectCommandInput> {
    const client = new S3Client({ region: REGION });
    const s3 = mockClient(client);
    const envelope = { version: 1, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' };
    s3.onAnyCommand().rejects(new Error('stop after the upload'));
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.on(PutObjectCommand).resolves({});
    await storeBackup({ kind: 's3', bucket, client, ...(kmsKeyArn && { kmsKeyArn }) }, envelope as never).catch(() => undefined);
    const call = s3.commandCalls(PutObjectCommand)[0];
    s3.restore();
    if (!call) throw new Error('storeBackup sent no PutObject');
    return call.args[0].input;
  }

  it('allows the upload backup-store.ts makes (no encryption header: the bucket default, SSE-S3, applies)', async () => {
    const input = await sentBy();
    expect(input.ServerSideEncryption).toBeUndefined();
    expect(await upload(input)).toBe('Allowed');
  });

  it('allows an upload that asks for SSE-S3 explicitly', async () => {
    expect(await upload({ ...(await sentBy()), ServerSideEncryption: 'AES256' })).toBe('Allowed');
  });

  it.each(['aws:kms', 'aws:kms:dsse'] as const)('denies an upload that asks for %s (a key an administrator could disable)', async (encryption) => {
    const input = encryption === 'aws:kms' ? await sentBy(`arn:aws:kms:${REGION}:${ACCOUNT}:key/backup`) : { ...(await sentBy()), ServerSideEncryption: encryption };
    expect(input.ServerSideEncryption).toBe(encryption);
    expect(await upload(input)).toBe('ExplicitlyDenied');
  });

  it('would have caught the old condition (StringNotEqualsIfExists AES256 denies the upload without the header)', async () => {
    const old = { ...bucketPolicy, Statement: bucketPolicy.Statement.map((s) => (s.Sid === 'DenyUploadsWithSseKms' ? { ...s, Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'AES256' } } } : s)) };
    const input = await sentBy();
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'writer', policy: writerPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: old,
        request: { action: 's3:PutObject', principal: WRITER, resource: { accountId: ACCOUNT, resource: `arn:aws:s3:::${input.Bucket}/${input.Key}` }, contextVariables: { 'aws:PrincipalArn': WRITER, ...s3Context(input) } },
      } as Simulation,
      {},
    );
    expect(result.resultType !== 'error' && result.overallResult).toBe('ExplicitlyDenied');
  });
});

describe('the execution policy of the dedicated qualifier (infra/bootstrap/execution-policy.json), computed by @cloud-copilot/iam-simulate', () => {
  // What CloudFormation calls first to create each kind of resource, with the resource's ARN in this template.
  const CREATE: Record<string, string> = {
    'AWS::IAM::Role': 'iam:CreateRole',
    'AWS::IAM::ManagedPolicy': 'iam:CreatePolicy',
    'AWS::Lambda::Function': 'lambda:CreateFunction',
    'AWS::DynamoDB::Table': 'dynamodb:CreateTable',
    'AWS::S3::Bucket': 's3:CreateBucket',
    'AWS::Logs::LogGroup': 'logs:CreateLogGroup',
    'AWS::SQS::Queue': 'sqs:CreateQueue',
    'AWS::SNS::Topic': 'sns:CreateTopic',
    'AWS::Events::Rule': 'events:PutRule',
    'AWS::CloudTrail::Trail': 'cloudtrail:CreateTrail',
    'AWS::CloudWatch::Alarm': 'cloudwatch:PutMetricAlarm',
  };
  const deployer = (action: string, resource: string, context: Record<string, string> = {}) =>
    decide({ arn: DEPLOYER, identity: [executionPolicy] }, { action, resource, context });
  const created = Object.keys(resources).filter((id) => CREATE[resources[id]!.Type]);

  it('covers every resource kind of the stack that it creates by name', () => {
    expect(new Set(created.map((id) => resources[id]!.Type))).toEqual(new Set(Object.keys(CREATE)));
  });

  it.each(created)('lets CloudFormation create %s', async (id) => {
    expect(await deployer(CREATE[resources[id]!.Type]!, arnOf(id).replace(/:\*$/, ''))).toBe('yes');
  });

  it.each([
    ['create a role outside the stack\'s names', 'iam:CreateRole', role('Administrator')],
    ['change the bootstrap\'s own roles', 'iam:PutRolePolicy', role(`cdk-ethsigner-deploy-role-${ACCOUNT}-${REGION}`)],
    ['create a function outside the stack\'s names', 'lambda:CreateFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:anything`],
    ['delete a log group', 'logs:DeleteLogGroup', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/eth-signer-eip1559`],
    ['delete the policy table', 'dynamodb:DeleteTable', TABLE],
    ['read the spending limits', 'dynamodb:GetItem', TABLE],
    ['sign', 'kms:Sign', KEY],
  ])('refuses to %s', async (_label, action, resource) => {
    expect(await deployer(action, resource)).toBe('no');
  });

  it('passes the stack\'s roles to Lambda and CloudTrail only', async () => {
    expect(await deployer('iam:PassRole', SIGNER_ROLE, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('yes');
    expect(await deployer('iam:PassRole', SIGNER_ROLE, { 'iam:PassedToService': 'ec2.amazonaws.com' })).toBe('no');
    expect(await deployer('iam:PassRole', role(`cdk-ethsigner-cfn-exec-role-${ACCOUNT}-${REGION}`), { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe('no');
  });
});

// Printed to fill docs/deploy.md when the stack changes: MATRIX=print npx jest test/infra/authority-matrix.test.ts
if (process.env.MATRIX === 'print') {
  it('prints the computed matrix', async () => {
    const lines = [`| principal | ${Object.keys(ACTIONS).map((c) => (c.includes(':') ? `\`${c}\`` : c)).join(' | ')} |`, `| --- |${' --- |'.repeat(Object.keys(ACTIONS).length)}`];
    for (const [label, principal] of Object.entries(PRINCIPALS)) {
      const answers = [];
      for (const column of Object.values(ACTIONS)) answers.push(await decide(principal, column));
      lines.push(`| ${label} | ${answers.join(' | ')} |`);
    }
    console.log(lines.join('\n'));
  });
}

describe('without AWS Organizations: the guard as a permissions boundary (GuardBoundary), computed by @cloud-copilot/iam-simulate', () => {
  const boundaryId = idOf('AWS::IAM::ManagedPolicy', (p) => p.ManagedPolicyName === 'eth-signer-guard-boundary');
  const boundary = resolve(resources[boundaryId]!.Properties!.PolicyDocument) as Policy;
  const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/eth-signer-guard-boundary`;

  /** An account administrator (AdministratorAccess) in an account without SCPs, with or without the boundary. */
  async function administrator(column: ActionColumn, { bounded = true, context = {} as Record<string, string> } = {}): Promise<Answer> {
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
        ...(bounded && { permissionBoundaryPolicies: [{ name: 'eth-signer-guard-boundary', policy: boundary }] }),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(column.resourcePolicy && { resourcePolicy: column.resourcePolicy }),
        request: {
          action: column.action,
          principal: ADMIN,
          resource: { accountId: ACCOUNT, resource: column.resource },
          contextVariables: { 'aws:PrincipalArn': ADMIN, 'aws:PrincipalAccount': ACCOUNT, ...column.context, ...context },
        },
      } as Simulation,
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult === 'Allowed' ? 'yes' : 'no';
  }

  it.each(['change code', 'change configuration', 'iam:PassRole a signer role', 'write the policy table', 'stop the trail', 'delete an alarm'])('stops a bounded administrator: %s', async (column) => {
    expect(await administrator(ACTIONS[column]!)).toBe('no');
  });

  it('leaves the administrator everything else (a boundary only limits)', async () => {
    expect(await administrator({ action: 's3:CreateBucket', resource: 'arn:aws:s3:::some-other-bucket' })).toBe('yes');
    expect(await administrator({ action: 'lambda:UpdateFunctionCode', resource: OTHER_FUNCTION })).toBe('yes');
  });

  it('lets a bounded administrator create roles only with the boundary, and never remove it', async () => {
    const createRole = { action: 'iam:CreateRole', resource: role('NewRole') };
    expect(await administrator(createRole)).toBe('no');
    expect(await administrator(createRole, { context: { 'iam:PermissionsBoundary': BOUNDARY_ARN } })).toBe('yes');
    expect(await administrator({ action: 'iam:DeleteRolePermissionsBoundary', resource: role('SomeRole') })).toBe('no');
    expect(await administrator({ action: 'iam:CreatePolicyVersion', resource: BOUNDARY_ARN })).toBe('no');
  });

  it('cannot stop a principal that does not carry it (the root user, a role created before it): what docs/deploy.md says it cannot prevent', async () => {
    expect(await administrator(ACTIONS['iam:PassRole a signer role']!, { bounded: false })).toBe('yes');
    expect(await administrator(ACTIONS['change configuration']!, { bounded: false })).toBe('yes');
  });
});
