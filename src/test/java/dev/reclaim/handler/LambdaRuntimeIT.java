package dev.reclaim.handler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.DeployedFunction;
import dev.reclaim.testing.LambdaRuntimeApi;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.SamTemplate;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deployed artifact in the Lambda runtime: each function's {@code sam build} layout started by AWS's runtime
 * interface client against a Runtime API served here, invoked with the files of {@code events/} the template maps
 * to it. Only the packaged jar is on the function's class path, so a class the jar lacks (joda-time for the
 * runtime's SQS event serializer, say) fails here as it would in AWS. An initialisation or invocation error fails
 * the test.
 */
class LambdaRuntimeIT {
    private static final SamTemplate TEMPLATE = SamTemplate.load();
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private TestSqs.QueuePair queues;

    @BeforeEach
    void setUp() {
        queues = TestSqs.retryQueues(fx.env(), "reclaim-retry", 3);
        fx.env().put("RECLAIM_LOG_FORMAT", "text");
    }

    @Test
    void shouldAnswerEachRetryEventWithItsBatchResponse_whenThePackagedJarRunsInTheLambdaRuntime() throws Exception {
        String function = TEMPLATE.functionTriggeredBy("SQS");
        // The MOCs the messages name: one whose delete a trigger refuses (it fails again), the others purge.
        for (String id : List.of("6a1f0c52-3d4e-4b8a-9c7d-1e2f3a4b5c6d", "7c3a1e94-5f6b-4d8c-9e0f-3a4b5c6d7e8f",
                "8d4b2fa5-6a7c-4e9d-8f1a-4b5c6d7e8f90")) {
            insertExpiredMoc(id, "Castle");
        }
        insertExpiredMoc("9b2e1d63-4e5f-4c9b-8d0e-2f3a4b5c6d7e", "poison");
        fx.refuseToDeletePoisonMocs();
        TestS3.put(fx.mocBucket, "mocs/7c3a1e94/instructions.pdf");
        TestS3.put(fx.mocBucket, "gallery/7c3a1e94/thumb.jpg");

        Map<String, List<String>> failedByFile = new HashMap<>();
        try (LambdaRuntimeApi api = new LambdaRuntimeApi(function);
             DeployedFunction lambda = DeployedFunction.start(function, TEMPLATE.handler(function), fx.env(), api, dir)) {
            for (String file : List.of("retry-batch.json", "retry-good.json", "retry-malformed.json")) {
                JsonNode response = answer(lambda, api, file);
                List<String> failed = new ArrayList<>();
                response.path("batchItemFailures").forEach(f -> failed.add(f.path("itemIdentifier").asText()));
                failedByFile.put(file, failed);
            }
        }

        assertThat(failedByFile.get("retry-batch.json")).containsExactly("c1d2e3f4-0002-4a5b-8c9d-0e1f2a3b4c5d");
        assertThat(failedByFile.get("retry-good.json")).isEmpty();
        assertThat(failedByFile.get("retry-malformed.json")).as("a malformed message never fails its neighbours").isEmpty();
        assertThat(fx.strings("SELECT title FROM moc_instructions")).containsExactly("poison");
        assertThat(TestS3.keys(fx.mocBucket)).isEmpty();
        assertThat(TestSqs.drain(queues.deadLetterQueueUrl(), 1, Duration.ofSeconds(5))).hasSize(1);
    }

