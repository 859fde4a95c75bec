/**
 * What AWS checks before a service acts on a request, as faults a test turns on for a while: a
 * request rate limit per service (a token bucket, as AWS throttles API calls) and a denial of a
 * principal's calls (an IAM grant that has not propagated yet). Both answer before the operation
 * runs, so a gated call never acts.
 */
import type { ServiceName } from './types';

export interface RateLimit {
  /** Tokens added per second: the sustained rate of requests served. */
  readonly ratePerSecond: number;
  /** Tokens the bucket holds, and starts with: how many requests can pass at once after a pause. */
  readonly burst: number;
}

export interface DenyOptions {
  /** Deny only requests signed with this access key id (a principal); default: every caller. */
  readonly accessKeyId?: string;
  /**
   * Count the duration from the first request the denial meets instead of from now, so that a
   * caller that is slow to start (a cold process on a busy machine) still meets it. Default false.
   */
  readonly fromFirstRequest?: boolean;
}

/** How the requests that reached a service's gates were answered. */
export interface GateCounts {
  /** Passed on to the service (answered by it, or by an injected fault). */
  readonly served: number;
  /** Answered ThrottlingException (S3: SlowDown) by the rate limit. */
  readonly throttled: number;
  /** Answered AccessDenied by a denial. */
  readonly denied: number;
}

export type GateVerdict = 'throttling' | 'access-denied' | undefined;

class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(readonly limit: RateLimit, now: number) {
    this.tokens = limit.burst;
    this.refilledAt = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limit.ratePerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) {
      return false;
    }
    this.tokens -= 1;
    return true;
  }
}

interface Denial {
  readonly ms: number;
  /** When it lifts; undefined until its first request, for a denial counted from there. */
  until?: number;
  readonly accessKeyId?: string;
}

function checkLimit(limit: RateLimit): void {
  if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) {
    throw new Error(`RateLimit.ratePerSecond must be a positive number, got ${limit.ratePerSecond}`);
  }
  if (!Number.isInteger(limit.burst) || limit.burst < 1) {
    throw new Error(`RateLimit.burst must be a positive integer, got ${limit.burst}`);
  }
}

export class Gates {
  private readonly buckets = new Map<ServiceName, TokenBucket>();
  private readonly denials = new Map<ServiceName, Denial[]>();
  private readonly counts = new Map<ServiceName, { served: number; throttled: number; denied: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Limits the service's request rate from now on, starting with a full bucket; undefined lifts it. */
  limitRate(service: ServiceName, limit: RateLimit | undefined): void {
    if (limit === undefined) {
      this.buckets.delete(service);
      return;
    }
    checkLimit(limit);
    this.buckets.set(service, new TokenBucket(limit, this.clock()));
  }

  /**
   * Denies the services' calls (of one principal, or all) for `ms` milliseconds; Infinity: until
   * lifted. Services denied together share one clock: a grant reaches them at the same moment.
   */
  denyFor(services: ServiceName | readonly ServiceName[], ms: number, options: DenyOptions = {}): void {
    if (!(ms > 0)) {
      throw new Error(`denyFor: the duration must be a positive number of milliseconds, got ${ms}`);
    }
    const denial: Denial = { ms, until: options.fromFirstRequest ? undefined : this.clock() + ms, accessKeyId: options.accessKeyId };
    for (const service of typeof services === 'string' ? [services] : services) {
      this.denials.set(service, [...(this.denials.get(service) ?? []), denial]);
    }
  }

  /** Lifts every denial of the service (the grant has propagated). */
  allow(service: ServiceName): void {
    this.denials.delete(service);
  }

  /** What the gates answer to a request now; counts it. A throttled request takes no token. */
  check(service: ServiceName, accessKeyId: string | undefined): GateVerdict {
    const now = this.clock();
    const counts = this.counts.get(service) ?? { served: 0, throttled: 0, denied: 0 };
    this.counts.set(service, counts);
    const bucket = this.buckets.get(service);
    if (bucket && !bucket.take(now)) {
      counts.throttled++;
      return 'throttling';
    }
    const denial = (this.denials.get(service) ?? [])
      .filter((candidate) => candidate.accessKeyId === undefined || candidate.accessKeyId === accessKeyId)
      .find((candidate) => {
        // A denial counted from its first request starts with this one.
        candidate.until ??= now + candidate.ms;
        return now < candidate.until;
      });
    if (denial) {
      counts.denied++;
      return 'access-denied';
    }
    counts.served++;
    return undefined;
  }

  countsOf(service: ServiceName): GateCounts {
    return { served: 0, throttled: 0, denied: 0, ...this.counts.get(service) };
  }

  clear(): void {
    this.buckets.clear();
    this.denials.clear();
    this.counts.clear();
  }
}
