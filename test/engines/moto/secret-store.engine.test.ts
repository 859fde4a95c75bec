/**
 * The handlers' secret-store and key-slot paths (lambda/secret-store.ts, lambda/key-slots.ts) against
 * two Secrets Manager servers: moto's and the project's emulator. The real modules run, with their
 * SDK clients pointed at each server in turn by AWS_ENDPOINT_URL_SECRETS_MANAGER (they create their
 * clients at import, so each server gets its own copy of the modules: jest.isolateModulesAsync).
 * The same calls in the same order: what the deployments and a rotation do to the key's secret.
 * After every step the observable state (labels by version, GetSecretValue of every version id used)
 * must be the same on both, after the normalizations named in differential.ts; where AWS documents
 * the outcome, the labels must also be what it says (PutSecretValue, UpdateSecretVersionStage:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html,
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
 */
import type { StoredAccessKey } from '../../../lib/contract';
import {
  BothServers, Normalizer, Observed, SecretsManagerUnderTest, outcome, snapshot, startBoth, withEnv,
} from './differential';

type SecretStore = typeof import('../../../lambda/secret-store');
type KeySlots = typeof import('../../../lambda/key-slots');
type Retry = typeof import('../../../lambda/retry');

interface Context {
  readonly store: SecretStore;
  readonly slots: KeySlots;
  readonly secretArn: string;
  /** Lightsail keys of the bucket, made in the emulator that serves Lightsail (moto has none). */
  readonly keyIds: string[];
  readonly server: SecretsManagerUnderTest;
}

const BUCKET = 'engine-bucket';
const SECRET_NAME = 'EngineKeySecret';
/** Version ids: the ClientRequestTokens the handlers pass (CloudFormation's RequestIds, rotation's token). */
const CREATE = '11111111-1111-4111-8111-111111111111';
const UPDATE = '22222222-2222-4222-8222-222222222222';
const ROTATION = '33333333-3333-4333-8333-333333333333';
const VERSION_IDS = [CREATE, UPDATE, ROTATION];

/** A value as the handlers store it. The secret access key is made up: only the key id matters to Lightsail here. */
function storedKey(context: Context, index: number, serial = '1'): StoredAccessKey {
  return {
    accessKeyId: context.keyIds[index],
    secretAccessKey: `made-up-secret-access-key-${index + 1}`,
    bucketName: BUCKET,
    region: 'us-east-1',
    serial,
  };
}

interface Step {
  readonly name: string;
  run(context: Context): Promise<unknown>;
  /** The labels AWS documents after this step, when the step is about them. */
  readonly stages?: Record<string, string[]>;
}

