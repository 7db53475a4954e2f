// AWS Control Tower's proactive controls (the cfn-guard rules and binary bundled with @cdklabs/cdk-validator-cfnguard)
// run over synthesized stacks, each finding matched with the acknowledgements recorded in the construct tree.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CfnResource, type IPolicyValidationContextBeta1, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { acknowledgementOf } from './acknowledgements';

/** The Control Tower rules shipped with the plugin (rules/control-tower/cfn-guard/<service>/ct-<service>-pr-<n>.guard). */
export const CONTROL_TOWER_RULES = join(dirname(require.resolve('@cdklabs/cdk-validator-cfnguard')), '..', 'rules', 'control-tower', 'cfn-guard');

/** One resource that fails one control. */
export interface ControlFinding {
  /** The control id, e.g. CT.LAMBDA.PR.3. */
  readonly control: string;
  /** The stack's construct path (test stacks of different apps may share a name). */
  readonly stack: string;
  readonly logicalId: string;
  /** The construct path of the resource, when the logical id names one of the stack's resources. */
  readonly path?: string;
  /** The reason it was acknowledged with, on the resource or one of its scopes. */
  readonly reason?: string;
}

const ruleFiles = (path: string): string[] => (statSync(path).isDirectory() ? readdirSync(path).flatMap((entry) => ruleFiles(join(path, entry))) : path.endsWith('.guard') ? [path] : []);

/**
 * The rules that name a resource type of the templates: a rule reports only on the types it names, so the
 * others would SKIP; leaving them out cuts cfn-guard's time by about four.
 */
function rulesFor(templates: Array<Record<string, any>>): string[] {
  const types = new Set(templates.flatMap((template) => Object.values(template.Resources ?? {}).map((resource) => (resource as { Type: string }).Type)));
  return ruleFiles(CONTROL_TOWER_RULES).filter((file) => {
    const text = readFileSync(file, 'utf8');
    return [...types].some((type) => text.includes(`"${type}"`));
  });
}

const resourcesOf = (stack: Stack) => new Map(stack.node.findAll().filter(CfnResource.isCfnResource).map((resource) => [stack.resolve(resource.logicalId) as string, resource]));

/** Runs the Control Tower controls over the stacks' templates once, and returns every finding with its acknowledgement, if any. */
export function controlTowerFindings(stacks: Stack[]): { findings: ControlFinding[]; rules: number } {
  const directory = mkdtempSync(join(tmpdir(), 'control-tower-'));
  const templates = stacks.map((stack) => Template.fromStack(stack).toJSON());
  const templatePaths = stacks.map((stack, index) => {
    const path = join(directory, `${index}-${stack.stackName}.template.json`); // the test stacks may share a name
    writeFileSync(path, JSON.stringify(templates[index]));
    return path;
  });
  const rules = rulesFor(templates);
  const validator = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules, maxBuffer: 64 * 1024 * 1024 });
  const report = (() => {
    try {
      return validator.validate({ templatePaths } as IPolicyValidationContextBeta1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  })();
  const findings = report.violations.flatMap((violation) => {
    const control = /^\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(violation.description ?? '')?.[1] ?? violation.ruleName;
    return violation.violatingResources.map((resource) => {
      const stack = stacks[templatePaths.indexOf(resource.templatePath)]!;
      const construct = resourcesOf(stack).get(resource.resourceLogicalId);
      const reason = acknowledgementOf(construct, control);
      return { control, stack: stack.node.path, logicalId: String(resource.resourceLogicalId), ...(construct && { path: construct.node.path }), ...(reason && { reason }) };
    });
  });
  return { findings, rules: rules.length };
}
