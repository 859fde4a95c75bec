/**
 * issue 16 §2: a CloudFormation nobody here wrote. ministack (PyPI, pinned in requirements.txt) deploys
 * the example app with the real CDK CLI (`cdk bootstrap`, `cdk deploy`, `cdk destroy`), its own
 * CloudFormation running the real Provider framework and the bundled handler as local node processes,
 * its own Secrets Manager holding the secret; Lightsail (which ministack lacks) is local/'s emulator.
 * Steps: create, a serial bump, an update that fails after the key and rolls back, destroy. After each:
 * the bucket holds exactly the keys it should, the secret's AWSCURRENT holds the right key (and it
 * works against the bucket), no key is orphaned, and no secret access key appears in anything
 * ministack printed or kept (its output, its files, CloudWatch Logs), in the stack events, or in what
 * the CDK CLI printed and wrote (cdk.out).
 *
 * The app is a variant of bin/example-app.ts (variant-stack.ts): ministack has no AWS::Lightsail::Bucket,
 * so the bucket is made in local/'s emulator and given by `bucketName`; and no
 * AWS::SecretsManager::RotationSchedule, so the key does not rotate (rotation stays covered by local/'s
 * rotation driver, test/lifecycle/rotation.test.ts). The first test proves the variant is otherwise the example.
 *
 * Where ministack 1.5.33 deviates from AWS's CloudFormation (each decided from AWS's documentation; see
 * README "ministack: a third-party CloudFormation"), the test says so where it meets it:
 * - Ref of AWS::SecretsManager::Secret is the secret's name, not its ARN (the `SecretArn` output and
 *   the key's `SecretArn` property are names; Secrets Manager accepts either as SecretId).
 * - A secret created with neither SecretString nor GenerateSecretString gets an AWSCURRENT version
 *   holding "" (AWS creates no version), so after the first key AWSPREVIOUS labels that empty version.
 * - A custom resource whose Create failed gets no Delete in the rollback (AWS sends one: aws/aws-cdk#5525).
 * - Events: a resource an update adds reports UPDATE_IN_PROGRESS / UPDATE_FAILED (AWS: CREATE_*);
 *   resources an update leaves alone still report UPDATE_IN_PROGRESS / UPDATE_COMPLETE (AWS: nothing);
 *   the clean-up delete of a replaced resource after a successful update reports no event.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StackEvent } from '@aws-sdk/client-cloudformation';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fs from 'fs';
import * as path from 'path';
import { ExampleStack } from '../../../bin/example-stack';
import type { StoredAccessKey } from '../../../lib/contract';
import { AwsEmulator } from '../../../local/emulator';
import { CdkCli, CdkRun } from './cdk-cli';
import { CapturedText, Ministack } from './ministack-server';
import { MinistackState, SecretVersion } from './ministack-state';
import { FAIL_AFTER_KEY_REASON, MinistackVariantStack } from './variant-stack';

const REGION = 'us-east-1';
/** ministack's default account, which the fake credentials map to. */
const ACCOUNT = '000000000000';
const STACK = 'LightsailBucketAccessKeyExample';
const BUCKET = 'ministack-engine-bucket';
const KEY_ID = 'AppKey51DFC408';

// Each step is one CDK CLI run (ts-node synth, asset publishing, the deployment): 15-60 s on 2 cores.
jest.setTimeout(240_000);

let emulator: AwsEmulator;
let ministack: Ministack;
let cdk: CdkCli;
let cloud: MinistackState;
let stackId: string;
let secretId: string;
const keys: { first?: string; second?: string; third?: string } = {};

beforeAll(async () => {
  emulator = await AwsEmulator.start({ region: REGION, accountId: ACCOUNT });
  emulator.createBucket(BUCKET);
  ministack = await Ministack.start({ lightsailEndpoint: emulator.endpoint, region: REGION });
  cdk = new CdkCli(ministack.endpoint, REGION, ACCOUNT);
  cloud = new MinistackState(ministack.endpoint, REGION);
}, 120_000);