const SCENARIO: Step[] = [
  { name: 'an empty secret: rotation off, no versions', run: ({ store, secretArn }) => store.describeVersions(secretArn), stages: {} },
  { name: 'an empty secret: no AWSCURRENT to read', run: ({ store, secretArn }) => store.readVersion(secretArn, { VersionStage: 'AWSCURRENT' }) },
  { name: 'an empty secret holds no key', run: ({ slots, secretArn }) => slots.heldVersions(secretArn) },
  {
    name: 'Create stores the key: the first version is AWSCURRENT',
    run: (context) => context.store.storeAccessKey(context.secretArn, CREATE, storedKey(context, 0)),
    stages: { [CREATE]: ['AWSCURRENT'] },
  },
  {
    name: 'the same call again (a retry after a lost answer) is a no-op',
    run: (context) => context.store.storeAccessKey(context.secretArn, CREATE, storedKey(context, 0)),
    stages: { [CREATE]: ['AWSCURRENT'] },
  },
  {
    name: 'the same token with another value fails (ResourceExistsException), nothing changes',
    run: (context) => context.store.storeAccessKey(context.secretArn, CREATE, storedKey(context, 1)),
    stages: { [CREATE]: ['AWSCURRENT'] },
  },
  { name: 'Create\'s version, read by its id (the handler\'s retry check)', run: ({ store, secretArn }) => store.readVersion(secretArn, { VersionId: CREATE }) },
  {
    name: 'an Update by serial stores the new key: AWSCURRENT moves, the old version becomes AWSPREVIOUS',
    run: (context) => context.store.storeAccessKey(context.secretArn, UPDATE, storedKey(context, 1, '2')),
    stages: { [CREATE]: ['AWSPREVIOUS'], [UPDATE]: ['AWSCURRENT'] },
  },
  { name: 'the held versions after the update', run: ({ slots, secretArn }) => slots.heldVersions(secretArn) },
  { name: 'AWSPREVIOUS, read whole', run: ({ store, secretArn }) => store.readStoredKey(secretArn, { VersionStage: 'AWSPREVIOUS' }) },
  {
    name: 'a rollback\'s Delete of the new key makes the old version current again',
    run: ({ store, secretArn }) => store.makeCurrent(secretArn, CREATE, UPDATE),
    stages: { [CREATE]: ['AWSCURRENT'], [UPDATE]: ['AWSPREVIOUS'] },
  },
  {
    name: 'and back, as a second update would leave it',
    run: ({ store, secretArn }) => store.makeCurrent(secretArn, UPDATE, CREATE),
    stages: { [CREATE]: ['AWSPREVIOUS'], [UPDATE]: ['AWSCURRENT'] },
  },
  {
    name: 'moving AWSCURRENT from a version that does not hold it fails, nothing changes',
    run: ({ store, secretArn }) => store.makeCurrent(secretArn, CREATE, CREATE),
    stages: { [CREATE]: ['AWSPREVIOUS'], [UPDATE]: ['AWSCURRENT'] },
  },
  { name: 'rotation\'s createSecret: no AWSPENDING yet', run: ({ store, secretArn }) => store.readVersion(secretArn, { VersionStage: 'AWSPENDING' }) },
  {
    name: 'rotation frees a slot of the full bucket: the key only AWSPREVIOUS holds is deleted',
    run: async ({ slots, secretArn, keyIds, server }) => ({
      remaining: await slots.freeSlot(BUCKET, keyIds.slice(0, 2), secretArn, { keepVersionId: ROTATION }),
      bucketKeys: server.lightsail.accessKeys(BUCKET).map((key) => key.accessKeyId),
    }),
  },
  {
    name: 'rotation stores the new key as AWSPENDING: no other label moves',
    run: (context) => context.store.storeAccessKey(context.secretArn, ROTATION, storedKey(context, 2, '2'), 'AWSPENDING'),
    stages: { [CREATE]: ['AWSPREVIOUS'], [UPDATE]: ['AWSCURRENT'], [ROTATION]: ['AWSPENDING'] },
  },
  { name: 'rotation reads its pending version by id and stage', run: ({ store, secretArn }) => store.readStoredKey(secretArn, { VersionId: ROTATION, VersionStage: 'AWSPENDING' }) },
  { name: 'rotation reads the version it must not confuse with its own', run: ({ store, secretArn }) => store.readVersion(secretArn, { VersionId: UPDATE, VersionStage: 'AWSPENDING' }) },
  { name: 'the labels rotation sees', run: ({ store, secretArn }) => store.describeVersions(secretArn) },
  { name: 'the held versions during rotation', run: ({ slots, secretArn }) => slots.heldVersions(secretArn) },
  {
    name: 'finishSecret moves AWSCURRENT: the old current becomes AWSPREVIOUS, the older one is deprecated',
    run: ({ store, secretArn }) => store.makeCurrent(secretArn, ROTATION, UPDATE),
    stages: { [UPDATE]: ['AWSPREVIOUS'], [ROTATION]: ['AWSCURRENT', 'AWSPENDING'] },
  },
  {
    name: 'finishSecret removes AWSPENDING',
    run: ({ store, secretArn }) => store.removeStage(secretArn, 'AWSPENDING', ROTATION),
    stages: { [UPDATE]: ['AWSPREVIOUS'], [ROTATION]: ['AWSCURRENT'] },
  },
  {
    name: 'removing AWSPENDING again fails: no version holds it',
    run: ({ store, secretArn }) => store.removeStage(secretArn, 'AWSPENDING', ROTATION),
    stages: { [UPDATE]: ['AWSPREVIOUS'], [ROTATION]: ['AWSCURRENT'] },
  },
  { name: 'the deprecated version is still readable by its id', run: ({ store, secretArn }) => store.readVersion(secretArn, { VersionId: CREATE }) },
  { name: 'the held versions after rotation', run: ({ slots, secretArn }) => slots.heldVersions(secretArn) },
  {
    name: 'a rollback makes the pre-rotation key current again',
    run: ({ store, secretArn }) => store.makeCurrent(secretArn, UPDATE, ROTATION),
    stages: { [UPDATE]: ['AWSCURRENT'], [ROTATION]: ['AWSPREVIOUS'] },
  },
];

