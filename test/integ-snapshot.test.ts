/**
 * What `integ-runner` would verify without deploying: the integration test app still synthesizes
 * to the committed snapshot. `npm run integ:snapshot` rewrites the snapshot. integ-runner itself
 * cannot read the cloud assemblies of this aws-cdk-lib (schema 55; its last release reads up to 53).
 */
import * as fs from 'fs';
import * as path from 'path';
import { app } from './integ.access-key';

const SNAPSHOT = path.join(__dirname, 'integ.access-key.ts.snapshot');
const SNAPSHOT_FILES = [
  'AccessKeyTestDefaultTestDeployAssertA063733A.template.json',
  'LightsailBucketAccessKeyInteg.template.json',
  'integ.json',
];

function read(directory: string): Record<string, unknown> {
  return Object.fromEntries(SNAPSHOT_FILES.map((file) => [file, JSON.parse(fs.readFileSync(path.join(directory, file), 'utf-8'), dropSalt)]));
}

/** integ-tests-alpha salts each assertion with the synth time so that it runs on every deployment. */
function dropSalt(key: string, value: unknown): unknown {
  return key === 'salt' ? undefined : value;
}

const synthesized = app.synth().directory;

if (process.env.UPDATE_INTEG_SNAPSHOT) {
  fs.rmSync(SNAPSHOT, { recursive: true, force: true });
  fs.mkdirSync(SNAPSHOT);
  SNAPSHOT_FILES.forEach((file) => fs.copyFileSync(path.join(synthesized, file), path.join(SNAPSHOT, file)));
}

test('the integration test app matches its committed snapshot', () => {
  expect(read(synthesized)).toEqual(read(SNAPSHOT));
});

test('the assertions never read a secret value', () => {
  const assertions = JSON.stringify(read(SNAPSHOT)['AccessKeyTestDefaultTestDeployAssertA063733A.template.json']);
  expect(assertions).toContain('listSecretVersionIds');
  expect(assertions).toContain('getBucketAccessKeys');
  expect(assertions).not.toMatch(/getSecretValue/i);
});
