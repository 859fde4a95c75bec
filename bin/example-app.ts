#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ExampleStack } from './example-stack';

const app = new App();
const serial = app.node.tryGetContext('serial');
new ExampleStack(app, 'LightsailBucketAccessKeyExample', {
  bucketName: app.node.tryGetContext('bucketName') ?? 'cdk-lightsail-access-key-example',
  serial: serial === undefined ? undefined : Number(serial),
});
