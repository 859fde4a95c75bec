#!/usr/bin/env node
/** The CDK app the ministack test deploys with the CDK CLI (`cdk deploy --app ...`), like bin/example-app.ts. */
import { App } from 'aws-cdk-lib';
import { MinistackVariantStack } from './variant-stack';

const app = new App();
const serial = app.node.tryGetContext('serial');
new MinistackVariantStack(app, 'LightsailBucketAccessKeyExample', {
  bucketName: app.node.tryGetContext('bucketName') ?? 'cdk-lightsail-access-key-example',
  serial: serial === undefined ? undefined : Number(serial),
  failAfterKey: app.node.tryGetContext('failAfterKey') === 'true',
});
