/**
 * A stack with a key and the consumers a user gives it: a Lightsail container service whose container
 * environment holds key.secretAccessKey, a Lambda function environment holding it, an ECS task
 * definition whose container gets ecs.Secret.fromSecretsManager(key.secret) and a service that runs it,
 * and an SSM parameter holding the (not secret) access key id.
 */
import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { LightsailBucketAccessKey } from '../../lib';
import type { SynthesizedStack } from '../../local/stack-driver';
import { synthesize } from '../../local/synth';
import { ACCOUNT, REGION } from './fixture';

export const CONSUMER_BUCKET = 'consumer-bucket';

/** Logical ids of the consumers (given explicitly, so tests can name them). */
export const CONSUMERS = {
  containerService: 'ContainerService',
  function: 'ConsumerFunction',
  taskDefinition: 'TaskDefinition',
  service: 'Service',
  parameter: 'KeyIdParameter',
} as const;

export interface ConsumerStackOptions {
  readonly serial: number;
}

/** Overrides a construct's logical id so that tests can name it. */
function named<T extends { node: { defaultChild?: unknown } }>(construct: T, logicalId: string): T {
  (construct.node.defaultChild as { overrideLogicalId(id: string): void }).overrideLogicalId(logicalId);
  return construct;
}

/**
 * Every consumer also changes with `serial` (a variable that names it), so that a serial bump updates
 * it in the same deployment as the key.
 */
export function synthesizeConsumerStack(options: ConsumerStackOptions): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, 'Consumers', { env: { account: ACCOUNT, region: REGION } });
    const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: CONSUMER_BUCKET, bundleId: 'small_1_0' });
    const key = new LightsailBucketAccessKey(stack, 'Key', { bucket, serial: options.serial });
    const generation = String(options.serial);

    const container = new lightsail.CfnContainer(stack, 'Container', {
      serviceName: 'consumer-service',
      power: 'nano',
      scale: 1,
      containerServiceDeployment: {
        containers: [{
          containerName: 'app',
          image: 'public.ecr.aws/docker/library/nginx:latest',
          environment: [
            // Dynamic references, as a user hands them over; never the values. Both come from the
            // secret, so that the pair is one key's.
            { variable: 'AWS_ACCESS_KEY_ID', value: key.secret.secretValueFromJson('accessKeyId').unsafeUnwrap() },
            { variable: 'AWS_SECRET_ACCESS_KEY', value: key.secretAccessKey.unsafeUnwrap() },
            { variable: 'KEY_GENERATION', value: generation },
          ],
        }],
      },
    });
    container.overrideLogicalId(CONSUMERS.containerService);

    named(new lambda.Function(stack, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => null;'),
      environment: { BUCKET_SECRET_ACCESS_KEY: key.secretAccessKey.unsafeUnwrap(), KEY_GENERATION: generation },
    }), CONSUMERS.function);

    const taskDefinition = named(new ecs.FargateTaskDefinition(stack, 'Task'), CONSUMERS.taskDefinition);
    taskDefinition.addContainer('app', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/nginx:latest'),
      environment: { KEY_GENERATION: generation },
      secrets: { AWS_SECRET_ACCESS_KEY: ecs.Secret.fromSecretsManager(key.secret, 'secretAccessKey') },
    });
    const cluster = new ecs.CfnCluster(stack, 'Cluster');
    new ecs.CfnService(stack, 'Service', {
      cluster: cluster.ref,
      taskDefinition: taskDefinition.taskDefinitionArn,
      launchType: 'FARGATE',
      desiredCount: 1,
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } },
    }).overrideLogicalId(CONSUMERS.service);

    new ssm.CfnParameter(stack, 'Parameter', { type: 'String', value: key.accessKeyId }).overrideLogicalId(CONSUMERS.parameter);
    return stack;
  });
}
