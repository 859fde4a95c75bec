/**
 * A local emulator of the parts of Lightsail, Secrets Manager and S3 that the handlers use, for the
 * unmodified AWS SDK v3 clients (point them at it with `env()` or `endpoint`). S3 answers
 * ListObjectsV2 on the Lightsail buckets, to requests signed with a bucket access key it issued; an
 * S3Client with `endpoint: emu.endpoint` (an IP address) addresses buckets path-style.
 *
 *   const emu = await AwsEmulator.start();
 *   emu.createBucket('my-bucket');
 *   const lightsail = new LightsailClient({ endpoint: emu.endpoint, region: emu.region, credentials });
 *   ...
 *   await emu.stop();
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceError } from './errors';
import { FaultBook, faultError } from './faults';
import { DenyOptions, GateCounts, Gates, RateLimit } from './gates';
import { IamAuthorizer, IamCounts, IamPrincipal, IamResource } from './iam';
import { LightsailBackend } from './lightsail';
import { Answer, Route, checkAuthorization, errorAnswer, signingKeyId, isS3Request, parseInput, readBody, routeOf, send, targetOf } from './protocol';
import { S3Backend } from './s3';
import { parseS3Request } from './s3-protocol';
import { EncryptionKeyDamage, SecretsManagerBackend } from './secrets-manager';
import type { OperationOutcome } from './lightsail';
import type { EmulatorCall, EmulatorOptions, FaultSpec, JsonObject, Place, RotationOptions, ServiceName } from './types';

export type { EmulatorCall, EmulatorOptions, FaultKind, FaultSpec, RotationOptions, ServiceName } from './types';
export type { DenyOptions, GateCounts, RateLimit } from './gates';
export type { IamCounts, IamPrincipal, IdentityPolicy } from './iam';
export { MAX_KEYS_PER_BUCKET } from './lightsail';
export type { OperationOutcome } from './lightsail';
export type { EncryptionKeyDamage } from './secrets-manager';

interface CallRecord {
  readonly service: ServiceName;
  readonly operation: string;
  status: number;
  target?: string;
}

/** A request that gets no answer (a 'hang' fault) until its timer fires or the emulator stops. */
interface HeldRequest {
  readonly response: ServerResponse;
  timer?: NodeJS.Timeout;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export class AwsEmulator {
  /** Starts an emulator on 127.0.0.1, on a random free port. */
  static async start(options: EmulatorOptions = {}): Promise<AwsEmulator> {
    const server = createServer();
    const port = await listen(server);
    const emulator = new AwsEmulator(server, port, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => emulator.onRequest(request, response));
    return emulator;
  }

  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;

  private readonly place: Place;
  private readonly lightsail: LightsailBackend;
  private readonly secrets: SecretsManagerBackend;
  private readonly s3: S3Backend;
  private readonly faults = new FaultBook();
  private readonly gates = new Gates();
  private readonly iam: IamAuthorizer;
  private readonly held = new Set<HeldRequest>();
  private callLog: CallRecord[] = [];
  private stopped = false;

  private constructor(private readonly server: Server, port: number, private readonly options: EmulatorOptions) {
    this.endpoint = `http://127.0.0.1:${port}`;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.place = { region: this.region, accountId: this.accountId };
    this.lightsail = new LightsailBackend(this.place, options.legacyNotFound ?? false);
    this.secrets = new SecretsManagerBackend(this.place);
    this.s3 = new S3Backend(this.place, this.lightsail);
    this.iam = new IamAuthorizer(this.place);
  }

  /** Variables that point the SDK at the emulator (AWS_MAX_ATTEMPTS is deliberately not set). */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_LIGHTSAIL: this.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.endpoint,
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE1',
      AWS_SECRET_ACCESS_KEY: 'emulator/fake/secret/access/key/EXAMPLE1',
    };
  }

  /** Closes the server; hanging requests lose their connection. */
  async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    this.releaseHeld();
    const closed = new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * Forgets all state, faults and calls (not the secrets it issued); releases hanging requests;
   * restores the start options.
   */
  reset(): void {
    this.releaseHeld();
    this.lightsail.reset(this.options.legacyNotFound ?? false);
    this.secrets.reset();
    this.s3.reset();
    this.faults.clear();
    this.gates.clear();
    this.iam.clear();
    this.callLog = [];
  }

  /** Answer Lightsail "not found" with `code: 'DoesNotExist'` and no `__type` (older SDKs' view). */
  setLegacyNotFound(enabled: boolean): void {
    this.lightsail.legacyNotFound = enabled;
  }

  // ----- setup -----

  createBucket(name: string): { name: string; arn: string; url: string } {
    return this.lightsail.createBucket(name);
  }

  /** Deletes the bucket and its keys (as CloudFormation's forced delete); `missingOk`: one gone already is no error. */
  deleteBucket(name: string, options: { missingOk?: boolean } = {}): void {
    if (!options.missingOk || this.lightsail.hasBucket(name)) {
      this.lightsail.deleteBucket(name);
    }
  }

  /** `tags`: the secret's tags, which IAM conditions (`aws:ResourceTag/...`) see. */
  createSecret(name: string, tags: Record<string, string> = {}): { arn: string } {
    return this.secrets.createSecret(name, tags);
  }

  /**
   * From now on, requests signed with `accessKeyId` are authorized against these identity policies
   * (see iam.ts); calling it again replaces them in place. reset() forgets every principal.
   */
  setPrincipalPolicies(accessKeyId: string, principal: IamPrincipal): void {
    this.iam.setPrincipal(accessKeyId, principal);
  }

  /** The principal and policies requests signed with `accessKeyId` are judged by now, if any. */
  principalPolicies(accessKeyId: string): IamPrincipal | undefined {
    return this.iam.principal(accessKeyId);
  }

  /** How many requests IAM allowed and denied since the last reset(). */
  iamCounts(): IamCounts {
    return this.iam.countsOf();
  }

  /** Deletes the secret at once, without a recovery window, as CloudFormation does; one gone already is no error. */
  deleteSecret(secretId: string): void {
    this.secrets.forceDelete(secretId);
  }

  addForeignAccessKey(bucketName: string): { accessKeyId: string; secretAccessKey: string } {
    return this.lightsail.addForeignAccessKey(bucketName);
  }

  /**
   * The next `requests` S3 requests signed with this key are refused with InvalidAccessKeyId, as
   * when a new key has not reached S3 yet; 0 lifts the delay. Requests answered by an injected
   * fault do not count.
   */
  delayKeyPropagation(accessKeyId: string, requests: number): void {
    this.s3.delayKeyPropagation(accessKeyId, requests);
  }

  /** Rotation configured and on: DescribeSecret reports RotationEnabled, RotationLambdaARN, RotationRules. */
  enableRotation(secretId: string, options: RotationOptions = {}): void {
    this.secrets.enableRotation(secretId, options);
  }

  /** As CancelRotateSecret: RotationEnabled false; the configuration is still described. */
  disableRotation(secretId: string): void {
    this.secrets.disableRotation(secretId);
  }

  /**
   * What RotateSecret does before it invokes the rotation function: turns rotation on and adds
   * version `token`, labelled AWSPENDING and without a value. Fails as RotateSecret does while a
   * previous rotation is unfinished (AWSPENDING on a version other than AWSCURRENT), unless `token`
   * is that rotation's (Secrets Manager retries it with the same token).
   */
  beginRotation(secretId: string, token: string): void {
    this.secrets.beginRotation(secretId, token);
  }

  /** The next Lightsail operation of that type stays Started for some GetOperation polls, or fails (see OperationOutcome). */
  queueLightsailOperation(outcome: OperationOutcome): void {
    this.lightsail.queueOperationOutcome(outcome);
  }

  /** The secret's encryption key can no longer decrypt it: GetSecretValue answers `damage`. */
  damageEncryptionKey(secretId: string, damage: EncryptionKeyDamage): void {
    this.secrets.damageEncryptionKey(secretId, damage);
  }

  injectFault(fault: FaultSpec): void {
    this.faults.add(fault);
  }

  /** Drops the faults still queued (the operator fixed the cause); state and calls stay. */
  clearFaults(): void {
    this.faults.clear();
  }

  /**
   * Throttles the service as AWS does: a token bucket of `burst` tokens (full now), refilled at
   * `ratePerSecond`; a request that finds it empty gets ThrottlingException (S3: SlowDown) before the
   * operation runs. `undefined` lifts the limit. reset() lifts it too.
   */
  limitRate(service: ServiceName, limit: RateLimit | undefined): void {
    this.gates.limitRate(service, limit);
  }

  /**
   * Denies the services' calls with AccessDeniedException (S3: AccessDenied) for `ms` from now (or
   * from the first request it meets, with `fromFirstRequest`; services denied together share that
   * clock), as while a new IAM grant propagates; `Infinity` until allow() or reset(). `accessKeyId`
   * limits the denial to that principal's requests.
   */
  denyFor(services: ServiceName | readonly ServiceName[], ms: number, options: DenyOptions = {}): void {
    this.gates.denyFor(services, ms, options);
  }

  /** Lifts every denial of the service. */
  allow(service: ServiceName): void {
    this.gates.allow(service);
  }

  // ----- inspection -----

  /** How the service's requests since the last reset() were answered: served, throttled, denied. */
  gateCounts(service: ServiceName): GateCounts {
    return this.gates.countsOf(service);
  }

  accessKeys(bucketName: string): Array<{ accessKeyId: string; status: string }> {
    return this.lightsail.accessKeys(bucketName);
  }

  secretVersions(secretId: string): Array<{ versionId: string; stages: string[]; secretString?: string }> {
    return this.secrets.secretVersions(secretId);
  }

  currentSecretValue(secretId: string): string | undefined {
    return this.secrets.currentSecretValue(secretId);
  }

  /** Every secret access key this emulator handed out (foreign keys included), for leak checks. */
  issuedSecretAccessKeys(): string[] {
    return this.lightsail.issuedSecretAccessKeys();
  }

  /**
   * Every request that named a known service (X-Amz-Target), or went to S3 (no X-Amz-Target), faulted
   * ones included, in arrival order.
   */
  calls(): EmulatorCall[] {
    return this.callLog.map((call) => ({ ...call }));
  }

  // ----- request handling -----

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    readBody(request)
      .then((body) => (isS3Request(request.headers) ? this.dispatchS3(request, response, body) : this.dispatch(request, response, body)))
      .catch((error: unknown) => send(response, errorAnswer(error)));
  }

  private dispatch(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    let route: Route;
    try {
      route = routeOf(request.method, request.headers);
    } catch (error) {
      send(response, errorAnswer(error));
      return;
    }
    const call: CallRecord = { service: route.service, operation: route.operation, status: 0 };
    this.callLog.push(call);
    let input: JsonObject;
    try {
      checkAuthorization(request.headers);
      input = parseInput(request.headers, body);
    } catch (error) {
      this.answer(response, call, errorAnswer(error));
      return;
    }
    call.target = targetOf(input);
    const accessKeyId = signingKeyId(request.headers);
    this.applyFaultOrExecute(response, call, accessKeyId, () => this.execute(route, input),
      () => this.iam.authorize(accessKeyId, route.service, route.operation, this.iamResource(route, input)));
  }

  /** The resource IAM judges the request on (iam.ts says why each). */
  private iamResource(route: Route, input: JsonObject): IamResource | undefined {
    if (route.service === 'secretsmanager') {
      return this.secrets.iamResource(input.SecretId);
    }
    if (['CreateBucketAccessKey', 'DeleteBucketAccessKey'].includes(route.operation)) {
      const arn = this.lightsail.bucketArn(input.bucketName);
      return arn === undefined ? undefined : { arn, tags: {} };
    }
    return { arn: '*', tags: {} };
  }

  /** S3 checks the signature after a fault: an injected fault stands for S3's front end failing. */
  private dispatchS3(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    const s3Request = parseS3Request(request);
    const call: CallRecord = { service: 's3', operation: s3Request.operation, status: 0, target: s3Request.bucket };
    this.callLog.push(call);
    this.applyFaultOrExecute(response, call, signingKeyId(request.headers), () => this.s3.handle(s3Request, body));
  }

  /** The gates answer first, as AWS's front end does; then IAM; then an injected fault; then the service. */
  private applyFaultOrExecute(
    response: ServerResponse,
    call: CallRecord,
    accessKeyId: string | undefined,
    execute: () => Answer,
    authorize: () => Promise<ServiceError | undefined> = async () => undefined,
  ): void {
    const gated = this.gates.check(call.service, accessKeyId);
    if (gated) {
      this.answer(response, call, errorAnswer(faultError(call.service, gated, call.operation, this.place, call.target)));
      return;
    }
    authorize().then((denied) => {
      if (denied) {
        this.answer(response, call, errorAnswer(denied));
      } else {
        this.faultOrExecute(response, call, execute);
      }
    }, (error: unknown) => this.answer(response, call, errorAnswer(error)));
  }

  private faultOrExecute(response: ServerResponse, call: CallRecord, execute: () => Answer): void {
    const fault = this.faults.take(call.operation);
    if (!fault) {
      this.answer(response, call, execute());
      return;
    }
    const result = fault.afterEffect ? execute() : undefined;
    if (fault.kind === 'hang') {
      this.hold(response, fault.hangMs, () => this.answer(response, call, result ?? execute()));
      return;
    }
    this.answer(response, call, errorAnswer(faultError(call.service, fault.kind, call.operation, this.place, call.target)));
  }

  private execute(route: Route, input: JsonObject): Answer {
    try {
      const body = route.service === 'lightsail'
        ? this.lightsail.handle(route.operation, input)
        : this.secrets.handle(route.operation, input);
      return { status: 200, body };
    } catch (error) {
      return errorAnswer(error);
    }
  }

  private answer(response: ServerResponse, call: CallRecord, answer: Answer): void {
    call.status = answer.status;
    send(response, answer);
  }

  /** Leaves the request unanswered; after `hangMs` (if given) `then` runs, even if the client gave up. */
  private hold(response: ServerResponse, hangMs: number | undefined, then: () => void): void {
    const held: HeldRequest = { response };
    if (hangMs !== undefined) {
      held.timer = setTimeout(() => {
        this.held.delete(held);
        then();
      }, hangMs);
    }
    this.held.add(held);
  }

  private releaseHeld(): void {
    for (const held of this.held) {
      clearTimeout(held.timer);
      held.response.destroy();
    }
    this.held.clear();
  }
}
