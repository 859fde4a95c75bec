/**
 * onRotationFailed judged by AWS's event-ruler, the engine EventBridge's matching is built on: the
 * rule's pattern as CloudFormation deploys it (synthesized, the secret's `Ref` resolved to a
 * physical ARN) against Secrets Manager's rotation events as CloudTrail delivers them to EventBridge.
 *
 * The samples follow Secrets Manager's documented CloudTrail entries for rotation (RotationStarted,
 * RotationSucceeded, RotationFailed, RotationAbandoned: "AWS Service Event via CloudTrail", the
 * secret's full ARN in `additionalEventData.SecretId`):
 *   https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html (Log entries for rotation)
 *   https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html (what each event means)
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/non-api-aws-service-events.html (AwsServiceEvent, KMS RotateKey)
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html (the envelope EventBridge adds)
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../../../lib';
import { ENV, newStack, secretId } from '../../lib/stack-fixture';
import { MatchQuestion, matchesRule } from './event-ruler';

type Json = Record<string, unknown>;

/**
 * The ARN CloudFormation's `Ref` gives a secret it created without a name: a name it generates from
 * the logical id, then Secrets Manager's `-` and six random characters.
 */
function physicalSecretArn(name: string, suffix: string): string {
  return `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:${name}-${suffix}`;
}

/**
 * The value as CloudFormation deploys it: every `{ Ref }` replaced by its resource's physical id.
 * Any other intrinsic, or a Ref to a resource not given, fails: the pattern must not depend on them.
 */
function resolveRefs(value: unknown, physicalIds: Record<string, string>): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveRefs(item, physicalIds));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Json);
    if (entries.length === 1 && entries[0][0] === 'Ref') {
      const physical = physicalIds[entries[0][1] as string];
      if (physical === undefined) {
        throw new Error(`the pattern refers to ${String(entries[0][1])}, which this test gives no physical id`);
      }
      return physical;
    }
    const intrinsic = entries.find(([key]) => key.startsWith('Fn::'));
    if (intrinsic) {
      throw new Error(`the pattern holds ${intrinsic[0]}, which this test cannot resolve`);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, resolveRefs(item, physicalIds)]));
  }
  return value;
}

/** A Secrets Manager rotation service event, as EventBridge receives it from CloudTrail. */
function rotationEvent(eventName: string, secretArn: string): Json {
  return {
    'version': '0',
    'id': '3f1c2d4e-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
    'detail-type': 'AWS Service Event via CloudTrail',
    'source': 'aws.secretsmanager',
    'account': ENV.account,
    'time': '2026-11-30T03:12:45Z',
    'region': ENV.region,
    'resources': [],
    'detail': {
      eventVersion: '1.08',
      userIdentity: { accountId: ENV.account, invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: '2026-11-30T03:12:45Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: ENV.region,
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      ...(eventName === 'RotationFailed' ? { errorMessage: 'Error when executing lambda during createSecret step' } : {}),
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: secretArn },
      requestID: `Rotation-${secretArn}-0b1c2d3e`,
      eventID: '9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4',
      readOnly: false,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: ENV.account,
      eventCategory: 'Management',
    },
  };
}

/** The RotateSecret API call on this secret (detail-type "AWS API Call via CloudTrail"): not an outcome. */
function rotateSecretCall(secretArn: string): Json {
  return {
    'version': '0',
    'id': '5b6c7d8e-9f0a-1b2c-3d4e-5f6a7b8c9d0e',
    'detail-type': 'AWS API Call via CloudTrail',
    'source': 'aws.secretsmanager',
    'account': ENV.account,
    'time': '2026-11-30T03:12:40Z',
    'region': ENV.region,
    'resources': [],
    'detail': {
      eventVersion: '1.08',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'RotateSecret',
      awsRegion: ENV.region,
      requestParameters: { secretId: secretArn },
      responseElements: { arn: secretArn },
      eventType: 'AwsApiCall',
    },
  };
}

/** KMS's documented service event for an automatic key rotation: another service's rotation. */
function kmsRotateKey(): Json {
  const keyArn = `arn:aws:kms:${ENV.region}:${ENV.account}:key/7944f0ec-1a2b-3c4d-5e6f-7a8b9c0d1e2f`;
  return {
    'version': '0',
    'id': '7d8e9f0a-1b2c-3d4e-5f6a-7b8c9d0e1f2a',
    'detail-type': 'AWS Service Event via CloudTrail',
    'source': 'aws.kms',
    'account': ENV.account,
    'time': '2026-11-30T00:06:08Z',
    'region': ENV.region,
    'resources': [keyArn],
    'detail': {
      eventVersion: '1.05',
      userIdentity: { accountId: ENV.account, invokedBy: 'AWS Internal' },
      eventSource: 'kms.amazonaws.com',
      eventName: 'RotateKey',
      awsRegion: ENV.region,
      requestParameters: null,
      responseElements: null,
      resources: [{ ARN: keyArn, accountId: ENV.account, type: 'AWS::KMS::Key' }],
      eventType: 'AwsServiceEvent',
      recipientAccountId: ENV.account,
    },
  };
}

/**
 * Constructed, not documented: this secret's RotationFailed with another service's `source` and
 * `eventSource`, so that a pattern which dropped either constraint is caught.
 */
