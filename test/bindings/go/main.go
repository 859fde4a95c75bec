// The Go twin of test/bindings/app.ts, written as a Go user would (jsii.String, props structs).
// Usage: go run . OUTDIR. Prints one JSON line per error case, then synthesizes into OUTDIR.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslightsail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	key "github.com/cdk-lightsail/cdk-lightsail-bucket-access-key-go/cdklightsailbucketaccesskey"
)

var env = &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")}

// useKey takes any key, made here or imported: reads it and outputs its id and bucket.
func useKey(scope constructs.Construct, id string, accessKey key.ILightsailBucketAccessKey) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	accessKey.GrantRead(role)
	awscdk.NewCfnOutput(scope, jsii.String(id+"Bucket"), &awscdk.CfnOutputProps{Value: accessKey.BucketName()})
	awscdk.NewCfnOutput(scope, jsii.String(id+"SecretArn"), &awscdk.CfnOutputProps{Value: accessKey.Secret().SecretArn()})
	return role
}

func synth(outdir string) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})

	stack := awscdk.NewStack(app, jsii.String("Keys"), &awscdk.StackProps{Env: env})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		AvailabilityZones: jsii.Strings("us-east-1a", "us-east-1b"),
		NatGateways:       jsii.Number(1),
	})
	group := awsec2.NewSecurityGroup(stack, jsii.String("HandlerGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		AllowAllOutbound: jsii.Bool(true),
	})
	logGroup := awslogs.NewLogGroup(stack, jsii.String("ProviderLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	key.NewLightsailBucketAccessKeyProvider(stack, key.LightsailBucketAccessKeyProvider_DEFAULT_ID(), &key.LightsailBucketAccessKeyProviderProps{
		Vpc:            vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS},
		SecurityGroups: &[]awsec2.ISecurityGroup{group},
		LogGroup:       logGroup,
	})

	bucket := awslightsail.NewCfnBucket(stack, jsii.String("Bucket"), &awslightsail.CfnBucketProps{
		BucketName: jsii.String("twin-bucket"),
		BundleId:   jsii.String("small_1_0"),
	})
	rotating := key.NewLightsailBucketAccessKey(stack, jsii.String("Rotating"), &key.LightsailBucketAccessKeyProps{
		Bucket: bucket,
		Rotation: &key.KeyRotationOptions{
			AutomaticallyAfter:        awscdk.Duration_Days(jsii.Number(30)),
			RotateImmediatelyOnUpdate: jsii.Bool(false),
		},
	})
	topic := awssns.NewTopic(stack, jsii.String("RotationAlerts"), nil)
	rotating.OnRotationFailed(jsii.String("RotationFailed"), &awsevents.OnEventOptions{
		Target:      awseventstargets.NewSnsTopic(topic, nil),
		Description: jsii.String("A rotation of the twin key failed"),
	})

	encryptionKey := awskms.NewKey(stack, jsii.String("SecretsKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	byName := key.NewLightsailBucketAccessKey(stack, jsii.String("ByName"), &key.LightsailBucketAccessKeyProps{
		BucketName:    jsii.String("bucket-made-elsewhere"),
		Serial:        jsii.Number(2),
		EncryptionKey: encryptionKey,
		SecretName:    jsii.String("twin/by-name"),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	awscdk.Annotations_Of(byName).AcknowledgeWarning(key.LightsailBucketAccessKey_BUCKET_NAME_SCOPE_WARNING(), jsii.String("the account holds no other bucket"))

	// A second key on the rotating key's bucket: the rotation needs a free slot, and this app knows it.
	second := key.NewLightsailBucketAccessKey(stack, jsii.String("Second"), &key.LightsailBucketAccessKeyProps{Bucket: bucket})
	second.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	awscdk.Annotations_Of(stack).AcknowledgeWarning(key.LightsailBucketAccessKey_NO_FREE_SLOT_WARNING(), jsii.String("the second key goes before the next rotation"))

	// A provider under its own id, with the deprecated log setting, serving one key.
	legacy := key.NewLightsailBucketAccessKeyProvider(stack, jsii.String("LegacyProvider"), &key.LightsailBucketAccessKeyProviderProps{
		LogRetention: awslogs.RetentionDays_ONE_WEEK,
	})
	key.NewLightsailBucketAccessKey(stack, jsii.String("Legacy"), &key.LightsailBucketAccessKeyProps{
		BucketName: jsii.String("legacy-bucket"),
		Provider:   legacy,
	})

	provider := key.LightsailBucketAccessKeyProvider_Of(rotating)
	awscloudwatch.NewAlarm(stack, jsii.String("HandlerErrors"), &awscloudwatch.AlarmProps{
		Metric: provider.OnEventFunction().MetricErrors(nil), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
	})
	awscloudwatch.NewAlarm(stack, jsii.String("RotationErrors"), &awscloudwatch.AlarmProps{
		Metric: provider.RotationFunction().MetricErrors(nil), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
	})

	awslightsail.NewCfnContainer(stack, jsii.String("Service"), &awslightsail.CfnContainerProps{
		ServiceName: jsii.String("twin-app"),
		Power:       jsii.String("nano"),
		Scale:       jsii.Number(1),
		ContainerServiceDeployment: &awslightsail.CfnContainer_ContainerServiceDeploymentProperty{
			Containers: &[]interface{}{&awslightsail.CfnContainer_ContainerProperty{
				ContainerName: jsii.String("app"),
				Image:         jsii.String("public.ecr.aws/docker/library/busybox:latest"),
				Environment: &[]interface{}{
					&awslightsail.CfnContainer_EnvironmentVariableProperty{Variable: jsii.String("AWS_ACCESS_KEY_ID"), Value: second.AccessKeyId()},
					&awslightsail.CfnContainer_EnvironmentVariableProperty{Variable: jsii.String("AWS_SECRET_ACCESS_KEY"), Value: second.SecretAccessKey().UnsafeUnwrap()},
				},
			}},
		},
	})
	useKey(stack, "Reader", byName)

	// Another stack of the app takes the rotating key through its interface.
	consumer := awscdk.NewStack(app, jsii.String("Consumer"), &awscdk.StackProps{Env: env})
	useKey(consumer, "Reader", rotating)

	// A key of another app, imported from its secret (encrypted with a customer managed key).
	imported := awscdk.NewStack(app, jsii.String("Imported"), &awscdk.StackProps{Env: env})
	importedKey := key.LightsailBucketAccessKey_FromAccessKeyAttributes(imported, jsii.String("Key"), &key.LightsailBucketAccessKeyAttributes{
		BucketName: jsii.String("bucket-made-elsewhere"),
		Secret: awssecretsmanager.Secret_FromSecretAttributes(imported, jsii.String("Secret"), &awssecretsmanager.SecretAttributes{
			SecretCompleteArn: jsii.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:twin-key-AbCdEf"),
			EncryptionKey: awskms.Key_FromKeyArn(imported, jsii.String("EncryptionKey"),
				jsii.String("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555")),
		}),
		AccessKeyId: jsii.String("AKIAIOSFODNN7EXAMPLE"),
	})
	useKey(imported, "Reader", importedKey)
	awscdk.NewCfnOutput(imported, jsii.String("KeyId"), &awscdk.CfnOutputProps{Value: importedKey.AccessKeyId()})

	app.Synth(nil)
}

// errorOf is what run panics with, as a JSON line, or a note that it did not panic.
func errorOf(name string, run func()) (line string) {
	defer func() {
		if recovered := recover(); recovered != nil {
			message := fmt.Sprint(recovered)
			if err, ok := recovered.(error); ok {
				message = err.Error()
			}
			encoded, _ := json.Marshal(map[string]string{"case": name, "type": fmt.Sprintf("%T", recovered), "message": message})
			line = string(encoded)
		}
	}()
	run()
	encoded, _ := json.Marshal(map[string]string{"case": name, "type": "none", "message": "nothing panicked"})
	return string(encoded)
}

func invalidProp() {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Errors"), &awscdk.StackProps{Env: env})
	key.NewLightsailBucketAccessKey(stack, jsii.String("Key"), &key.LightsailBucketAccessKeyProps{BucketName: jsii.String("Not_A_Bucket")})
}

func threeKeysOnOneBucket() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Errors"), &awscdk.StackProps{Env: env})
	bucket := awslightsail.NewCfnBucket(stack, jsii.String("Bucket"), &awslightsail.CfnBucketProps{
		BucketName: jsii.String("full-bucket"),
		BundleId:   jsii.String("small_1_0"),
	})
	for _, id := range []string{"One", "Two", "Three"} {
		key.NewLightsailBucketAccessKey(stack, jsii.String(id), &key.LightsailBucketAccessKeyProps{Bucket: bucket})
	}
	app.Synth(nil)
}

func main() {
	defer jsii.Close()
	fmt.Println(errorOf("invalidProp", invalidProp))
	fmt.Println(errorOf("threeKeysOnOneBucket", threeKeysOnOneBucket))
	synth(os.Args[1])
}
