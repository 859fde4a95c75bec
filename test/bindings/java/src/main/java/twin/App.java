package twin;

import java.util.List;
import java.util.Map;

import io.github.cdklightsail.bucketaccesskey.ILightsailBucketAccessKey;
import io.github.cdklightsail.bucketaccesskey.KeyRotationOptions;
import io.github.cdklightsail.bucketaccesskey.LightsailBucketAccessKey;
import io.github.cdklightsail.bucketaccesskey.LightsailBucketAccessKeyAttributes;
import io.github.cdklightsail.bucketaccesskey.LightsailBucketAccessKeyProvider;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.ec2.SecurityGroup;
import software.amazon.awscdk.services.ec2.SubnetSelection;
import software.amazon.awscdk.services.ec2.SubnetType;
import software.amazon.awscdk.services.ec2.Vpc;
import software.amazon.awscdk.services.events.OnEventOptions;
import software.amazon.awscdk.services.events.targets.SnsTopic;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.lightsail.CfnBucket;
import software.amazon.awscdk.services.lightsail.CfnContainer;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.amazon.awscdk.services.secretsmanager.Secret;
import software.amazon.awscdk.services.secretsmanager.SecretAttributes;
import software.amazon.awscdk.services.sns.Topic;
import software.constructs.Construct;

/**
 * The Java twin of test/bindings/app.ts, written as a Java user would (builders).
 * Usage: java twin.App OUTDIR. Prints one JSON line per error case, then synthesizes into OUTDIR.
 */
public final class App {
    private static final Environment ENV = Environment.builder().account("123456789012").region("us-east-1").build();

    private App() {
    }

    /** Takes any key, made here or imported: reads it and outputs its id and bucket. */
    static Role useKey(final Construct scope, final String id, final ILightsailBucketAccessKey key) {
        Role role = Role.Builder.create(scope, id).assumedBy(new ServicePrincipal("lambda.amazonaws.com")).build();
        key.grantRead(role);
        CfnOutput.Builder.create(scope, id + "Bucket").value(key.getBucketName()).build();
        CfnOutput.Builder.create(scope, id + "SecretArn").value(key.getSecret().getSecretArn()).build();
        return role;
    }

