import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';

/** CloudFormation-shaped events, as the Provider framework passes them to onEvent. */

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:AppKeySecret-AbCdEf';
export const BUCKET = 'my-bucket';

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Example/11111111-2222-3333-4444-555555555555',
  LogicalResourceId: 'AppKey51DFC408',
  ResourceType: 'Custom::LightsailBucketAccessKey',
};

export interface KeyProperties {
  readonly BucketName?: string;
  readonly SecretArn?: string;
  readonly Serial?: string;
}

function resourceProperties(properties: KeyProperties) {
  return { ServiceToken: common.ServiceToken, BucketName: BUCKET, SecretArn: SECRET_ARN, ...properties };
}

export function createEvent(properties: KeyProperties = {}, requestId = 'c0ffee00-0000-4000-8000-000000000001'): CloudFormationCustomResourceCreateEvent {
  return { ...common, RequestType: 'Create', RequestId: requestId, ResourceProperties: resourceProperties(properties) };
}

export function updateEvent(
  physicalResourceId: string,
  properties: KeyProperties,
  oldProperties: KeyProperties,
  requestId = 'c0ffee00-0000-4000-8000-000000000002',
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...common,
    RequestType: 'Update',
    RequestId: requestId,
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: resourceProperties(properties),
    OldResourceProperties: resourceProperties(oldProperties),
  };
}

export function deleteEvent(physicalResourceId: string, properties: KeyProperties = {}): CloudFormationCustomResourceDeleteEvent {
  return {
    ...common,
    RequestType: 'Delete',
    RequestId: 'c0ffee00-0000-4000-8000-000000000003',
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: resourceProperties(properties),
  };
}
