package dev.reclaim.handler;

import dev.reclaim.testing.TestSettings;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.tests.EventLoader;
import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.run.ShardWork;
import dev.reclaim.store.Stores;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunEvents;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.SamTemplate;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.sqs.model.Message;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every file in events/ (what {@code sam local invoke -e} sends), loaded with aws-lambda-java-tests and handed to the
 * handler template.yaml maps it to, against the local services; each file's outcome is asserted.
 */
class SamEventsIT {
    private static final SamTemplate TEMPLATE = SamTemplate.load();
    /** Not an event: the variables for {@code sam local invoke --env-vars}. */
    private static final String ENV_FILE = "env.json";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private TestSqs.QueuePair queues;

    static Stream<String> eventFiles() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("events"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals(ENV_FILE)).sorted().toList();
            assertThat(names).hasSizeGreaterThanOrEqualTo(8);
            return names.stream();
        }
    }

    @BeforeEach
    void setUp() {
        queues = TestSqs.retryQueues(fx.env(), "reclaim-retry", 3);
    }

    @ParameterizedTest
    @MethodSource("eventFiles")
    void shouldGiveTheExpectedOutcome_whenTheHandlerTheTemplateMapsTheFileToIsInvokedWithIt(String name) throws Exception {
        String file = "events/" + name;
        JsonNode first = Reports.JSON.readTree(Path.of(file).toFile()).path("Records").path(0);
        boolean sqs = "aws:sqs".equals(first.path("eventSource").asText());
        // An SQS event goes to the function polling its queue: the work queue's to the worker, the rest to retries.
        String function = !sqs ? TEMPLATE.functionTriggeredBy("ScheduleV2")
                : first.path("eventSourceARN").asText().endsWith("-work") ? TEMPLATE.functionPolling("WorkQueue")
                : TEMPLATE.functionPolling("RetryQueue");
        String handler = TEMPLATE.handlerClass(function);

        if (handler.equals(WorkerHandler.class.getName())) {
            work(name, EventLoader.loadSQSEvent(file));
        } else if (handler.equals(RetryHandler.class.getName())) {
            retry(name, EventLoader.loadSQSEvent(file));
        } else if (handler.equals(ScheduledRunHandler.class.getName())) {
            scheduled(name, Reports.JSON.valueToTree(EventLoader.loadEvent(file, Map.class)));
        } else {
            fail("template.yaml maps " + file + " to " + handler + ", which this test does not know");
        }
    }

    private void scheduled(String name, JsonNode event) throws Exception {
        fx.sampleData(20, 9);
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        JsonNode report;
        try (Reclaim reclaim = fx.reclaim()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new ScheduledRunHandler(reclaim, TestSettings.of(Map.of())).handleRequest(
                    new ByteArrayInputStream(Reports.JSON.writeValueAsBytes(event)), out, null);
            report = Reports.JSON.readTree(out.toByteArray());
        }
        assertThat(report.path("outcome").asText()).isEqualTo("completed");
        switch (name) {
            case "scheduled-event.json" -> {
                assertThat(report.path("trigger").asText()).isEqualTo("schedule:arn:aws:events:us-east-1:123456789012:rule/reclaim-daily");
                assertThat(report.path("dryRun").asBoolean()).isFalse();
                assertThat(report.path("sweeps")).hasSize(4);
            }
            case "schedule-input.json" -> {
                assertThat(report.path("trigger").asText()).isEqualTo("schedule:2026-11-24T03:00:00Z");
                assertThat(report.path("dryRun").asBoolean()).isFalse();
                assertThat(report.path("sweeps").path(0).path("purged").asLong()).isEqualTo(6);
            }
            case "dry-run.json" -> {
                assertThat(report.path("dryRun").asBoolean()).isTrue();
                assertThat(report.path("sweeps").path(0).path("wouldPurge").asLong()).isEqualTo(6);
                assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
            }
            case "run-moc-purge.json" -> {
                assertThat(report.path("sweeps")).hasSize(1);
                assertThat(report.path("sweeps").path(0).path("name").asText()).isEqualTo("moc-purge");
                assertThat(fx.count("SELECT count(*) FROM render_jobs")).isEqualTo(9);
            }
            default -> fail("events/" + name + " has no expected outcome in " + getClass().getSimpleName() + ": add one");
        }
    }

    /**
     * The shard the message names is made as a fanned-out run makes it (its row, its run's limit) over data of its own;
     * the worker purges it. The body is exactly what a run sends ({@link ShardWork.Message}).
     */
    private void work(String name, SQSEvent event) throws Exception {
        String body = event.getRecords().get(0).getBody();
        ShardWork.Message message = Reports.JSON.readValue(body, ShardWork.Message.class);
        assertThat(body).isEqualTo(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(message));
        TestSqs.QueuePair work = TestSqs.createQueuePair("reclaim-work", ShardWork.MAX_RECEIVES);
        fx.env().put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
        fx.env().put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
        dev.reclaim.db.Database.migrate(fx.db); // Reclaim's schema, as the run that made the shard left it
        fx.execute("INSERT INTO reclaim.runs (id, trigger, started_at, finished_at, outcome) VALUES ('"
                + message.runId() + "', 'schedule:test', now(), now(), 'completed')");
        switch (name) {
            case "work-shard.json" -> recordsShard(event, message);
            case "work-asset-shard.json" -> assetShard(event, message);
            default -> fail("events/" + name + " has no expected outcome in " + getClass().getSimpleName() + ": add one");
        }
    }

    /** Shard 0 of 1 of moc-purge over 10 expired MOCs: all purged, their files with them. */
    private void recordsShard(SQSEvent event, ShardWork.Message message) throws Exception {
        fx.sampleData(31, 0); // 10 expired MOCs
        String fingerprint = dev.reclaim.config.ConfigInForce.hash(fx.config().sweeps().get("moc-purge"));
        fx.execute("INSERT INTO reclaim.shards (run_id, sweep, shard, shards, fingerprint) VALUES ('"
                + message.runId() + "', 'moc-purge', 0, 1, '" + fingerprint + "')");
        fx.execute("INSERT INTO reclaim.fanouts (run_id, sweep, budget, rule, basis) VALUES ('"
                + message.runId() + "', 'moc-purge', 1000, 'firstRuns', 'first runs')");

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = new WorkerHandler(reclaim.shardWork(), Duration.ofSeconds(60)).handleRequest(event, null);
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"))
                .isZero();
        assertThat(fx.strings("SELECT status FROM reclaim.shards")).containsExactly("done");
        assertThat(fx.count("SELECT purged FROM reclaim.shards")).isEqualTo(10);
        assertThat(TestS3.keys(fx.mocBucket))
                .isEqualTo(new java.util.HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
    }

    /**
     * Shard 2 of 3 ({@code "shard":1}) of upload-temp, the user folders after {@code uploads/tmp/u3/} up to {@code uploads/tmp/u5/} (the
     * ends a fan-out cuts at names one level under the prefix): its orphans deleted and journaled; what is referenced,
     * younger than the retention, in the other shards' ranges or outside the prefix kept; the other shards untouched.
     */
    private void assetShard(SQSEvent event, ShardWork.Message message) throws Exception {
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "2s"); // S3 dates uploads itself: old is 2 s ago
        List<String> orphans = List.of("uploads/tmp/u3/a.pdf", "uploads/tmp/u3/b.pdf", "uploads/tmp/u4/a.pdf");
        List<String> kept = List.of("uploads/tmp/u1/a.pdf", "uploads/tmp/u2/a.pdf", // shard 0's range
                "uploads/tmp/u4/ref.pdf",                                               // a MOC's file
                "uploads/tmp/u5/a.pdf", "uploads/tmp/u6/a.pdf",                         // shard 2's range
                "uploads/final/f.pdf", "mocs/m1/instructions.pdf");                     // outside the prefix
        String young = "uploads/tmp/u4/young.pdf";
        long oldBy = System.nanoTime() + Duration.ofMillis(2_300).toNanos();
        TestS3.putAll(fx.mocBucket, java.util.stream.Stream.concat(orphans.stream(), kept.stream()).toList());
        fx.execute("INSERT INTO moc_instructions (id, user_id, title) VALUES"
                + " ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'M')");
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES"
                + " ('00000000-0000-0000-0000-000000000001', 'instructions', 'uploads/tmp/u4/ref.pdf')");
        String fingerprint;
        try (Stores stores = ReclaimFixture.stores(fx.config(), fx.env())) {
            fingerprint = new AssetSweep((SweepConfig.Assets) fx.config().sweeps().get("upload-temp"))
                    .shardFingerprint(stores.get("moc-files"));
        }
        String[][] ranges = {{null, "uploads/tmp/u3/"}, {"uploads/tmp/u3/", "uploads/tmp/u5/"}, {"uploads/tmp/u5/", null}};
        for (int shard = 0; shard < ranges.length; shard++) {
            fx.execute("INSERT INTO reclaim.shards (run_id, sweep, shard, shards, after_id, up_to_id, fingerprint)"
                    + " VALUES ('" + message.runId() + "', 'upload-temp', " + shard + ", 3, " + literal(ranges[shard][0])
                    + ", " + literal(ranges[shard][1]) + ", '" + fingerprint + "')");
        }
        fx.execute("INSERT INTO reclaim.fanouts (run_id, sweep, budget, rule, basis) VALUES ('"
                + message.runId() + "', 'upload-temp', 1000, 'firstRuns', 'first runs')");

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            Thread.sleep(Math.max(0, (oldBy - System.nanoTime()) / 1_000_000)); // the others are older than 2 s now
            TestS3.put(fx.mocBucket, young); // uploaded just before the worker starts: younger than the retention
            response = new WorkerHandler(reclaim.shardWork(), Duration.ofSeconds(60)).handleRequest(event, null);
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        java.util.Set<String> left = new java.util.TreeSet<>(kept);
        left.add(young);
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(left);
        assertThat(fx.strings("SELECT key FROM reclaim.deleted_keys WHERE sweep = 'upload-temp'"))
                .containsExactlyInAnyOrderElementsOf(orphans);
        assertThat(fx.strings("SELECT shard || ' ' || status || ' ' || purged FROM reclaim.shards ORDER BY shard"))
                .containsExactly("0 waiting 0", "1 done 3", "2 waiting 0");
    }

    private static String literal(String text) {
        return text == null ? "NULL" : "'" + text + "'";
    }

    private void retry(String name, SQSEvent event) throws Exception {
        for (SQSEvent.SQSMessage m : event.getRecords()) {
            JsonNode body = readOrNull(m.getBody());
            if (body != null && "record".equals(body.path("kind").asText())) {
                String id = body.path("itemId").asText();
                String title = name.equals("retry-batch.json") && id.startsWith("9b2e") ? "poison" : "Castle";
                fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES ('" + id
                        + "', gen_random_uuid(), '" + title + "', now() - interval '40 days')");
            } else if (body != null && "deletion".equals(body.path("kind").asText())) {
                body.path("keys").forEach(k -> TestS3.put(fx.mocBucket, k.asText()));
            }
        }
        fx.refuseToDeletePoisonMocs();

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            RetryWorker worker = new RetryWorker(reclaim.retries(), reclaim.retryQueue(), RunEvents.none());
            response = new RetryHandler(worker, false).handleRequest(event, null);
        }

        List<String> failed = response.getBatchItemFailures().stream().map(SQSBatchResponse.BatchItemFailure::getItemIdentifier).toList();
        switch (name) {
            case "retry-batch.json" -> {
                assertThat(failed).containsExactly("c1d2e3f4-0002-4a5b-8c9d-0e1f2a3b4c5d");
                assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isEqualTo(1);
            }
            case "retry-good.json" -> {
                assertThat(failed).isEmpty();
                assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isZero();
                assertThat(TestS3.keys(fx.mocBucket)).isEmpty();
            }
            case "retry-malformed.json" -> {
                assertThat(failed).as("a malformed message never fails its neighbours").isEmpty();
                assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isZero();
                List<Message> parked = TestSqs.drain(queues.deadLetterQueueUrl(), 1, Duration.ofSeconds(5));
                assertThat(parked).hasSize(1);
                assertThat(parked.get(0).body()).isEqualTo(event.getRecords().get(0).getBody());
                assertThat(parked.get(0).messageAttributes()).containsKey("reason");
            }
            default -> fail("events/" + name + " has no expected outcome in " + getClass().getSimpleName() + ": add one");
        }
    }

    private static JsonNode readOrNull(String body) {
        try {
            return Reports.JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

}