function failureFromAnotherService(secretArn: string): Json {
  const event = rotationEvent('RotationFailed', secretArn);
  return { ...event, source: 'aws.kms', detail: { ...(event.detail as Json), eventSource: 'kms.amazonaws.com' } };
}

function rotatingKey(stack: Stack, id: string): LightsailBucketAccessKey {
  const bucket = new lightsail.CfnBucket(stack, `${id}Bucket`, { bucketName: `${id.toLowerCase()}-bucket`, bundleId: 'small_1_0' });
  return new LightsailBucketAccessKey(stack, id, { bucket, rotation: { automaticallyAfter: Duration.days(30) } });
}

/** Two keys with rotation alerts in one stack, and their rules' patterns as deployed. */
function deployedPatterns() {
  const stack = newStack();
  const keys = [rotatingKey(stack, 'Key'), rotatingKey(stack, 'Other')];
  keys.forEach((key) => key.onRotationFailed('RotationFailed'));
  const template = Template.fromStack(stack).toJSON();
  const arns = {
    [secretId(keys[0])]: physicalSecretArn(`${secretId(keys[0])}-q7T2mX9pL4vR`, 'Gh12Ij'),
    [secretId(keys[1])]: physicalSecretArn(`${secretId(keys[1])}-Zk8wN3bV6cXs`, 'Kl34Mn'),
  };
  const patterns = keys.map((key) => {
    const rule = template.Resources[stack.getLogicalId(key.node.findChild('RotationFailed').node.defaultChild as never)];
    return resolveRefs(rule.Properties.EventPattern, arns) as Json;
  });
  return { patterns, keyArn: arns[secretId(keys[0])], otherArn: arns[secretId(keys[1])], keyName: `${secretId(keys[0])}-q7T2mX9pL4vR` };
}

describe('onRotationFailed, judged by event-ruler', () => {
  const { patterns, keyArn, otherArn, keyName } = deployedPatterns();
  const [keyRule, otherRule] = patterns;

  const mustMatch: Array<[string, Json, Json]> = [
    ['RotationFailed of this key\'s secret', rotationEvent('RotationFailed', keyArn), keyRule],
    ['RotationAbandoned of this key\'s secret', rotationEvent('RotationAbandoned', keyArn), keyRule],
    ['RotationFailed of the other key\'s secret, by its own rule', rotationEvent('RotationFailed', otherArn), otherRule],
    ['RotationAbandoned of the other key\'s secret, by its own rule', rotationEvent('RotationAbandoned', otherArn), otherRule],
  ];
  const mustNotMatch: Array<[string, Json, Json]> = [
    ['RotationFailed of the other key\'s secret', rotationEvent('RotationFailed', otherArn), keyRule],
    ['RotationAbandoned of the other key\'s secret', rotationEvent('RotationAbandoned', otherArn), keyRule],
    ['RotationFailed of this key\'s secret, by the other key\'s rule', rotationEvent('RotationFailed', keyArn), otherRule],
    // A secret named like this one plus a tail: its ARN starts with this secret's whole ARN.
    ['RotationFailed of a secret whose ARN starts with this one\'s', rotationEvent('RotationFailed', physicalSecretArn(`${keyName}-Gh12Ij-copy`, 'Pq56Rs')), keyRule],
    // A secret whose name starts with this one's name: the same ARN up to the random suffix.
    ['RotationAbandoned of a secret whose name starts with this one\'s', rotationEvent('RotationAbandoned', physicalSecretArn(`${keyName}Old`, 'Tu78Vw')), keyRule],
    ['RotationFailed naming the secret by its partial ARN (no random suffix)', rotationEvent('RotationFailed', keyArn.slice(0, -7)), keyRule],
    ['RotationSucceeded of this key\'s secret', rotationEvent('RotationSucceeded', keyArn), keyRule],
    ['RotationStarted of this key\'s secret', rotationEvent('RotationStarted', keyArn), keyRule],
    ['the RotateSecret API call on this key\'s secret', rotateSecretCall(keyArn), keyRule],
    ['KMS\'s RotateKey service event', kmsRotateKey(), keyRule],
    ['this secret\'s RotationFailed under another service\'s source and eventSource', failureFromAnotherService(keyArn), keyRule],
  ];

  // One JVM for every question.
  let answers: Map<string, boolean>;
  beforeAll(() => {
    const questions: Array<[string, MatchQuestion]> = [...mustMatch, ...mustNotMatch].map(([name, event, rule]) => [name, { event, rule }]);
    const matched = matchesRule(questions.map(([, question]) => question));
    answers = new Map(questions.map(([name], index) => [name, matched[index]]));
  });

  test('nothing is left in the deployed patterns for CloudFormation to resolve', () => {
    expect(JSON.stringify(patterns)).not.toMatch(/Ref|Fn::/);
    expect(JSON.stringify(keyRule)).toContain(keyArn);
  });

  test.each(mustMatch.map(([name]) => name))('matches: %s', (name) => {
    expect(answers.get(name)).toBe(true);
  });

  test.each(mustNotMatch.map(([name]) => name))('does not match: %s', (name) => {
    expect(answers.get(name)).toBe(false);
  });
});