interface StepRecord {
  readonly result: Observed;
  readonly state: Awaited<ReturnType<typeof snapshot>>;
}

/** The scenario against one server, through its own copy of the handler modules. */
async function runScenario(server: SecretsManagerUnderTest): Promise<StepRecord[]> {
  const normalizer = new Normalizer();
  server.lightsail.createBucket(BUCKET);
  const keyIds = [0, 1].map(() => server.lightsail.addForeignAccessKey(BUCKET).accessKeyId);
  // The third key is the one rotation makes once a slot is free; made ahead, its id is named in the same order on both runs.
  normalizer.text(keyIds.join(' '));
  const secretArn = await server.createEmptySecret(SECRET_NAME);
  const client = server.client();
  return withEnv(server.env(), async () => {
    let modules: { store: SecretStore; slots: KeySlots; retry: Retry } | undefined;
    await jest.isolateModulesAsync(async () => {
      modules = {
        store: await import('../../../lambda/secret-store'),
        slots: await import('../../../lambda/key-slots'),
        retry: await import('../../../lambda/retry'),
      };
    });
    const { retry, ...handlerModules } = modules!;
    const context: Context = { ...handlerModules, secretArn, keyIds, server };
    // Each step is one event of a handler, with a Lambda context's time (the onEvent function's 5 minutes).
    const lambdaContext = { getRemainingTimeInMillis: () => 300_000 };
    const records: StepRecord[] = [];
    for (const step of SCENARIO) {
      if (step.name.startsWith('rotation stores the new key')) {
        // A slot should be free now; if the server under test kept the bucket full, a made-up id
        // lets the run go on (the freeSlot step already differs).
        const room = server.lightsail.accessKeys(BUCKET).length < 2;
        keyIds.push(room ? server.lightsail.addForeignAccessKey(BUCKET).accessKeyId : 'AKIANOSLOTWASFREED22');
        normalizer.text(keyIds[2]);
      }
      const result = await outcome(normalizer, () => retry.runEvent(lambdaContext, () => step.run(context)));
      records.push({ result, state: await snapshot(client, normalizer, secretArn, VERSION_IDS) });
    }
    return records;
  });
}

describe('the secret-store and key-slot paths on moto and on local/', () => {
  let both: BothServers;
  const runs = new Map<string, StepRecord[]>();

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined); // the handlers' step log
    both = await startBoth();
    for (const server of both.servers) {
      runs.set(server.name, await runScenario(server));
    }
  });

  afterAll(async () => {
    await both?.stop();
    jest.restoreAllMocks();
  });

  test.each(SCENARIO.map((step, index) => [index + 1, step.name, step] as const))('step %i, %s: the same on both', (number, _name, step) => {
    const [local, moto] = [runs.get('local')![number - 1], runs.get('moto')![number - 1]];
    expect(moto).toEqual(local);
    if (step.stages) {
      expect(local.state.stages).toEqual(step.stages);
    }
  });

  test('the run did real work on both: the errors it meant to provoke, and only those', () => {
    for (const records of runs.values()) {
      const errors = records.map((record) => (record.result as { error?: string } | null)?.error).filter(Boolean);
      expect(errors).toEqual([
        expect.stringMatching(/^Could not store access key <key 2> in secret arn:aws:secretsmanager:us-east-1:123456789012:secret:EngineKeySecret-<suffix>: ResourceExistsException$/),
        expect.stringMatching(/^Could not make version 1{8}-.* current: InvalidParameterException$/),
        // GetSecretValue with a VersionId and a VersionStage that version does not hold.
        expect.stringMatching(/^Could not read version 2{8}-.* AWSPENDING of secret .*: InvalidRequestException$/),
        expect.stringMatching(/^Could not remove AWSPENDING from version 3{8}-.*: InvalidParameterException$/),
      ]);
      const freed = records[SCENARIO.findIndex((step) => step.name.startsWith('rotation frees a slot'))];
      expect(freed.result).toEqual({ remaining: ['<key 2>'], bucketKeys: ['<key 2>'] });
      expect(records[records.length - 1].state.versions[UPDATE]).toEqual({
        value: JSON.stringify({ accessKeyId: '<key 2>', secretAccessKey: 'made-up-secret-access-key-2', bucketName: BUCKET, region: 'us-east-1', serial: '2' }),
        stages: ['AWSCURRENT'],
      });
    }
  });
});
