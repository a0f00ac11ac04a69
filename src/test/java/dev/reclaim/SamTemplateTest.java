package dev.reclaim;

import dev.reclaim.config.Settings;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.Secrets;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.testing.SamTemplate;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** What template.yaml and samconfig.toml promise, checked so that it cannot drift unnoticed. */
class SamTemplateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SamTemplate TEMPLATE = SamTemplate.load();
    private static final String CLEANUP = "CleanupFunction";
    private static final String RETRY = "RetryFunction";

    /** Variables the code reads that the template leaves unset on purpose, and why. */
    private static final Map<String, String> DELIBERATELY_ABSENT = Map.ofEntries(
            Map.entry("RECLAIM_DB_PASSWORD", "read from RECLAIM_DB_PASSWORD_SECRET_ARN at initialisation"),
            Map.entry("CLOUDINARY_URL", "read from CLOUDINARY_URL_SECRET_ARN at initialisation"),
            Map.entry("SENTRY_DSN", "read from SENTRY_DSN_SECRET_ARN at initialisation"),
            Map.entry("RECLAIM_RENDER_ACCESS_KEY_ID", "read from RECLAIM_RENDER_ACCESS_KEY_ID_SECRET_ARN, when set"),
            Map.entry("RECLAIM_RENDER_SECRET_ACCESS_KEY", "read from RECLAIM_RENDER_SECRET_ACCESS_KEY_SECRET_ARN, when set"),
            Map.entry("RECLAIM_DB_POOL_SIZE", "default 4 fits one invocation per container"),
            Map.entry("RECLAIM_DB_CONNECT_TIMEOUT", "default 10s"),
            Map.entry("RECLAIM_OUTBOX_BACKOFF", "default 15m"),
            Map.entry("RECLAIM_OUTBOX_RETRY_PERIOD", "default 24h"),
            Map.entry("RECLAIM_JOURNAL_RETENTION", "default 30d: the undo window the journal keeps"),
            Map.entry("RECLAIM_LOG_LEVEL", "default INFO"),
            Map.entry("RECLAIM_METRICS_IN_DRY_RUN", "default false: a dry run publishes nothing"),
            Map.entry("RECLAIM_METRICS", "default true: Lambda always publishes"),
            Map.entry("RECLAIM_SCHEDULE_CRONTAB", "derived from RECLAIM_SCHEDULE"),
            Map.entry("RECLAIM_SENTRY_MONITOR", "default reclaim-cleanup"),
            Map.entry("RECLAIM_SENTRY_CHECKIN_MARGIN", "default 30m"),
            Map.entry("RECLAIM_SENTRY_FLUSH_TIMEOUT", "default 2s"),
            Map.entry("RECLAIM_METRICS_TIMEOUT", "default 10s"),
            Map.entry("RECLAIM_CLOUDINARY_RESERVE", "default 20% in config/reclaim.yaml"),
            Map.entry("RECLAIM_CLOUDINARY_RETRY_DELAY", "default in config/reclaim.yaml"),
            Map.entry("RECLAIM_CLOUDINARY_TIMEOUT", "default in config/reclaim.yaml"),
            Map.entry("RECLAIM_BOBBLEHEAD_MAX_DELETES", "default in config/reclaim.yaml"),
            Map.entry("RECLAIM_UPLOAD_TEMP_MAX_DELETES", "default in config/reclaim.yaml"),
            Map.entry("RECLAIM_MOC_MAX_DELETES", "default in config/reclaim.yaml"),
            Map.entry("RECLAIM_RENDER_MAX_DELETES", "default in config/reclaim.yaml"));
    /** Set by the template for the observability work (issue 10), before its code reads them. */
    private static final Set<String> SET_FOR_OBSERVABILITY = Set.of("RECLAIM_METRICS_NAMESPACE", "RECLAIM_SCHEDULE",
            "RECLAIM_SCHEDULE_TIMEZONE", "SENTRY_ENVIRONMENT");

    @Test
    void shouldRunEveryFunctionOnJava21_withAHandlerThatTakesTheInputItsEventDelivers() throws Exception {
        assertThat(TEMPLATE.root().path("Transform").asText()).isEqualTo("AWS::Serverless-2016-10-31");
        assertThat(TEMPLATE.root().path("Globals").path("Function").path("Runtime").asText()).isEqualTo("java21");
        for (String function : TEMPLATE.resourcesOfType("AWS::Serverless::Function")) {
            assertThat(TEMPLATE.resource(function).path("Properties").path("Runtime").asText("java21")).isEqualTo("java21");
        }

        Class<?> scheduled = Class.forName(TEMPLATE.handlerClass(TEMPLATE.functionTriggeredBy("ScheduleV2")));
        Class<?> retry = Class.forName(TEMPLATE.handlerClass(TEMPLATE.functionTriggeredBy("SQS")));

        // The scheduler delivers plain JSON or an EventBridge envelope: the handler reads the raw stream.
        assertThat(RequestStreamHandler.class).isAssignableFrom(scheduled);
        assertThat(requestHandlerTypes(retry)).containsExactly(SQSEvent.class, SQSBatchResponse.class);
        for (String function : List.of(CLEANUP, RETRY)) {
            String handler = TEMPLATE.resource(function).path("Properties").path("Handler").asText();
            assertThat(handler).endsWith("::handleRequest");
            assertThat(TEMPLATE.resource(function).path("Metadata").path("BuildMethod").asText()).isEqualTo("makefile");
        }
    }

    @Test
    void shouldRunDailyAt3Utc_byDefault_withTheScheduledTimeInAnInputTheHandlerAccepts() throws Exception {
        JsonNode params = TEMPLATE.root().path("Parameters");
        assertThat(params.path("ScheduleExpression").path("Default").asText()).isEqualTo("cron(0 3 * * ? *)");
        assertThat(params.path("ScheduleTimezone").path("Default").asText()).isEqualTo("UTC");
        JsonNode daily = TEMPLATE.resource(CLEANUP).path("Properties").path("Events").path("Daily").path("Properties");

        assertThat(daily.path("ScheduleExpression")).isEqualTo(ref("ScheduleExpression"));
        assertThat(daily.path("ScheduleExpressionTimezone")).isEqualTo(ref("ScheduleTimezone"));
        JsonNode input = JSON.readTree(daily.path("Input").asText());
        assertThat(input.path("trigger").asText()).isEqualTo("schedule:<aws.scheduler.scheduled-time>");
        assertThat(fieldNames(input)).isSubsetOf("dryRun", "sweeps", "trigger");
        assertThat(daily.path("RetryPolicy").path("MaximumRetryAttempts").asInt()).isPositive();
        assertThat(daily.path("DeadLetterConfig").path("Arn").path("Fn::GetAtt").get(0).asText()).isEqualTo("ScheduleDeadLetterQueue");
        assertThat(TEMPLATE.resource(CLEANUP).path("Properties").path("ReservedConcurrentExecutions").asInt()).isEqualTo(1);
        assertThat(params.path("FunctionTimeout").path("Default").asInt()).isEqualTo(900);
        assertThat(TEMPLATE.resource(CLEANUP).path("Properties").path("Timeout")).isEqualTo(ref("FunctionTimeout"));
    }

    @Test
    void shouldGiveEachWorkerOneShard_andTheWorkQueueSixTimesTheLongestWorkerBeforeItsDeadLetterQueue() {
        JsonNode worker = TEMPLATE.resource("WorkerFunction").path("Properties");
        assertThat(worker.path("Handler").asText())
                .isEqualTo(dev.reclaim.handler.WorkerHandler.class.getName() + "::handleRequest");
        assertThat(worker.path("Timeout")).isEqualTo(ref("FunctionTimeout"));
        JsonNode sqs = worker.path("Events").path("WorkQueueMessages").path("Properties");
        assertThat(sqs.path("FunctionResponseTypes")).extracting(JsonNode::asText).containsExactly("ReportBatchItemFailures");
        assertThat(sqs.path("BatchSize").asInt()).isEqualTo(1);
        assertThat(sqs.path("ScalingConfig").path("MaximumConcurrency")).isEqualTo(ref("WorkerMaxConcurrency"));
        assertThat(sqs.path("Queue").path("Fn::GetAtt").get(0).asText()).isEqualTo("WorkQueue");

        JsonNode queue = TEMPLATE.resource("WorkQueue").path("Properties");
        int longest = TEMPLATE.root().path("Parameters").path("FunctionTimeout").path("MaxValue").asInt();
        assertThat(queue.path("VisibilityTimeout").asInt()).isGreaterThanOrEqualTo(6 * longest);
        assertThat(queue.path("RedrivePolicy").path("maxReceiveCount").asInt())
                .isEqualTo(dev.reclaim.run.ShardWork.MAX_RECEIVES);
        assertThat(queue.path("RedrivePolicy").path("deadLetterTargetArn").path("Fn::GetAtt").get(0).asText())
                .isEqualTo("WorkDeadLetterQueue");
        JsonNode parked = TEMPLATE.resource("WorkDeadLetterQueueDepthAlarm").path("Properties");
        assertThat(parked.path("Dimensions").get(0).path("Value").path("Fn::GetAtt").get(0).asText())
                .isEqualTo("WorkDeadLetterQueue");
        JsonNode oldest = TEMPLATE.resource("OldestShardAgeAlarm").path("Properties");
        assertThat(oldest.path("MetricName").asText()).isEqualTo("ApproximateAgeOfOldestMessage");
        assertThat(oldest.path("Dimensions").get(0).path("Value").path("Fn::GetAtt").get(0).asText()).isEqualTo("WorkQueue");
    }

    @Test
    void shouldReportBatchItemFailures_andGiveTheRetryQueueSixTimesTheRetryTimeoutBeforeTheDeadLetterQueue() {
        JsonNode sqs = TEMPLATE.resource(RETRY).path("Properties").path("Events").path("RetryQueueMessages").path("Properties");
        assertThat(sqs.path("FunctionResponseTypes")).extracting(JsonNode::asText).containsExactly("ReportBatchItemFailures");
        assertThat(sqs.path("BatchSize").asInt()).isEqualTo(10);
        assertThat(sqs.path("ScalingConfig").path("MaximumConcurrency").isMissingNode()).isFalse();
        assertThat(sqs.path("Queue").path("Fn::GetAtt").get(0).asText()).isEqualTo("RetryQueue");

        JsonNode queue = TEMPLATE.resource("RetryQueue").path("Properties");
        int retryTimeout = TEMPLATE.resource(RETRY).path("Properties").path("Timeout").asInt();
        assertThat(queue.path("VisibilityTimeout").asInt()).isGreaterThanOrEqualTo(6 * retryTimeout);
        assertThat(queue.path("RedrivePolicy").path("maxReceiveCount").asInt()).isEqualTo(3);
        assertThat(queue.path("RedrivePolicy").path("deadLetterTargetArn").path("Fn::GetAtt").get(0).asText())
                .isEqualTo("DeadLetterQueue");

        JsonNode dlq = TEMPLATE.resource("DeadLetterQueue").path("Properties");
        assertThat(dlq.path("MessageRetentionPeriod").asInt()).isEqualTo(14 * 24 * 3600);
        assertThat(dlq.path("RedriveAllowPolicy").path("redrivePermission").asText()).isEqualTo("byQueue");
        String retryQueueName = queue.path("QueueName").path("Fn::Sub").asText();
        assertThat(dlq.path("RedriveAllowPolicy").path("sourceQueueArns").get(0).path("Fn::Sub").asText()).endsWith(":" + retryQueueName);
        for (String q : TEMPLATE.resourcesOfType("AWS::SQS::Queue")) {
            assertThat(TEMPLATE.resource(q).path("Properties").path("SqsManagedSseEnabled").asBoolean()).as(q).isTrue();
        }
    }

    @Test
    void shouldAlarmOnEveryConditionTheIssueNames_throughTheAlarmTopic() {
        assertThat(TEMPLATE.resourcesOfType("AWS::CloudWatch::Alarm")).contains("FailureRateAlarm",
                "RetryQueueDepthAlarm", "DeadLetterQueueDepthAlarm", "NoCompletedRunAlarm", "OldestPendingDeletionAlarm",
                "BacklogGrowingAlarm", "CleanupErrorsAlarm", "RetryErrorsAlarm", "CleanupDurationAlarm");
        for (String alarm : TEMPLATE.resourcesOfType("AWS::CloudWatch::Alarm")) {
            assertThat(TEMPLATE.resource(alarm).path("Properties").path("AlarmActions").get(0)).as(alarm).isEqualTo(ref("AlarmTopic"));
        }
        assertThat(metricNames("FailureRateAlarm")).containsOnly("ItemsFailed", "ItemsPurged");
        assertThat(metricNames("BacklogGrowingAlarm")).containsOnly("Backlog");
        JsonNode noRun = TEMPLATE.resource("NoCompletedRunAlarm").path("Properties");
        assertThat(noRun.path("MetricName").asText()).isEqualTo("RunCompleted");
        assertThat(noRun.path("TreatMissingData").asText()).isEqualTo("breaching");
        assertThat(noRun.path("Period").asInt() * noRun.path("EvaluationPeriods").asInt()).isEqualTo(26 * 3600);
        assertThat(TEMPLATE.resource("OldestPendingDeletionAlarm").path("Properties").path("Threshold").asInt()).isEqualTo(2 * 86400);
        assertThat(TEMPLATE.resource("RetryQueueDepthAlarm").path("Properties").path("Threshold").asInt()).isEqualTo(50);
        assertThat(TEMPLATE.resource("AlarmEmailSubscription").path("Condition").asText()).isEqualTo("HasAlarmEmail");
        assertThat(TEMPLATE.resourcesOfType("AWS::CloudWatch::Dashboard")).hasSize(1);
    }

    @Test
    void shouldGrantNoWildcardResource_butPutMetricDataLimitedToTheNamespace() {
        List<JsonNode> statements = new ArrayList<>();
        for (String role : TEMPLATE.resourcesOfType("AWS::IAM::Role")) {
            for (JsonNode policy : TEMPLATE.resource(role).path("Properties").path("Policies")) {
                policy.path("PolicyDocument").path("Statement").forEach(statements::add);
            }
        }
        assertThat(statements).isNotEmpty();
        for (JsonNode s : statements) {
            String sid = s.path("Sid").asText();
            List<JsonNode> resources = s.path("Resource").isArray() ? list(s.path("Resource")) : List.of(s.path("Resource"));
            if (resources.stream().anyMatch(r -> r.isTextual() && r.asText().contains("*") && !r.asText().contains("/"))) {
                assertThat(actions(s)).as(sid).containsExactly("cloudwatch:PutMetricData");
                assertThat(s.path("Condition").path("StringEquals").path("cloudwatch:namespace")).as(sid).isEqualTo(ref("MetricsNamespace"));
            }
            for (String action : actions(s)) {
                assertThat(action).as(sid).doesNotContain("*");
                if (action.startsWith("s3:")) {
                    assertThat(resources).as(sid).allSatisfy(r -> assertThat(r.path("Fn::Sub").asText()).containsPattern("\\$\\{(MocBucket|RenderBucket)}"));
                } else if (action.startsWith("sqs:")) {
                    assertThat(resources).as(sid).allSatisfy(r -> assertThat(r.has("Fn::GetAtt")).isTrue());
                } else if (action.startsWith("secretsmanager:")) {
                    assertThat(resources).as(sid).allSatisfy(r -> assertThat(r.toString()).contains("SecretArn"));
                }
            }
        }
        // No managed policy but the VPC one (ENI actions), and only with a VPC.
        for (String role : TEMPLATE.resourcesOfType("AWS::IAM::Role")) {
            assertThat(TEMPLATE.resource(role).path("Properties").path("ManagedPolicyArns").path("Fn::If").get(0).asText()).isEqualTo("HasVpc");
        }
        for (String function : TEMPLATE.resourcesOfType("AWS::Serverless::Function")) {
            assertThat(TEMPLATE.resource(function).path("Properties").has("Policies")).as(function).isFalse();
        }
    }

    @Test
    void shouldGrantS3OnTheShippedConfigurationsPrefixes_andAlarmOnItsSweeps() {
        // The template names buckets, prefixes and sweeps of config/reclaim.yaml: a change there must be made here too.
        Map<String, String> env = new HashMap<>();
        TEMPLATE.root().path("Globals").path("Function").path("Environment").path("Variables").fields()
                .forEachRemaining(v -> {
                    if (v.getKey().endsWith("_BUCKET")) { // the buckets as the template names them: ${MocBucket}
                        env.put(v.getKey(), "${" + v.getValue().path("Ref").asText() + "}");
                    }
                });
        ReclaimConfig config = ConfigLoader.load(Path.of(ConfigLoader.DEFAULT_PATH), env);
        Set<String> deletable = new TreeSet<>();
        Set<String> listable = new TreeSet<>();
        Set<String> buckets = new TreeSet<>();
        for (StoreConfig store : config.stores().values()) {
            if (store instanceof StoreConfig.S3 s3) {
                buckets.add("arn:${AWS::Partition}:s3:::" + s3.bucket());
                store.allowedPrefixes().forEach(p -> deletable.add("arn:${AWS::Partition}:s3:::" + s3.bucket() + "/" + p + "*"));
                config.sweeps().values().stream().filter(w -> w instanceof SweepConfig.Assets a && a.store().equals(store.name()))
                        .forEach(w -> listable.add(s3.bucket() + " " + ((SweepConfig.Assets) w).prefix() + "*"));
            }
        }
        List<String> checked = new ArrayList<>();
        for (String role : TEMPLATE.resourcesOfType("AWS::IAM::Role")) {
            for (JsonNode policy : TEMPLATE.resource(role).path("Properties").path("Policies")) {
                for (JsonNode st : policy.path("PolicyDocument").path("Statement")) {
                    checked.add(role + "." + st.path("Sid").asText());
                    if (st.path("Sid").asText().equals("DeleteUnderAllowedPrefixes")) {
                        assertThat(list(st.path("Resource"))).as(role).extracting(r -> r.path("Fn::Sub").asText())
                                .containsExactlyInAnyOrderElementsOf(deletable);
                    }
                    if (st.path("Sid").asText().equals("AskWhetherDeletionsCanBeUndone")) { // versioning, every S3 store
                        assertThat(st.path("Action").asText()).isEqualTo("s3:GetBucketVersioning");
                        assertThat(list(st.path("Resource"))).as(role).extracting(r -> r.path("Fn::Sub").asText())
                                .containsExactlyInAnyOrderElementsOf(buckets);
                    }
                    assertThat(st.toString()).as(role + ": restoring is the operator's, never the functions'")
                            .doesNotContain("DeleteObjectVersion");
                    if (st.path("Sid").asText().equals("ListTempUploads")) {
                        String bucket = st.path("Resource").path("Fn::Sub").asText().replace("arn:${AWS::Partition}:s3:::", "");
                        assertThat(list(st.path("Condition").path("StringLike").path("s3:prefix")))
                                .extracting(p -> bucket + " " + p.asText()).as(role).containsExactlyInAnyOrderElementsOf(listable);
                    }
                }
            }
        }
        assertThat(checked).contains("CleanupFunctionRole.DeleteUnderAllowedPrefixes", "CleanupFunctionRole.ListTempUploads",
                "RetryFunctionRole.DeleteUnderAllowedPrefixes", "CleanupFunctionRole.AskWhetherDeletionsCanBeUndone",
                "RetryFunctionRole.AskWhetherDeletionsCanBeUndone");
        Set<String> records = new TreeSet<>();
        config.sweeps().values().stream().filter(SweepConfig.Records.class::isInstance).forEach(w -> records.add(w.name()));
        assertThat(sweepDimensions("FailureRateAlarm")).isEqualTo(new TreeSet<>(config.sweeps().keySet()));
        assertThat(sweepDimensions("BacklogGrowingAlarm")).isEqualTo(records);
    }

    private static Set<String> sweepDimensions(String alarm) {
        Set<String> out = new TreeSet<>();
        for (JsonNode m : TEMPLATE.resource(alarm).path("Properties").path("Metrics")) {
            m.path("MetricStat").path("Metric").path("Dimensions").forEach(d -> out.add(d.path("Value").asText()));
        }
        return out;
    }

    @Test
    void shouldRequireAtDeployTimeTheSecretOfEveryStoreTheShippedConfigurationDeclares() {
        // A secret the configuration needs and the deployment left out fails every container at start, after a
        // "successful" deploy: CloudFormation must refuse the deployment instead.
        ReclaimConfig config = ConfigLoader.load(Path.of(ConfigLoader.DEFAULT_PATH), Map.of());
        Set<String> needed = new TreeSet<>();
        for (StoreConfig store : config.stores().values()) {
            if (store instanceof StoreConfig.Cloudinary) {
                needed.add("CLOUDINARY_URL");
            }
        }
        assertThat(needed).as("the shipped configuration declares a Cloudinary store").contains("CLOUDINARY_URL");

        JsonNode variables = TEMPLATE.root().path("Globals").path("Function").path("Environment").path("Variables");
        JsonNode params = TEMPLATE.root().path("Parameters");
        for (String secret : needed) {
            JsonNode arn = variables.path(Settings.SECRET_OF.get(secret));
            assertThat(arn.has("Ref")).as(Settings.SECRET_OF.get(secret) + " set unconditionally, from a parameter: " + arn).isTrue();
            JsonNode parameter = params.path(arn.path("Ref").asText());
            assertThat(parameter.has("Default")).as(arn.path("Ref").asText() + " has no default").isFalse();
            assertThat("").as(arn.path("Ref").asText() + " refuses an empty value")
                    .doesNotMatch(parameter.path("AllowedPattern").asText());
            assertThat("arn:aws:secretsmanager:eu-west-1:123456789012:secret:reclaim/cloudinary-AbC123")
                    .matches(parameter.path("AllowedPattern").asText());
        }
    }

    /** Issue 23: the render-outputs store's own keys, on an S3-compatible service, are optional secrets. */
    @Test
    void shouldPassTheRenderStoresKeySecretsOnlyWhenSet_andGrantReadingThemOnlyThen() throws IOException {
        String config = Files.readString(Path.of(ConfigLoader.DEFAULT_PATH));
        JsonNode variables = TEMPLATE.root().path("Globals").path("Function").path("Environment").path("Variables");
        Map<String, String> secretOf = Map.of("RenderStoreAccessKeyIdSecretArn", "RECLAIM_RENDER_ACCESS_KEY_ID",
                "RenderStoreSecretAccessKeySecretArn", "RECLAIM_RENDER_SECRET_ACCESS_KEY");
        secretOf.forEach((parameter, variable) -> {
            JsonNode p = TEMPLATE.root().path("Parameters").path(parameter);
            assertThat(p.path("Default").asText("none")).as(parameter).isEmpty();
            assertThat("").matches(p.path("AllowedPattern").asText());
            JsonNode passed = variables.path(variable + "_SECRET_ARN").path("Fn::If");
            String condition = passed.get(0).asText();
            assertThat(TEMPLATE.root().path("Conditions").path(condition).toString()).as(condition).contains(parameter);
            assertThat(passed.get(1)).isEqualTo(ref(parameter));
            assertThat(passed.get(2)).isEqualTo(ref("AWS::NoValue"));
            assertThat(config).as("config/reclaim.yaml shows where " + variable + " goes").contains("${" + variable + "}");
            for (String role : TEMPLATE.resourcesOfType("AWS::IAM::Role")) {
                List<JsonNode> grants = new ArrayList<>();
                TEMPLATE.resource(role).path("Properties").path("Policies").forEach(policy -> policy.path("PolicyDocument")
                        .path("Statement").forEach(st -> list(st.path("Resource")).stream()
                                .filter(r -> r.toString().contains(parameter)).forEach(r -> {
                                    assertThat(actions(st)).as(role).containsExactly("secretsmanager:GetSecretValue");
                                    grants.add(r);
                                })));
                assertThat(grants).as(role).hasSize(1);
                assertThat(grants.get(0).path("Fn::If").get(0).asText()).as(role).isEqualTo(condition);
            }
        });
        assertThat(TEMPLATE.root().path("Rules").path("RenderStoreKeysComeInPairs").toString())
                .contains("RenderStoreAccessKeyIdSecretArn", "RenderStoreSecretAccessKeySecretArn");
    }

    @Test
    void shouldSetEveryVariableTheCodeReads_orLeaveItOutOnPurpose() throws IOException {
        Set<String> set = fieldNames(TEMPLATE.root().path("Globals").path("Function").path("Environment").path("Variables"));
        Set<String> read = variablesTheCodeReads();
        assertThat(read).contains("RECLAIM_DB_URL", "RECLAIM_DRY_RUN", "RECLAIM_MOC_BUCKET", "RECLAIM_DB_PASSWORD_SECRET_ARN");

        Set<String> unaccounted = new TreeSet<>(read);
        unaccounted.removeAll(set);
        unaccounted.removeAll(DELIBERATELY_ABSENT.keySet());
        assertThat(unaccounted).as("read by the code, neither set by template.yaml nor deliberately absent").isEmpty();
        Set<String> unread = new TreeSet<>(set);
        unread.removeAll(read);
        unread.removeAll(SET_FOR_OBSERVABILITY);
        unread.remove("AWS_ENDPOINT_URL");
        assertThat(unread).as("set by template.yaml, read by nothing (a typo?)").isEmpty();
        assertThat(set).as("secret values never in the environment").doesNotContainAnyElementsOf(Settings.SECRET_OF.keySet());
        assertThat(set).containsAll(Settings.SECRET_OF.values());
    }

    @Test
    void shouldKeepEverySecretOutOfTheTemplateAndSamconfig() throws IOException {
        List<Pattern> secrets = List.of(
                Pattern.compile("[a-z][a-z0-9+.-]*://[^/\\s:@\"'$]+:[^/\\s@\"'$]+@"),   // user:password@ in a URL
                Pattern.compile("(?i)(password|api_secret|secret_key|dsn)\\s*[=:]\\s*[\"']?[^\\s\"'$!]"),
                Pattern.compile("AKIA[0-9A-Z]{16}"),
                Pattern.compile("https://[0-9a-f]{32}@"));                                // a Sentry DSN's key
        for (Path file : List.of(Path.of("template.yaml"), Path.of("samconfig.toml"))) {
            String text = Files.readString(file);
            for (Pattern p : secrets) {
                assertThat(p.matcher(text).find()).as(file + " matches " + p).isFalse();
            }
        }
        for (String name : fieldNames(TEMPLATE.root().path("Parameters"))) {
            if (name.matches("(?i).*(password|dsn|secret|cloudinaryurl).*")) {
                assertThat(name).endsWith("SecretArn");
                assertThat(TEMPLATE.root().path("Parameters").path(name).path("AllowedPattern").asText()).contains("secretsmanager");
            }
        }
    }

    @Test
    void shouldDeployProdAsDryRunsWithAConfirmedChangeset_andEveryEnvironmentWithIamAndAManagedBucket() throws IOException {
        String toml = Files.readString(Path.of("samconfig.toml"));
        assertThat(toml).containsPattern("(?m)^version = 0\\.1$");
        for (String env : List.of("default", "dev", "prod")) {
            String deploy = section(toml, env + ".deploy.parameters");
            assertThat(deploy).as(env).contains("capabilities = \"CAPABILITY_IAM\"").contains("resolve_s3 = true");
        }
        String prod = section(toml, "prod.deploy.parameters");
        assertThat(prod).contains("confirm_changeset = true").contains("\"DryRun=true\"");
    }

    @Test
    void shouldLogJsonToRetainedLogGroups_andOfferSnapStartOnAPublishedAlias() {
        for (String function : List.of(CLEANUP, RETRY)) {
            JsonNode logging = TEMPLATE.resource(function).path("Properties").path("LoggingConfig");
            assertThat(logging.path("LogFormat").asText()).isEqualTo("JSON");
            String group = logging.path("LogGroup").path("Ref").asText();
            assertThat(TEMPLATE.resource(group).path("Properties").path("RetentionInDays")).isEqualTo(ref("LogRetentionDays"));
        }
        JsonNode globals = TEMPLATE.root().path("Globals").path("Function");
        assertThat(globals.path("AutoPublishAlias").asText()).isEqualTo("live");
        assertThat(globals.path("SnapStart").path("ApplyOn").path("Fn::If").get(1).asText()).isEqualTo("PublishedVersions");
        assertThat(globals.path("VpcConfig").path("Fn::If").get(0).asText()).isEqualTo("HasVpc");
        assertThat(TEMPLATE.root().path("Parameters").path("DryRun").path("Default").asText()).isEqualTo("true");
    }

    // ------------------------------------------------------------------ helpers

    private static JsonNode ref(String name) {
        return JSON.createObjectNode().put("Ref", name);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    private static List<String> actions(JsonNode statement) {
        JsonNode a = statement.path("Action");
        return a.isArray() ? list(a).stream().map(JsonNode::asText).toList() : List.of(a.asText());
    }

    private static List<String> metricNames(String alarm) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : TEMPLATE.resource(alarm).path("Properties").path("Metrics")) {
            JsonNode name = m.path("MetricStat").path("Metric").path("MetricName");
            if (!name.isMissingNode()) {
                out.add(name.asText());
            }
        }
        return out;
    }

    private static List<Type> requestHandlerTypes(Class<?> handler) {
        for (Type t : handler.getGenericInterfaces()) {
            if (t instanceof ParameterizedType p && p.getRawType() == RequestHandler.class) {
                return List.of(p.getActualTypeArguments());
            }
        }
        return List.of();
    }

    /** Environment variables named in the main sources and in the shipped configuration's ${...}. */
    private static Set<String> variablesTheCodeReads() throws IOException {
        Pattern name = Pattern.compile("\\b((?:RECLAIM|SENTRY|CLOUDINARY)_[A-Z0-9_]*[A-Z0-9])\\b");
        Set<String> out = new TreeSet<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(Path.of("src/main"))) {
            files = new ArrayList<>(s.filter(Files::isRegularFile).toList());
        }
        files.add(Path.of("config/reclaim.yaml"));
        for (Path f : files) {
            Matcher m = name.matcher(Files.readString(f));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** The lines of one [section] of a TOML file, up to the next section. */
    private static String section(String toml, String name) {
        int start = toml.indexOf("[" + name + "]");
        assertThat(start).as("samconfig.toml has [" + name + "]").isNotNegative();
        int next = toml.indexOf("\n[", start + 1);
        return next < 0 ? toml.substring(start) : toml.substring(start, next);
    }

}