afterAll(async () => {
  cdk?.stopRunning();
  cloud?.destroy();
  await ministack?.stop();
  await emulator?.stop();
  ministack?.removeWorkDir();
  cdk?.removeHome();
});

test('the deployed app is the example app less the bucket and rotation', () => {
  const example = Template.fromStack(new ExampleStack(new App(), STACK, { bucketName: BUCKET, serial: 1 })).toJSON();
  const variant = Template.fromStack(new MinistackVariantStack(new App(), STACK, { bucketName: BUCKET, serial: 1 })).toJSON();
  const types = (template: typeof example) =>
    Object.fromEntries(Object.entries(template.Resources as Record<string, { Type: string }>).map(([id, resource]) => [id, resource.Type]));
  const exampleTypes = types(example);
  const variantTypes = types(variant);

  // Same logical ids and types, less the bucket and what rotation (and its alert) needs.
  expect(Object.entries(variantTypes).filter(([id, type]) => exampleTypes[id] !== type)).toEqual([]);
  expect(Object.keys(exampleTypes).filter((id) => !(id in variantTypes)).filter((id) => !/^Bucket$|Rotation/.test(id))).toEqual([]);
  expect(variantTypes[KEY_ID]).toBe('Custom::LightsailBucketAccessKey');
  // The same handler and Provider framework, as deployed.
  for (const [id, type] of Object.entries(variantTypes)) {
    if (type === 'AWS::Lambda::Function') {
      expect([id, variant.Resources[id].Properties]).toEqual([id, example.Resources[id].Properties]);
    }
  }
});

test('cdk bootstrap', async () => {
  expectExit(await cdk.bootstrap(), 0);
});

test('create: one key, held by the secret as AWSCURRENT', async () => {
  expectExit(await cdk.deploy({ bucketName: BUCKET, serial: 1 }), 0);
  const stack = await cloud.stack(STACK);
  expect(stack.StackStatus).toBe('CREATE_COMPLETE');
  stackId = stack.StackId!;
  const outputs = await cloud.outputs(STACK);
  // ministack: Ref of the secret is its name (AWS: its ARN). Either works as a SecretId.
  secretId = outputs.SecretArn;
  expect(secretId).toMatch(new RegExp(`^${STACK}-AppKeySecret`));
  keys.first = outputs.AccessKeyId;
  // ministack: the secret, created empty, had a version holding "" (AWS: no version), which the
  // first key's PutSecretValue moved to AWSPREVIOUS.
  const empty = (await cloud.secretVersions(secretId)).filter((version) => version.secretString === '');
  expect(empty.map((version) => version.stages)).toEqual([['AWSPREVIOUS']]);

  await expectSettled({ bucketKeys: [keys.first], current: keys.first, issued: 1 });
});

test('serial bump: a new key in the secret, the old key deleted', async () => {
  expectExit(await cdk.deploy({ bucketName: BUCKET, serial: 2 }), 0);
  expect((await cloud.stack(STACK)).StackStatus).toBe('UPDATE_COMPLETE');
  keys.second = (await cloud.outputs(STACK)).AccessKeyId;
  expect(keys.second).not.toBe(keys.first);

  // ministack reports no clean-up phase: AWS's events go on with UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
  // and the DELETE_IN_PROGRESS / DELETE_COMPLETE of the old key's id before UPDATE_COMPLETE
  // (AWS CloudFormation User Guide, "Monitor the progress of a stack update").
  expect(keyAndStackLines(thisOperation(await cloud.events(stackId)))).toEqual([
    `${STACK} UPDATE_IN_PROGRESS`,
    `${KEY_ID} UPDATE_IN_PROGRESS`,
    `${KEY_ID} UPDATE_COMPLETE ${keys.second}`,
    `${STACK} UPDATE_COMPLETE`,
  ]);
  // The clean-up Delete was sent all the same, with the first key's id: the handler deleted it.
  expect(ministack.output()).toContain(`{"step":"key-deleted","bucketName":"${BUCKET}","accessKeyId":"${keys.first}"}`);

  await expectSettled({ bucketKeys: [keys.second!], current: keys.second, issued: 2 });
});

