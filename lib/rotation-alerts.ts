import * as events from 'aws-cdk-lib/aws-events';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The Secrets Manager events after which a scheduled rotation has not made a new key current.
 *
 * Secrets Manager reports rotation outcomes only as CloudTrail service events (its native EventBridge
 * event, `Secret Label Updated`, says that a label moved, not that a rotation failed, and names the
 * secret by its name only). `RotationAbandoned` counts as a failure: Secrets Manager removed the
 * `AWSPENDING` label because a new value was stored while the rotation ran (here, a deployment that
 * replaced the key), so the scheduled rotation did not happen.
 */
export const ROTATION_FAILURE_EVENTS = ['RotationFailed', 'RotationAbandoned'];

/**
 * An EventBridge rule for the failed rotations of one secret. CloudTrail service events carry the
 * secret's full ARN (with its random suffix) in `detail.additionalEventData.SecretId`, under that
 * spelling for every rotation event (the `arn`/`aRN` spelling difference concerns `responseElements`
 * of API calls only), so the rule matches that ARN exactly.
 */
export function rotationFailedRule(scope: Construct, id: string, secret: secretsmanager.ISecret, options: events.OnEventOptions = {}): events.Rule {
  const rule = new events.Rule(scope, id, options);
  rule.addEventPattern({
    source: ['aws.secretsmanager'],
    detailType: ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ROTATION_FAILURE_EVENTS,
      additionalEventData: { SecretId: [secret.secretArn] },
    },
  });
  rule.addTarget(options.target);
  return rule;
}
