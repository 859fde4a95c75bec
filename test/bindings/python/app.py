"""The Python twin of test/bindings/app.ts, written as a Python user would.

Usage: python app.py <outdir>. Prints one JSON line per error case, then synthesizes into <outdir>.
"""
import json
import sys

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cloudwatch,
    aws_ec2 as ec2,
    aws_events_targets as targets,
    aws_iam as iam,
    aws_kms as kms,
    aws_lightsail as lightsail,
    aws_logs as logs,
    aws_secretsmanager as secretsmanager,
    aws_sns as sns,
)
from constructs import Construct

from cdk_lightsail_bucket_access_key import (
    ILightsailBucketAccessKey,
    KeyRotationOptions,
    LightsailBucketAccessKey,
    LightsailBucketAccessKeyProvider,
)

ENV = cdk.Environment(account="123456789012", region="us-east-1")


def use_key(scope: Construct, id: str, key: ILightsailBucketAccessKey) -> iam.Role:
    """Takes any key, made here or imported: reads it and outputs its id and bucket."""
    role = iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    key.grant_read(role)
    cdk.CfnOutput(scope, f"{id}Bucket", value=key.bucket_name)
    cdk.CfnOutput(scope, f"{id}SecretArn", value=key.secret.secret_arn)
    return role


def synth(outdir: str) -> None:
    app = cdk.App(outdir=outdir)

    stack = cdk.Stack(app, "Keys", env=ENV)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-east-1a", "us-east-1b"], nat_gateways=1)
    group = ec2.SecurityGroup(stack, "HandlerGroup", vpc=vpc, allow_all_outbound=True)
    log_group = logs.LogGroup(
        stack, "ProviderLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    LightsailBucketAccessKeyProvider(
        stack,
        LightsailBucketAccessKeyProvider.DEFAULT_ID,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[group],
        log_group=log_group,
    )

    bucket = lightsail.CfnBucket(stack, "Bucket", bucket_name="twin-bucket", bundle_id="small_1_0")
    rotating = LightsailBucketAccessKey(
        stack,
        "Rotating",
        bucket=bucket,
        rotation=KeyRotationOptions(automatically_after=cdk.Duration.days(30), rotate_immediately_on_update=False),
    )
    topic = sns.Topic(stack, "RotationAlerts")
    rotating.on_rotation_failed(
        "RotationFailed", target=targets.SnsTopic(topic), description="A rotation of the twin key failed"
    )

    encryption_key = kms.Key(stack, "SecretsKey", enable_key_rotation=True)
    by_name = LightsailBucketAccessKey(
        stack,
        "ByName",
        bucket_name="bucket-made-elsewhere",
        serial=2,
        encryption_key=encryption_key,
        secret_name="twin/by-name",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    cdk.Annotations.of(by_name).acknowledge_warning(
        LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING, "the account holds no other bucket"
    )

    # A second key on the rotating key's bucket: the rotation needs a free slot, and this app knows it.
    second = LightsailBucketAccessKey(stack, "Second", bucket=bucket)
    second.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    cdk.Annotations.of(stack).acknowledge_warning(
        LightsailBucketAccessKey.NO_FREE_SLOT_WARNING, "the second key goes before the next rotation"
    )

    # A provider under its own id, with the deprecated log setting, serving one key.
    legacy = LightsailBucketAccessKeyProvider(stack, "LegacyProvider", log_retention=logs.RetentionDays.ONE_WEEK)
    LightsailBucketAccessKey(stack, "Legacy", bucket_name="legacy-bucket", provider=legacy)

    provider = LightsailBucketAccessKeyProvider.of(rotating)
    cloudwatch.Alarm(
        stack, "HandlerErrors", metric=provider.on_event_function.metric_errors(), threshold=1, evaluation_periods=1
    )
    cloudwatch.Alarm(
        stack, "RotationErrors", metric=provider.rotation_function.metric_errors(), threshold=1, evaluation_periods=1
    )

    lightsail.CfnContainer(
        stack,
        "Service",
        service_name="twin-app",
        power="nano",
        scale=1,
        container_service_deployment=lightsail.CfnContainer.ContainerServiceDeploymentProperty(
            containers=[
                lightsail.CfnContainer.ContainerProperty(
                    container_name="app",
                    image="public.ecr.aws/docker/library/busybox:latest",
                    environment=[
                        lightsail.CfnContainer.EnvironmentVariableProperty(
                            variable="AWS_ACCESS_KEY_ID", value=second.access_key_id
                        ),
                        lightsail.CfnContainer.EnvironmentVariableProperty(
                            variable="AWS_SECRET_ACCESS_KEY", value=second.secret_access_key.unsafe_unwrap()
                        ),
                    ],
                )
            ]
        ),
    )
    use_key(stack, "Reader", by_name)

    # Another stack of the app takes the rotating key through its interface.
    consumer = cdk.Stack(app, "Consumer", env=ENV)
    use_key(consumer, "Reader", rotating)

    # A key of another app, imported from its secret (encrypted with a customer managed key).
    imported = cdk.Stack(app, "Imported", env=ENV)
    imported_key = LightsailBucketAccessKey.from_access_key_attributes(
        imported,
        "Key",
        bucket_name="bucket-made-elsewhere",
        secret=secretsmanager.Secret.from_secret_attributes(
            imported,
            "Secret",
            secret_complete_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:twin-key-AbCdEf",
            encryption_key=kms.Key.from_key_arn(
                imported,
                "EncryptionKey",
                "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
            ),
        ),
        access_key_id="AKIAIOSFODNN7EXAMPLE",
    )
    use_key(imported, "Reader", imported_key)
    cdk.CfnOutput(imported, "KeyId", value=imported_key.access_key_id)

    app.synth()


def error_of(name: str, run) -> str:
    """The exception that run raises, as a JSON line, or a note that it raised nothing."""
    try:
        run()
    except Exception as error:  # the test checks which class it is
        return json.dumps({"case": name, "type": type(error).__name__, "message": str(error)})
    return json.dumps({"case": name, "type": "none", "message": "nothing raised"})


def invalid_prop() -> None:
    stack = cdk.Stack(cdk.App(), "Errors", env=ENV)
    LightsailBucketAccessKey(stack, "Key", bucket_name="Not_A_Bucket")


def three_keys_on_one_bucket() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Errors", env=ENV)
    bucket = lightsail.CfnBucket(stack, "Bucket", bucket_name="full-bucket", bundle_id="small_1_0")
    for id in ["One", "Two", "Three"]:
        LightsailBucketAccessKey(stack, id, bucket=bucket)
    app.synth()


if __name__ == "__main__":
    print(error_of("invalidProp", invalid_prop), flush=True)
    print(error_of("threeKeysOnOneBucket", three_keys_on_one_bucket), flush=True)
    synth(sys.argv[1])
