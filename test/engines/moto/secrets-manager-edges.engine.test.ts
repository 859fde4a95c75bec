/**
 * Secrets Manager's edge cases, by raw SDK calls, on moto and on local/: the errors and label moves
 * that the handlers rely on without calling them on purpose. Each case gets its own secret, set up
 * by the same calls on both servers; after the case's calls, the results and the observable state
 * (differential.ts, with its normalizations) must be the same on both.
 *
 * Where moto 5.2.5 departs from AWS's documentation, the case says so (`motoDeviates`): local/ must
 * then give the documented answer and moto the answer it is known to give, so that a moto upgrade
 * that fixes it shows up here. The documentation that decides each one is cited in the case.
 */
import {
  DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { BothServers, Normalizer, Observed, outcome, snapshot, stagesOf, startBoth } from './differential';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const C = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const D = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const UNKNOWN = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
const VERSION_IDS = [A, B, C, D];
/** Each case's secret, EdgeCase<number>, as its results name it (normalized: one name for every case). */
const CASE_NAME = 'EdgeCase<n>';
const CASE_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${CASE_NAME}-<suffix>`;

type Call = (client: SecretsManagerClient, secretArn: string) => Promise<unknown>;

const put = (token: string, value: string, stages?: string[]): Call => (client, secretArn) =>
  client.send(new PutSecretValueCommand({ SecretId: secretArn, ClientRequestToken: token, SecretString: value, ...(stages ? { VersionStages: stages } : {}) }));
const move = (stage: string, ids: { to?: string; from?: string }): Call => (client, secretArn) =>
  client.send(new UpdateSecretVersionStageCommand({ SecretId: secretArn, VersionStage: stage, MoveToVersionId: ids.to, RemoveFromVersionId: ids.from }));
const get = (selector: { VersionId?: string; VersionStage?: string }): Call => (client, secretArn) =>
  client.send(new GetSecretValueCommand({ SecretId: secretArn, ...selector }));
const describeLabels: Call = (client, secretArn) => stagesOf(client, secretArn, true);
const scheduleDeletion: Call = (client, secretArn) => client.send(new DeleteSecretCommand({ SecretId: secretArn, RecoveryWindowInDays: 7 }));
/** The same call on a secret that does not exist. */
const onMissingSecret = (call: Call): Call => (client, secretArn) => call(client, `${secretArn.slice(0, -7)}Missing-AbCdEf`);

/** A, then B (A becomes AWSPREVIOUS), then C as AWSPENDING: a secret during a rotation. */
const DURING_ROTATION: Call[] = [put(A, 'value A'), put(B, 'value B'), put(C, 'value C', ['AWSPENDING'])];

interface EdgeCase {
  readonly name: string;
  readonly setup: Call[];
  readonly calls: Call[];
  /** The labels AWS documents after the calls, where the case is about them (checked on both). */
  readonly stages?: Record<string, string[]>;
  /** moto 5.2.5 answers otherwise than AWS documents: what each server gives (results, labels after). */
  readonly motoDeviates?: { readonly local: Outcome; readonly moto: Outcome };
}

interface Outcome {
  readonly results: Observed[];
  readonly stages: Record<string, string[]>;
}

const CASES: EdgeCase[] = [
  { name: 'AWSCURRENT moved without RemoveFromVersionId: InvalidParameterException', setup: DURING_ROTATION, calls: [move('AWSCURRENT', { to: C })] },
  { name: 'AWSCURRENT moved with a RemoveFromVersionId that does not hold it', setup: DURING_ROTATION, calls: [move('AWSCURRENT', { to: C, from: A })] },
  {
    name: 'AWSCURRENT moved to the pending version: the old current becomes AWSPREVIOUS',
    setup: DURING_ROTATION, calls: [move('AWSCURRENT', { to: C, from: B })],
    stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT', 'AWSPENDING'] },
  },
  { name: 'AWSPREVIOUS moved to the pending version, with RemoveFromVersionId', setup: DURING_ROTATION, calls: [move('AWSPREVIOUS', { to: C, from: A })] },
  { name: 'AWSPREVIOUS removed: its version becomes deprecated', setup: DURING_ROTATION, calls: [move('AWSPREVIOUS', { from: A })] },
  { name: 'AWSPENDING removed from the version that holds it', setup: DURING_ROTATION, calls: [move('AWSPENDING', { from: C })] },
  { name: 'AWSPENDING removed from a version that does not hold it', setup: DURING_ROTATION, calls: [move('AWSPENDING', { from: B })] },
  { name: 'AWSPENDING removed from a version id the secret does not have', setup: DURING_ROTATION, calls: [move('AWSPENDING', { from: UNKNOWN })] },
  {
    // VersionStages: "If you specify a staging label that's already associated with a different version
    // of the same secret, then Secrets Manager removes the label from the other version and attaches it
    // to this version." (API_PutSecretValue.html)
    name: 'PutSecretValue with AWSPENDING while another version holds it: the label moves',
    setup: DURING_ROTATION, calls: [put(D, 'value D', ['AWSPENDING'])],
    stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [D]: ['AWSPENDING'] },
  },
  {
    // "If you specify AWSCURRENT, and it is already attached to another version, then Secrets Manager
    // also moves the staging label AWSPREVIOUS to the version that AWSCURRENT was removed from."
    name: 'PutSecretValue with AWSCURRENT and a label of its own',
    setup: DURING_ROTATION, calls: [put(D, 'value D', ['AWSCURRENT', 'Custom'])],
    stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSPENDING'], [D]: ['AWSCURRENT', 'Custom'] },
  },
  {
    name: 'PutSecretValue with only AWSPREVIOUS: the label moves, AWSCURRENT stays',
    setup: DURING_ROTATION, calls: [put(D, 'value D', ['AWSPREVIOUS'])],
    stages: { [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'], [D]: ['AWSPREVIOUS'] },
  },
  { name: 'PutSecretValue: the same token and value again, without labels (a retry): ignored', setup: DURING_ROTATION, calls: [put(B, 'value B')] },
  { name: 'PutSecretValue: the same token of the current version with another value: ResourceExistsException', setup: DURING_ROTATION, calls: [put(B, 'value B changed')] },
  {
    // "If this operation creates the first version for the secret, then Secrets Manager automatically
    // attaches the staging label AWSCURRENT to the new version." (API_PutSecretValue, VersionStages)
    name: 'PutSecretValue of the first version with only AWSPENDING: it gets AWSCURRENT too',
    setup: [], calls: [put(A, 'value A', ['AWSPENDING'])],
    stages: { [A]: ['AWSCURRENT', 'AWSPENDING'] },
  },
  { name: 'GetSecretValue: a VersionId with a VersionStage it does not hold', setup: DURING_ROTATION, calls: [get({ VersionId: B, VersionStage: 'AWSPENDING' })] },
  { name: 'GetSecretValue: a VersionId and the VersionStage it holds', setup: DURING_ROTATION, calls: [get({ VersionId: C, VersionStage: 'AWSPENDING' })] },
  { name: 'GetSecretValue: an unknown VersionId, a label nobody holds', setup: DURING_ROTATION, calls: [get({ VersionId: UNKNOWN }), get({ VersionStage: 'Custom' })] },
  {
    name: 'GetSecretValue by the secret\'s name and by its partial ARN (no random suffix)',
    setup: DURING_ROTATION,
    calls: [
      (client, secretArn) => get({})(client, secretArn.slice(secretArn.lastIndexOf(':') + 1, -7)),
      (client, secretArn) => get({})(client, secretArn.slice(0, -7)),
    ],
  },
  { name: 'an empty secret: no AWSCURRENT, no AWSPENDING', setup: [], calls: [get({}), get({ VersionStage: 'AWSPENDING' })] },
  {
    name: 'a secret that does not exist: ResourceNotFoundException from every call',
    setup: [],
    calls: [get({}), put(A, 'value A'), move('AWSCURRENT', { to: A }), describeLabels].map(onMissingSecret),
  },
  // ----- where moto 5.2.5 departs from AWS's documentation -----
  {
    name: 'AWSPREVIOUS moved without RemoveFromVersionId while another version holds it',
    setup: DURING_ROTATION,
    calls: [move('AWSPREVIOUS', { to: C })],
    // RemoveFromVersionId: "If the staging label you are trying to attach to one version is already
    // attached to a different version, then you must include this parameter and specify the version
    // that the label is to be removed from. If the label is attached and you either do not specify
    // this parameter, or the version ID does not match, then the operation fails."
    // (API_UpdateSecretVersionStage.html). moto 5.2.5 checks this for AWSCURRENT only, and here puts
    // AWSPREVIOUS on a second version ("Each staging label can be attached to only one version at a time").
    motoDeviates: {
      local: { results: [{ error: 'InvalidParameterException' }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ ARN: CASE_ARN, Name: CASE_NAME }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING', 'AWSPREVIOUS'] } },
    },
  },
  {
    name: 'AWSCURRENT moved to the version that holds it',
    setup: DURING_ROTATION,
    calls: [move('AWSCURRENT', { to: B, from: B })],
    // "Whenever you move AWSCURRENT, Secrets Manager automatically moves the label AWSPREVIOUS to the
    // version that AWSCURRENT was removed from." (API_UpdateSecretVersionStage.html). Here AWSCURRENT
    // leaves no version, so AWSPREVIOUS stays where it is; moto 5.2.5 drops AWSPREVIOUS altogether.
    motoDeviates: {
      local: { results: [{ ARN: CASE_ARN, Name: CASE_NAME }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ ARN: CASE_ARN, Name: CASE_NAME }], stages: { [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
    },
  },
  {
    name: 'AWSCURRENT moved to a version id the secret does not have',
    setup: DURING_ROTATION,
    calls: [move('AWSCURRENT', { to: UNKNOWN, from: B })],
    // Both refuse the call; moto 5.2.5 has taken AWSCURRENT off B before refusing, so the secret is
    // left without a current version, which AWS never allows (next case).
    motoDeviates: {
      local: { results: [{ error: 'InvalidParameterException' }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ error: 'InvalidParameterException' }], stages: { [A]: ['AWSPREVIOUS'], [C]: ['AWSPENDING'] } },
    },
  },
  {
    name: 'AWSCURRENT removed without moving it',
    setup: DURING_ROTATION,
    calls: [move('AWSCURRENT', { from: B })],
    // AWS keeps AWSCURRENT on one version at all times: UpdateSecretVersionStage refuses to take it off
    // without moving it. Terraform's aws_secretsmanager_secret_version, which calls the real API,
    // documents: "If the AWSCURRENT staging label is present on this version during resource deletion,
    // that label cannot be removed and will be skipped to prevent errors"
    // (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/secretsmanager_secret_version).
    // moto 5.2.5 removes it as if it moved it nowhere: B gets AWSPREVIOUS and no version is current.
    motoDeviates: {
      local: { results: [{ error: 'InvalidParameterException' }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ ARN: CASE_ARN, Name: CASE_NAME }], stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSPENDING'] } },
    },
  },
  {
    name: 'PutSecretValue: the same token and value of the pending version again, without labels (a retry)',
    setup: DURING_ROTATION,
    calls: [put(C, 'value C')],
    // ClientRequestToken: "If a version with this value already exists and that version's SecretString
    // or SecretBinary values are the same as those in the request then the request is ignored. The
    // operation is idempotent." (API_PutSecretValue.html). moto 5.2.5 moves AWSCURRENT to it.
    motoDeviates: {
      local: { results: [{ ARN: CASE_ARN, Name: CASE_NAME, VersionId: C, VersionStages: ['AWSPENDING'] }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ ARN: CASE_ARN, Name: CASE_NAME, VersionId: C, VersionStages: ['AWSCURRENT'] }], stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT'] } },
    },
  },
  {
    name: 'PutSecretValue: the same token of the pending version with another value',
    setup: DURING_ROTATION,
    calls: [put(C, 'value C changed', ['AWSPENDING'])],
    // ClientRequestToken: "If a version with this value already exists and the version of the
    // SecretString and SecretBinary values are different from those in the request, then the request
    // fails because you can't modify a secret version." (API_PutSecretValue.html). moto 5.2.5
    // overwrites the value of a version that holds AWSPENDING.
    motoDeviates: {
      local: { results: [{ error: 'ResourceExistsException' }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
      moto: { results: [{ ARN: CASE_ARN, Name: CASE_NAME, VersionId: C, VersionStages: ['AWSPENDING'] }], stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] } },
    },
  },
  {
    name: 'a secret scheduled for deletion: GetSecretValue, PutSecretValue, UpdateSecretVersionStage',
    setup: [...DURING_ROTATION, scheduleDeletion],
    calls: [get({}), put(D, 'value D'), move('AWSPENDING', { from: C })],
    // PutSecretValue, Errors, InvalidRequestException: "A parameter value is not valid for the current
    // state of the resource. Possible causes: The secret is scheduled for deletion." (the same for
    // GetSecretValue and UpdateSecretVersionStage; API_PutSecretValue.html). moto 5.2.5 refuses the
    // read but stores a new version of the deleted secret and moves its labels.
    motoDeviates: {
      local: {
        results: [{ error: 'InvalidRequestException' }, { error: 'InvalidRequestException' }, { error: 'InvalidRequestException' }],
        stages: { [A]: ['AWSPREVIOUS'], [B]: ['AWSCURRENT'], [C]: ['AWSPENDING'] },
      },
      moto: {
        results: [{ error: 'InvalidRequestException' }, { ARN: CASE_ARN, Name: CASE_NAME, VersionId: D, VersionStages: ['AWSCURRENT'] }, { ARN: CASE_ARN, Name: CASE_NAME }],
        stages: { [B]: ['AWSPREVIOUS'], [D]: ['AWSCURRENT'] },
      },
    },
  },
  {
    name: 'DescribeSecret after AWSCURRENT left a version with no label: VersionIdsToStages (not normalized)',
    setup: [...DURING_ROTATION, move('AWSCURRENT', { to: C, from: B })],
    calls: [describeLabels],
    // "VersionIdsToStages: A list of the versions of the secret that have staging labels attached.
    // Versions that don't have staging labels are considered deprecated" (API_DescribeSecret.html).
    // moto 5.2.5 also lists the deprecated version, with no labels.
    motoDeviates: {
      local: { results: [{ [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT', 'AWSPENDING'] }], stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT', 'AWSPENDING'] } },
      moto: { results: [{ [A]: [], [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT', 'AWSPENDING'] }], stages: { [B]: ['AWSPREVIOUS'], [C]: ['AWSCURRENT', 'AWSPENDING'] } },
    },
  },
];

interface CaseRecord {
  readonly setup: Observed[];
  readonly results: Observed[];
  readonly state: Observed;
}

async function runCase(client: SecretsManagerClient, createEmptySecret: (name: string) => Promise<string>, index: number): Promise<CaseRecord> {
  const normalizer = new Normalizer();
  const edge = CASES[index];
  const secretArn = await createEmptySecret(`EdgeCase${index + 1}`);
  const setup: Observed[] = [];
  for (const call of edge.setup) {
    setup.push(await outcome(normalizer, () => call(client, secretArn)));
  }
  const results: Observed[] = [];
  for (const call of edge.calls) {
    results.push(await outcome(normalizer, () => call(client, secretArn)));
  }
  const record = { setup, results, state: await outcome(normalizer, () => snapshot(client, normalizer, secretArn, VERSION_IDS)) };
  return JSON.parse(JSON.stringify(record).replaceAll(`EdgeCase${index + 1}`, CASE_NAME)) as CaseRecord;
}

/** What `DescribeSecret` says of a secret never configured for rotation (the handler reads `RotationEnabled === true`). */
async function rotationNeverConfigured(client: SecretsManagerClient, createEmptySecret: (name: string) => Promise<string>) {
  const described = await client.send(new DescribeSecretCommand({ SecretId: await createEmptySecret('NeverRotated') }));
  return { RotationEnabled: described.RotationEnabled, RotationLambdaARN: described.RotationLambdaARN };
}

describe('Secrets Manager edge cases on moto and on local/', () => {
  let both: BothServers;
  const records = new Map<string, CaseRecord[]>();
  const neverRotated = new Map<string, unknown>();

  beforeAll(async () => {
    both = await startBoth();
    for (const server of both.servers) {
      const client = server.client();
      const cases: CaseRecord[] = [];
      for (let index = 0; index < CASES.length; index++) {
        cases.push(await runCase(client, (name) => server.createEmptySecret(name), index));
      }
      records.set(server.name, cases);
      neverRotated.set(server.name, await rotationNeverConfigured(client, (name) => server.createEmptySecret(name)));
    }
  });

  afterAll(async () => {
    await both?.stop();
  });

  const agreeing = CASES.map((edge, index) => [edge.name, index] as const).filter(([, index]) => !CASES[index].motoDeviates);
  const deviating = CASES.map((edge, index) => [edge.name, index] as const).filter(([, index]) => CASES[index].motoDeviates);

  test.each(agreeing)('%s: the same on both', (_name, index) => {
    const [local, moto] = [records.get('local')![index], records.get('moto')![index]];
    expect(moto).toEqual(local);
    if (CASES[index].stages) {
      expect((local.state as Outcome).stages).toEqual(CASES[index].stages);
    }
    // Every setup call succeeded, so the case starts where it says.
    expect(local.setup.filter((result) => (result as { error?: string } | null)?.error)).toEqual([]);
  });

  test.each(deviating)('%s: local/ as AWS documents it, moto 5.2.5 as it is known to deviate', (_name, index) => {
    const [local, moto] = [records.get('local')![index], records.get('moto')![index]];
    const expected = CASES[index].motoDeviates!;
    expect(moto.setup).toEqual(local.setup);
    expect({ results: local.results, stages: (local.state as Outcome).stages }).toEqual(expected.local);
    expect({ results: moto.results, stages: (moto.state as Outcome).stages }).toEqual(expected.moto);
  });

  test('a secret never configured for rotation: the same RotationEnabled and RotationLambdaARN on both', () => {
    expect(neverRotated.get('moto')).toEqual(neverRotated.get('local'));
  });
});