    @Test
    void shouldAnswerTheDryRunInputAndTheEventBridgeEnvelopeWithAReport_whenThePackagedJarRunsInTheLambdaRuntime() throws Exception {
        String function = TEMPLATE.functionTriggeredBy("ScheduleV2");
        fx.sampleData(20, 9);
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        JsonNode dryRun;
        JsonNode scheduled;
        try (LambdaRuntimeApi api = new LambdaRuntimeApi(function);
             DeployedFunction lambda = DeployedFunction.start(function, TEMPLATE.handler(function), fx.env(), api, dir)) {
            dryRun = answer(lambda, api, "dry-run.json");
            assertThat(ReferenceData.rowCounts(fx.db)).as("a dry run changes nothing").isEqualTo(rows);
            scheduled = answer(lambda, api, "scheduled-event.json");
        }

        assertThat(dryRun.path("outcome").asText()).isEqualTo("completed");
        assertThat(dryRun.path("dryRun").asBoolean()).isTrue();
        assertThat(dryRun.path("sweeps").path(0).path("wouldPurge").asLong()).isEqualTo(6);
        assertThat(scheduled.path("outcome").asText()).isEqualTo("completed");
        assertThat(scheduled.path("trigger").asText()).isEqualTo("schedule:arn:aws:events:us-east-1:123456789012:rule/reclaim-daily");
        assertThat(scheduled.path("dryRun").asBoolean()).isFalse();
        assertThat(scheduled.path("sweeps").path(0).path("purged").asLong()).isEqualTo(6);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'"))
                .isZero();
    }

    @Test
    void shouldPurgeTheShardsOfAFannedOutRun_whenThePackagedWorkerRunsInTheLambdaRuntime() throws Exception {
        fx.sampleData(40, 0); // 12 expired MOCs
        TestSqs.QueuePair work = TestSqs.createQueuePair("reclaim-work", dev.reclaim.run.ShardWork.MAX_RECEIVES);
        fx.env().put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
        fx.env().put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
        fx.env().put("RECLAIM_MOC_FAN_OUT", "always");
        fx.env().put("RECLAIM_MOC_SHARD_SIZE", "5");
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        try (dev.reclaim.Reclaim reclaim = fx.reclaim()) {
            reclaim.run(new dev.reclaim.run.RunRequest("schedule:test", false, List.of("moc-purge"),
                    dev.reclaim.run.Deadline.none()));
        }
        List<software.amazon.awssdk.services.sqs.model.Message> shards =
                TestSqs.drain(work.queueUrl(), 3, Duration.ofSeconds(10));
        assertThat(shards).hasSize(3);

        String function = TEMPLATE.functionPolling("WorkQueue");
        List<JsonNode> responses = new ArrayList<>();
        try (LambdaRuntimeApi api = new LambdaRuntimeApi(function);
             DeployedFunction lambda = DeployedFunction.start(function, TEMPLATE.handler(function), fx.env(), api, dir)) {
            for (var m : shards) {
                String event = Reports.JSON.writeValueAsString(Map.of("Records", List.of(Map.of("messageId",
                        m.messageId(), "receiptHandle", m.receiptHandle(), "body", m.body(), "attributes",
                        Map.of("ApproximateReceiveCount", "1"), "eventSource", "aws:sqs"))));
                LambdaRuntimeApi.Answer answer = api.invoke(event, ANSWER_TIMEOUT);
                assertThat(answer.error()).as("%s%n%s", answer.body(), lambda.output()).isFalse();
                assertThat(lambda.output()).doesNotContain("ClassNotFoundException", "NoClassDefFoundError");
                responses.add(Reports.JSON.readTree(answer.body()));
            }
        }

        assertThat(responses).allSatisfy(r -> assertThat(r.path("batchItemFailures")).isEmpty());
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'"))
                .isZero();
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("done");
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(12);
    }

    /** Invokes the function with {@code events/file}; anything but a response (an error, a dead runtime) fails. */
    private static JsonNode answer(DeployedFunction lambda, LambdaRuntimeApi api, String file) throws Exception {
        LambdaRuntimeApi.Answer answer;
        try {
            answer = api.invoke(Files.readString(Path.of("events", file)), ANSWER_TIMEOUT);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n--- the function's output ---\n" + lambda.output(), e);
        }
        assertThat(answer.error()).as("%s: the runtime posted an invocation error %s: %s%n--- the function's output ---%n%s",
                file, answer.errorType(), answer.body(), lambda.output()).isFalse();
        assertThat(lambda.output()).as("the runtime's log").doesNotContain("ClassNotFoundException", "NoClassDefFoundError");
        return Reports.JSON.readTree(answer.body());
    }

    private void insertExpiredMoc(String id, String title) throws Exception {
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES ('" + id
                + "', gen_random_uuid(), '" + title + "', now() - interval '40 days')");
    }
}