test('an update that fails after the key rolls back: the new key deleted, the old key AWSCURRENT again', async () => {
  const run = await cdk.deploy({ bucketName: BUCKET, serial: 3, failAfterKey: true });
  expectExit(run, 1);
  expect(run.output).toContain(FAIL_AFTER_KEY_REASON);
  expect((await cloud.stack(STACK)).StackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect((await cloud.outputs(STACK)).AccessKeyId).toBe(keys.second);

  const events = thisOperation(await cloud.events(stackId));
  const replaced = events.find((event) => event.LogicalResourceId === KEY_ID && event.ResourceStatus === 'UPDATE_COMPLETE');
  keys.third = replaced?.PhysicalResourceId;
  expect(keys.third).toMatch(/^AKIA/);
  expect([keys.first, keys.second]).not.toContain(keys.third);
  // In CloudFormation's order: the key replaced, the resource after it failed, the rollback, whose
  // clean-up deletes the new key.
  expect(keyAndStackLines(events)).toEqual([
    `${STACK} UPDATE_IN_PROGRESS`,
    `${KEY_ID} UPDATE_IN_PROGRESS`,
    `${KEY_ID} UPDATE_COMPLETE ${keys.third}`,
    // ministack: a resource the update adds reports UPDATE_* (AWS: CREATE_IN_PROGRESS, CREATE_FAILED).
    'FailAfterKey UPDATE_IN_PROGRESS',
    'FailAfterKey UPDATE_FAILED',
    `${STACK} UPDATE_ROLLBACK_IN_PROGRESS`,
    `${STACK} UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`,
    `${KEY_ID} DELETE_IN_PROGRESS ${keys.third}`,
    `${KEY_ID} DELETE_COMPLETE ${keys.third}`,
    `${STACK} UPDATE_ROLLBACK_COMPLETE`,
  ]);
  // ministack sends the failed custom resource no Delete; AWS would (aws/aws-cdk#5525), and the
  // Provider framework's CREATE_FAILED marker exists for it (test/lifecycle/lifecycle.test.ts).
  expect(failAfterKeyRequests(await cloud.readLogEvents())).toEqual(['Create']);

  // The third key was made (the failure came after it) and deleted again.
  await expectSettled({ bucketKeys: [keys.second!], current: keys.second, issued: 3 });
});

test('cdk destroy: no key, no secret, no function left', async () => {
  expectExit(await cdk.destroy({ bucketName: BUCKET, serial: 2 }), 0);
  expect((await cloud.stack(stackId)).StackStatus).toBe('DELETE_COMPLETE');
  expect(await cloud.secretNames()).not.toContain(secretId);
  expect((await cloud.functionNames()).filter((name) => name.startsWith(STACK))).toEqual([]);

  await expectSettled({ bucketKeys: [], issued: 3 });
});

// ----- checks -----

interface Expected {
  readonly bucketKeys: string[];
  /** The key the secret's AWSCURRENT must hold; none once the stack is gone. */
  readonly current?: string;
  /** How many keys local/'s Lightsail has issued so far. */
  readonly issued: number;
}

async function expectSettled(expected: Expected): Promise<void> {
  expect(emulator.accessKeys(BUCKET).map((key) => key.accessKeyId).sort()).toEqual([...expected.bucketKeys].sort());
  expect(emulator.issuedSecretAccessKeys()).toHaveLength(expected.issued);
  if (expected.current !== undefined) {
    const versions = await cloud.secretVersions(secretId);
    const current = storedKey(versions.find((version) => version.stages.includes('AWSCURRENT')));
    expect(current).toEqual(expect.objectContaining({ accessKeyId: expected.current, bucketName: BUCKET, region: REGION }));
    await expectKeyWorks(current!);
    // No orphan: every key of the bucket is one a labelled version of the secret holds.
    const held = versions.filter((version) => version.stages.length > 0).map((version) => storedKey(version)?.accessKeyId);
    expect(expected.bucketKeys.filter((id) => !held.includes(id))).toEqual([]);
  }
  await expectNoLeak(expected.current);
}

/** The key signs a ListObjectsV2 on its bucket, which local/'s S3 verifies against the secret it issued. */
async function expectKeyWorks(key: StoredAccessKey): Promise<void> {
  const s3 = new S3Client({
    endpoint: emulator.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  });
  try {
    await expect(s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).resolves.toBeDefined();
  } finally {
    s3.destroy();
  }
}

/** ministack's initial version of an empty secret holds "" (see the file comment): not a key. */
function storedKey(version: SecretVersion | undefined): StoredAccessKey | undefined {
  return version?.secretString ? JSON.parse(version.secretString) as StoredAccessKey : undefined;
}

async function expectNoLeak(currentKeyId: string | undefined): Promise<void> {
  const logEvents = await cloud.readLogEvents();
  if (stackId !== undefined) {
    await cloud.events(stackId);
  }
  const texts: CapturedText[] = [
    { where: 'ministack output', text: ministack.output() },
    ...ministack.files(),
    ...logEvents,
    ...cloud.allStackEvents().map((event) => ({ where: `stack event ${event.EventId}`, text: JSON.stringify(event) })),
    ...cdk.runs.map((run) => ({ where: run.command, text: run.output })),
    ...assemblyFiles(cdk.outDir),
  ];
  // The capture reaches the handler's own log lines, in ministack's output and in CloudWatch Logs.
  if (currentKeyId !== undefined) {
    expect(ministack.output()).toContain(`"step":"key-stored","bucketName":"${BUCKET}","accessKeyId":"${currentKeyId}"`);
    expect(logEvents.some(({ text }) => text.includes('"step":"key-stored"'))).toBe(true);
  }
  const secrets = emulator.issuedSecretAccessKeys();
  expect(secrets.length).toBeGreaterThan(0);
  expect(texts.flatMap(({ where, text }) => secrets.filter((secret) => text.includes(secret)).map(() => where))).toEqual([]);
}

function assemblyFiles(directory: string): CapturedText[] {
  if (!fs.existsSync(directory)) {
    return [];
  }
  return fs.readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .map((file) => path.join(directory, file))
    .filter((file) => fs.statSync(file).isFile())
    .map((file) => ({ where: file, text: fs.readFileSync(file).toString('latin1') }));
}

// ----- helpers -----

/** `code` 0: the run succeeded; any other: it failed. The whole output otherwise: it says what failed. */
function expectExit(run: CdkRun, code: number): void {
  if ((run.code === 0) !== (code === 0)) {
    throw new Error(`${run.command} exited with ${run.code}, expected ${code === 0 ? 'success' : 'a failure'}:\n${run.output}`);
  }
}

/** The events of the last operation on the stack: from its last `UPDATE_IN_PROGRESS` on. */
function thisOperation(events: StackEvent[]): StackEvent[] {
  const start = events.map(eventLine).lastIndexOf(`${STACK} UPDATE_IN_PROGRESS`);
  return events.slice(start);
}

/** The events of the key, of the failing resource and of the stack itself, as `LogicalId STATUS [key id]`. */
function keyAndStackLines(events: StackEvent[]): string[] {
  return events.filter((event) => [KEY_ID, 'FailAfterKey', STACK].includes(event.LogicalResourceId!)).map(eventLine);
}

function eventLine(event: StackEvent): string {
  const physicalId = event.LogicalResourceId === KEY_ID && event.PhysicalResourceId ? ` ${event.PhysicalResourceId}` : '';
  return `${event.LogicalResourceId} ${event.ResourceStatus}${physicalId}`;
}

/** The request types the failing resource's function logged (variant-stack.ts). */
function failAfterKeyRequests(logEvents: CapturedText[]): string[] {
  return logEvents.flatMap(({ text }) => {
    const match = /\{"failAfterKeyRequest":"(\w+)"\}/.exec(text);
    return match ? [match[1]] : [];
  });
}
