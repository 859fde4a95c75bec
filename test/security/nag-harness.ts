/**
 * Runs cdk-nag v3 the way an application does (`Validations.of(app).addPlugins(...)`), and reads
 * its findings back from the cloud assembly's `validation-report.json`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** The parts of `validation-report.json` (aws-cdk-lib's policy validation report) read here. */
interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations: ReadonlyArray<{
      readonly ruleName: string;
      readonly violatingConstructs: ReadonlyArray<{ readonly constructPath: string }>;
    }>;
  }>;
}

/** One rule (with its finding, e.g. `AwsSolutions-IAM5[Resource::*]`) raised on one CloudFormation resource. */
export interface Finding {
  readonly rule: string;
  readonly path: string;
}

/** An acknowledgement of one finding on one resource, with why it is acceptable. */
export interface Acknowledgement {
  /** Construct path of the CloudFormation resource (L1) the finding is raised on. */
  readonly path: string;
  /** Rule id, narrowed to the finding where the rule reports several (`AwsSolutions-IAM5[Resource::*]`). */
  readonly id: string;
  readonly reason: string;
  /**
   * For an IAM5 `Resource::` finding: the only actions the policy may grant on that wildcard resource.
   * cdk-nag cannot narrow an acknowledgement further than the resource string, so the tests check this.
   */
  readonly wildcardActions?: readonly string[];
}

export interface NagRun {
  /** Findings left in the report: none were acknowledged. */
  readonly findings: Finding[];
  /** How many times synthesis ran the pack (a report without findings does not name its plugin). */
  readonly packRuns: number;
  /** The synthesis error, when the validation failed synthesis as it does in an application. */
  readonly synthError?: Error;
}

const outdirs: string[] = [];

/**
 * A fresh app writing into its own temporary cloud assembly folder (see `removeOutdirs`). aws-cdk-lib's
 * built-in CloudFormation validation is off: it is not cdk-nag, and it costs seconds per test file.
 */
export function newApp(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-nag-'));
  outdirs.push(outdir);
  return new App({ outdir, builtinCloudFormationValidation: false });
}

export function removeOutdirs(): void {
  for (const outdir of outdirs.splice(0)) {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function findingsOf(violations: ReadonlyArray<{ ruleName: string; violatingConstructs: ReadonlyArray<{ constructPath: string }> }>): Finding[] {
  return violations
    .flatMap((v) => v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath })))
    .sort((a, b) => `${a.path} ${a.rule}`.localeCompare(`${b.path} ${b.rule}`));
}

/**
 * What the pack finds before any acknowledgement: calls the pack directly on the construct tree
 * (cdk-nag's documented entry point for tests), without synthesizing.
 */
export function rawFindings(app: App): Finding[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return findingsOf(report.violations.map((v) => ({
    ruleName: v.ruleName,
    violatingConstructs: v.violatingResources.map((r) => ({ constructPath: r.constructPath ?? `?${r.resourceLogicalId}` })),
  })));
}

/** The CloudFormation resource at a construct path; throws when there is none. */
export function cfnResourceAt(app: App, constructPath: string): CfnResource {
  const found = app.node.findAll().find((c: IConstruct) => c.node.path === constructPath);
  if (!found || !CfnResource.isCfnResource(found)) {
    throw new Error(`no CloudFormation resource at ${constructPath}`);
  }
  return found;
}

/** Acknowledges each finding on its own CloudFormation resource, nothing broader. */
export function acknowledge(app: App, acknowledgements: readonly Acknowledgement[]): void {
  for (const { path: constructPath, id, reason } of acknowledgements) {
    Validations.of(cfnResourceAt(app, constructPath)).acknowledge({ id, reason });
  }
}

/**
 * Registers the AwsSolutions pack on the app, synthesizes it and reads the report. With the
 * default context, synthesis fails on an error-level finding, as `cdk synth` does: the error is
 * returned so that the report's findings can be compared first.
 */
export function synthWithNag(app: App): NagRun {
  const pack = new AwsSolutionsChecks(app);
  const validate = pack.validate.bind(pack);
  let packRuns = 0;
  pack.validate = (context) => {
    packRuns++;
    return validate(context);
  };
  Validations.of(app).addPlugins(pack);
  let synthError: Error | undefined;
  try {
    app.synth();
  } catch (error) {
    synthError = error as Error;
  }
  const reportFile = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(reportFile)) {
    throw synthError ?? new Error(`synthesis wrote no ${reportFile}`);
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as ValidationReport;
  return {
    findings: findingsOf(report.pluginReports.flatMap((p) => p.violations)),
    packRuns,
    synthError,
  };
}

/**
 * For every IAM5 `Resource::` acknowledgement: the actions its policy grants on that resource, as
 * cdk-nag spells the resource in the finding id. Compared with `wildcardActions` by the tests.
 */
export function actionsOnAcknowledgedWildcards(app: App, acknowledgements: readonly Acknowledgement[]): Array<{ id: string; actions: string[] }> {
  return acknowledgements
    .filter((ack) => ack.id.startsWith('AwsSolutions-IAM5[Resource::'))
    .map((ack) => {
      const resource = ack.id.slice('AwsSolutions-IAM5[Resource::'.length, -1);
      const policy = cfnResourceAt(app, ack.path);
      if (!(policy instanceof iam.CfnPolicy)) {
        throw new Error(`${ack.path} is not an AWS::IAM::Policy`);
      }
      const document = Stack.of(policy).resolve(policy.policyDocument) as { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }> };
      const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
      const actions = document.Statement
        .filter((s) => s.Effect === 'Allow' && asArray(s.Resource).some((r) => flattenCfnReference(r) === resource))
        .flatMap((s) => asArray(s.Action));
      return { id: ack.id, actions: [...new Set(actions)].sort() };
    });
}
