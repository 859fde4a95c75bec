/**
 * The IAM side of playing CloudFormation: each function of a template runs with its own credentials
 * (an access key per function), and its role's identity policies, resolved as deployed, are what the
 * emulator authorizes that key's requests against (local/emulator/iam.ts).
 *
 * A role's identity policies in a template: the AWS::IAM::Policy and AWS::IAM::ManagedPolicy
 * resources whose `Roles` name it (CDK's DefaultPolicy, and the OverflowPolicy managed policies it
 * splits a large one into), and its inline `Policies`. Managed policy ARNs (AWS managed policies) and
 * permissions boundaries cannot be evaluated from the template: a role with them is refused.
 */
import { createHash } from 'crypto';
import type { AwsEmulator, IdentityPolicy } from './emulator';
import { ResolveContext, Template, TemplateResource, resolve } from './template';

/** The credentials Lambda would give a function: here, a fixed access key per function logical id. */
export function functionCredentials(functionLogicalId: string): { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string } {
  const digest = createHash('sha256').update(`function ${functionLogicalId}`).digest('hex').toUpperCase();
  return { AWS_ACCESS_KEY_ID: `ASIA${digest.slice(0, 16)}`, AWS_SECRET_ACCESS_KEY: `local/${digest.slice(16, 56)}` };
}

function refersTo(refs: unknown, roleLogicalId: string): boolean {
  return Array.isArray(refs) && refs.some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleLogicalId }));
}

/** Every identity policy of a role, resolved. */
export function rolePolicies(template: Template, roleLogicalId: string, context: ResolveContext): IdentityPolicy[] {
  const role = template.Resources[roleLogicalId];
  for (const property of ['ManagedPolicyArns', 'PermissionsBoundary']) {
    if (role?.Properties?.[property] !== undefined) {
      throw new Error(`role ${roleLogicalId} has ${property}: the local AWS cannot evaluate it from the template`);
    }
  }
  const attached = Object.entries(template.Resources)
    .filter(([, resource]) => ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(resource.Type) && refersTo(resource.Properties?.Roles, roleLogicalId))
    .map(([logicalId, resource]) => ({ name: logicalId, document: resolve(resource.Properties?.PolicyDocument, context) as object }));
  const inline = ((role?.Properties?.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
    .map((policy) => ({ name: `${roleLogicalId}/${policy.PolicyName}`, document: resolve(policy.PolicyDocument, context) as object }));
  return [...attached, ...inline];
}

function roleOf(functionResource: TemplateResource): string | undefined {
  const role = functionResource.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  return role?.['Fn::GetAtt']?.[0];
}

/**
 * Installs in the emulator, for every function of the template, the policies its role has in that
 * template, replacing what was installed before (an update of the role's policy is in place).
 */
export function installPolicies(emulator: AwsEmulator, template: Template, context: ResolveContext): void {
  for (const [functionId, resource] of Object.entries(template.Resources)) {
    const roleId = resource.Type === 'AWS::Lambda::Function' ? roleOf(resource) : undefined;
    if (roleId === undefined) {
      continue;
    }
    emulator.setPrincipalPolicies(functionCredentials(functionId).AWS_ACCESS_KEY_ID, {
      arn: `arn:aws:sts::${context.accountId}:assumed-role/${roleId}/${functionId}`,
      policies: rolePolicies(template, roleId, context),
    });
  }
}

/** The tags CloudFormation puts on a resource it creates, for the types that take its system tags. */
export function cloudFormationTags(resource: TemplateResource, logicalId: string, context: ResolveContext & { stackId: string }): Record<string, string> {
  // Secrets: "cloudFormationSystemTags": true in the type's schema (lib/key-grants.ts has the sources);
  // Lightsail buckets get only their template Tags.
  const own = Object.fromEntries(((resource.Properties?.Tags ?? []) as Array<{ Key: string; Value: unknown }>)
    .map((tag) => [tag.Key, String(resolve(tag.Value, context))]));
  return resource.Type !== 'AWS::SecretsManager::Secret' ? own : {
    ...own,
    'aws:cloudformation:stack-id': context.stackId,
    'aws:cloudformation:stack-name': context.stackName,
    'aws:cloudformation:logical-id': logicalId,
  };
}