    @SuppressWarnings("deprecation") // logRetention: the deprecated log setting must keep working
    static void synth(final String outdir) {
        software.amazon.awscdk.App app = new software.amazon.awscdk.App(AppProps.builder().outdir(outdir).build());

        Stack stack = new Stack(app, "Keys", StackProps.builder().env(ENV).build());
        Vpc vpc = Vpc.Builder.create(stack, "Vpc").availabilityZones(List.of("us-east-1a", "us-east-1b")).natGateways(1).build();
        SecurityGroup group = SecurityGroup.Builder.create(stack, "HandlerGroup").vpc(vpc).allowAllOutbound(true).build();
        LogGroup logGroup = LogGroup.Builder.create(stack, "ProviderLogs")
                .retention(RetentionDays.ONE_YEAR)
                .removalPolicy(RemovalPolicy.DESTROY)
                .build();
        LightsailBucketAccessKeyProvider.Builder.create(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID)
                .vpc(vpc)
                .vpcSubnets(SubnetSelection.builder().subnetType(SubnetType.PRIVATE_WITH_EGRESS).build())
                .securityGroups(List.of(group))
                .logGroup(logGroup)
                .build();

        CfnBucket bucket = CfnBucket.Builder.create(stack, "Bucket").bucketName("twin-bucket").bundleId("small_1_0").build();
        LightsailBucketAccessKey rotating = LightsailBucketAccessKey.Builder.create(stack, "Rotating")
                .bucket(bucket)
                .rotation(KeyRotationOptions.builder().automaticallyAfter(Duration.days(30)).rotateImmediatelyOnUpdate(false).build())
                .build();
        Topic topic = new Topic(stack, "RotationAlerts");
        rotating.onRotationFailed("RotationFailed", OnEventOptions.builder()
                .target(new SnsTopic(topic))
                .description("A rotation of the twin key failed")
                .build());

        Key encryptionKey = Key.Builder.create(stack, "SecretsKey").enableKeyRotation(true).build();
        LightsailBucketAccessKey byName = LightsailBucketAccessKey.Builder.create(stack, "ByName")
                .bucketName("bucket-made-elsewhere")
                .serial(2)
                .encryptionKey(encryptionKey)
                .secretName("twin/by-name")
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        Annotations.of(byName).acknowledgeWarning(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING, "the account holds no other bucket");

        // A second key on the rotating key's bucket: the rotation needs a free slot, and this app knows it.
        LightsailBucketAccessKey second = LightsailBucketAccessKey.Builder.create(stack, "Second").bucket(bucket).build();
        second.applyRemovalPolicy(RemovalPolicy.DESTROY);
        Annotations.of(stack).acknowledgeWarning(LightsailBucketAccessKey.NO_FREE_SLOT_WARNING, "the second key goes before the next rotation");

        // A provider under its own id, with the deprecated log setting, serving one key.
        LightsailBucketAccessKeyProvider legacy = LightsailBucketAccessKeyProvider.Builder.create(stack, "LegacyProvider")
                .logRetention(RetentionDays.ONE_WEEK)
                .build();
        LightsailBucketAccessKey.Builder.create(stack, "Legacy").bucketName("legacy-bucket").provider(legacy).build();

        LightsailBucketAccessKeyProvider provider = LightsailBucketAccessKeyProvider.of(rotating);
        Alarm.Builder.create(stack, "HandlerErrors")
                .metric(provider.getOnEventFunction().metricErrors()).threshold(1).evaluationPeriods(1).build();
        Alarm.Builder.create(stack, "RotationErrors")
                .metric(provider.getRotationFunction().metricErrors()).threshold(1).evaluationPeriods(1).build();

        CfnContainer.Builder.create(stack, "Service")
                .serviceName("twin-app")
                .power("nano")
                .scale(1)
                .containerServiceDeployment(CfnContainer.ContainerServiceDeploymentProperty.builder()
                        .containers(List.of(CfnContainer.ContainerProperty.builder()
                                .containerName("app")
                                .image("public.ecr.aws/docker/library/busybox:latest")
                                .environment(List.of(
                                        CfnContainer.EnvironmentVariableProperty.builder()
                                                .variable("AWS_ACCESS_KEY_ID").value(second.getAccessKeyId()).build(),
                                        CfnContainer.EnvironmentVariableProperty.builder()
                                                .variable("AWS_SECRET_ACCESS_KEY").value(second.getSecretAccessKey().unsafeUnwrap()).build()))
                                .build()))
                        .build())
                .build();
        useKey(stack, "Reader", byName);

        // Another stack of the app takes the rotating key through its interface.
        Stack consumer = new Stack(app, "Consumer", StackProps.builder().env(ENV).build());
        useKey(consumer, "Reader", rotating);

        // A key of another app, imported from its secret (encrypted with a customer managed key).
        Stack imported = new Stack(app, "Imported", StackProps.builder().env(ENV).build());
        ILightsailBucketAccessKey importedKey = LightsailBucketAccessKey.fromAccessKeyAttributes(imported, "Key",
                LightsailBucketAccessKeyAttributes.builder()
                        .bucketName("bucket-made-elsewhere")
                        .secret(Secret.fromSecretAttributes(imported, "Secret", SecretAttributes.builder()
                                .secretCompleteArn("arn:aws:secretsmanager:us-east-1:123456789012:secret:twin-key-AbCdEf")
                                .encryptionKey(Key.fromKeyArn(imported, "EncryptionKey",
                                        "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"))
                                .build()))
                        .accessKeyId("AKIAIOSFODNN7EXAMPLE")
                        .build());
        useKey(imported, "Reader", importedKey);
        CfnOutput.Builder.create(imported, "KeyId").value(importedKey.getAccessKeyId()).build();

        app.synth();
    }

    /** The exception that run throws, as a JSON line, or a note that it threw nothing. */
    static String errorOf(final String name, final Runnable run) {
        try {
            run.run();
        } catch (RuntimeException error) {
            return json(Map.of("case", name, "type", error.getClass().getName(), "message", String.valueOf(error.getMessage())));
        }
        return json(Map.of("case", name, "type", "none", "message", "nothing thrown"));
    }

    static void invalidProp() {
        Stack stack = new Stack(new software.amazon.awscdk.App(), "Errors", StackProps.builder().env(ENV).build());
        LightsailBucketAccessKey.Builder.create(stack, "Key").bucketName("Not_A_Bucket").build();
    }

    static void threeKeysOnOneBucket() {
        software.amazon.awscdk.App app = new software.amazon.awscdk.App();
        Stack stack = new Stack(app, "Errors", StackProps.builder().env(ENV).build());
        CfnBucket bucket = CfnBucket.Builder.create(stack, "Bucket").bucketName("full-bucket").bundleId("small_1_0").build();
        for (String id : List.of("One", "Two", "Three")) {
            LightsailBucketAccessKey.Builder.create(stack, id).bucket(bucket).build();
        }
        app.synth();
    }

    /** A flat JSON object of strings (the JDK has no JSON writer). */
    static String json(final Map<String, String> fields) {
        StringBuilder out = new StringBuilder("{");
        for (String field : List.of("case", "type", "message")) {
            if (out.length() > 1) {
                out.append(',');
            }
            out.append(quote(field)).append(':').append(quote(fields.get(field)));
        }
        return out.append('}').toString();
    }

    static String quote(final String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.append('"').toString();
    }

    public static void main(final String[] args) {
        System.out.println(errorOf("invalidProp", App::invalidProp));
        System.out.println(errorOf("threeKeysOnOneBucket", App::threeKeysOnOneBucket));
        synth(args[0]);
    }
}
