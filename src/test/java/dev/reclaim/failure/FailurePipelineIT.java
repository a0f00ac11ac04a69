package dev.reclaim.failure;

import dev.reclaim.run.RetryWorker;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.handler.RetryHandler;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunEvents;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Failed items reach SQS with their history, are retried by the retry handler, and end in the DLQ after 3 tries. */
class FailurePipelineIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 0);
    private TestSqs.QueuePair queues;

    @BeforeEach
    void setUp() {
        queues = TestSqs.retryQueues(fx.env(), "reclaim-retry", 3);
    }

    /** MOCs whose delete raises, like a broken trigger or a constraint would. */
    private List<String> poison(int n) throws Exception {
        List<String> ids = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT " + n);
        for (String id : ids) {
            fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + id + "'");
        }
        fx.execute("""
                CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF OLD.title = 'poison' THEN RAISE EXCEPTION 'refusing to delete poison MOC'; END IF;
                  RETURN OLD;
                END $$;
                DROP TRIGGER IF EXISTS refuse_poison ON moc_instructions;
                CREATE TRIGGER refuse_poison BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION refuse_poison();
                """);
        return ids;
    }

    private void curePoison() throws Exception {
        fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
    }

    private RunReport runMocPurge() {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
    }

    private static SQSEvent event(List<String> bodies) {
        return TestSqs.event("m", bodies);
    }

    private String recordFailure(String itemId) {
        return Failures.body(Failure.record("moc-purge", itemId, new IllegalStateException("x"),
                "step delete-moc: earlier failure", "00000000-0000-0000-0000-0000000000aa", Instant.now()));
    }

    private SQSBatchResponse handle(Reclaim reclaim, SQSEvent event) {
        RetryWorker worker = new RetryWorker(reclaim.retries(), reclaim.retryQueue(), RunEvents.none());
        return new RetryHandler(worker, false).handleRequest(event, null);
    }

    @Test
    void aFailingRecordShouldProduceOneMessageWithItsFieldsAndRetryCount() throws Exception {
        String poisoned = poison(1).get(0);

        RunReport report = runMocPurge();

        assertThat(report.failures().recorded()).isEqualTo(1);
        assertThat(report.failures().sent()).isEqualTo(1);
        assertThat(report.failures().pending()).isZero();
        List<Message> messages = TestSqs.drain(queues.queueUrl(), 1, Duration.ofSeconds(5));
        assertThat(messages).hasSize(1);
        Message m = messages.get(0);
        assertThat(m.messageAttributes().get("retryCount").stringValue()).isEqualTo("0");
        assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("moc-purge");
        JsonNode body = Reports.JSON.readTree(m.body());
        assertThat(body.get("sweep").asText()).isEqualTo("moc-purge");
        assertThat(body.get("kind").asText()).isEqualTo("record");
        assertThat(body.get("itemId").asText()).isEqualTo(poisoned);
        assertThat(body.get("errorClass").asText()).isEqualTo("org.postgresql.util.PSQLException");
        assertThat(body.get("errorMessage").asText()).contains("delete-moc", "refusing to delete poison MOC");
        assertThat(body.get("runId").asText()).isEqualTo(report.runId());
        assertThat(body.get("correlationId").asText()).isEqualTo(report.runId() + "/" + poisoned);
        assertThat(body.get("firstFailedAt").asText()).isNotBlank();
        // Nothing waits to be sent; the record stays marked sent until its retry settles it (issue 20).
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures WHERE sent_at IS NULL")).isZero();
        assertThat(fx.strings("SELECT item_id FROM reclaim.failures WHERE sent_at IS NOT NULL")).containsExactly(poisoned);
    }

    @Test
    void aBatchOf10With3FailingShouldReportExactlyThose3() throws Exception {
        List<String> poisoned = poison(3);
        List<String> fine = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " AND title <> 'poison' ORDER BY id");
        List<String> alive = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at IS NULL ORDER BY id LIMIT " + (7 - fine.size()));
        List<String> bodies = new ArrayList<>();
        List<String> expectedFailures = new ArrayList<>();
        List<String> items = new ArrayList<>(fine);
        items.addAll(alive);                   // no longer eligible: success
        items.addAll(3, poisoned);             // the 4th, 5th and 6th messages fail
        for (int i = 0; i < items.size(); i++) {
            bodies.add(recordFailure(items.get(i)));
            if (poisoned.contains(items.get(i))) {
                expectedFailures.add("m" + i);
            }
        }
        assertThat(bodies).hasSize(10);

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(bodies));
        }

        assertThat(response.getBatchItemFailures()).extracting(SQSBatchResponse.BatchItemFailure::getItemIdentifier)
                .containsExactlyInAnyOrderElementsOf(expectedFailures);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(3);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at IS NULL AND id::text = ANY(ARRAY['"
                + String.join("','", alive) + "'])")).isEqualTo(alive.size());
        assertThat(TestSqs.approximateCount(queues.deadLetterQueueUrl())).isZero();
    }

    @Test
    void anItemThatBecameIneligibleShouldBeAcknowledged() throws Exception {
        String restored = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET deleted_at = NULL WHERE id = '" + restored + "'");

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of(recordFailure(restored),
                    recordFailure("00000000-0000-0000-0000-000000000404"))));
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + restored + "'")).isEqualTo(1);
    }

    @Test
    void aMalformedMessageShouldGoToTheDeadLetterQueue_withoutFailingItsNeighbours() throws Exception {
        String good = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " LIMIT 1").get(0);
        String unknownSweep = recordFailure(good).replace("\"moc-purge\"", "\"moc-prune\"");
        String missingItem = recordFailure(good).replace("\"itemId\":\"" + good + "\",", "");
        assertThat(missingItem).doesNotContain("\"itemId\"");

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of("this is not json", recordFailure(good), unknownSweep, missingItem,
                    "{\"sweep\":\"moc-purge\",\"kind\":\"shred\",\"retryCount\":0}")));
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + good + "'")).isZero();
        List<Message> parked = TestSqs.drain(queues.deadLetterQueueUrl(), 4, Duration.ofSeconds(5));
        assertThat(parked).hasSize(4);
        assertThat(parked).extracting(m -> m.messageAttributes().get("reason").stringValue())
                .anySatisfy(r -> assertThat(r).startsWith("not a Reclaim failure message"))
                .anySatisfy(r -> assertThat(r).contains("no records sweep named 'moc-prune'"))
                .anySatisfy(r -> assertThat(r).contains("needs itemId"))
                .anySatisfy(r -> assertThat(r).contains("unknown kind 'shred'"));
    }

    @Test
    void aMessageThatFails3TimesShouldEndInTheDeadLetterQueue_andBeProcessedOnceRedriven() throws Exception {
        String poisoned = poison(1).get(0);
        runMocPurge();
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isEqualTo(1);

        for (int attempt = 0; attempt < 4; attempt++) {
            assertThat(cli("retry")).isZero();
            Thread.sleep(1200); // the queue's visibility timeout
        }

        assertThat(TestSqs.approximateCount(queues.queueUrl())).isZero();
        List<Message> parked = TestSqs.receive(queues.deadLetterQueueUrl(), 1);
        assertThat(parked).hasSize(1);
        assertThat(parked.get(0).body()).contains(poisoned);

        // The operator fixes the cause and redrives the dead-letter queue (SQS "Start DLQ redrive").
        curePoison();
        TestSqs.client().changeMessageVisibility(r -> r.queueUrl(queues.deadLetterQueueUrl())
                .receiptHandle(parked.get(0).receiptHandle()).visibilityTimeout(0)); // we only looked at it
        String dlqArn = TestSqs.client().getQueueAttributes(r -> r.queueUrl(queues.deadLetterQueueUrl())
                .attributeNames(QueueAttributeName.QUEUE_ARN)).attributes().get(QueueAttributeName.QUEUE_ARN);
        String queueArn = TestSqs.client().getQueueAttributes(r -> r.queueUrl(queues.queueUrl())
                .attributeNames(QueueAttributeName.QUEUE_ARN)).attributes().get(QueueAttributeName.QUEUE_ARN);
        TestSqs.client().startMessageMoveTask(r -> r.sourceArn(dlqArn).destinationArn(queueArn));
        for (int i = 0; i < 50 && TestSqs.approximateCount(queues.queueUrl()) == 0; i++) {
            Thread.sleep(100);
        }
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isEqualTo(1);

        StringWriter out = new StringWriter();
        assertThat(ReclaimCli.execute(new String[] {"retry"}, fx.env(), new PrintWriter(out, true), new PrintWriter(new StringWriter(), true))).isZero();

        assertThat(out.toString()).contains("Retried 1 messages: done 1");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poisoned + "'")).isZero();
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isZero();
    }

    @Test
    void aRecordWhoseMessageIsOnTheRetryQueueShouldBeLeftOutOfTheNextRuns_untilItsRetrySettlesIt() throws Exception {
        String poisoned = poison(1).get(0);
        runMocPurge();
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isEqualTo(1);

        RunReport second = runMocPurge();

        // The retry queue has it: the sweep does not take it again (before issue 20: failed 1, a second message).
        assertThat(second.sweeps().get(0).failed()).isZero();
        assertThat(second.failures().recorded()).isZero();
        assertThat(second.failures().pending()).isZero();
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isEqualTo(1);

        curePoison();
        assertThat(cli("retry")).isZero();

        // Settled: the item is purged and nothing of it waits; a later failure of it would be sent again.
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poisoned + "'")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
    }

    @Test
    void withSqsUnreachableFailuresShouldWaitInTheDatabase_andBeSentByTheNextRun() throws Exception {
        String poisoned = poison(1).get(0);
        fx.env().put("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1");

        RunReport first = runMocPurge();

        assertThat(first.failures().recorded()).isEqualTo(1);
        assertThat(first.failures().sent()).isZero();
        assertThat(first.failures().pending()).isEqualTo(1);
        assertThat(fx.strings("SELECT item_id FROM reclaim.failures")).containsExactly(poisoned);

        fx.env().put("AWS_ENDPOINT_URL_SQS", TestSqs.endpoint().toString());
        RunReport second = runMocPurge();

        // The waiting one only: once it is on the queue, the sweep leaves the item to its retry (issue 20).
        assertThat(second.failures().sent()).isEqualTo(1);
        assertThat(second.failures().pending()).isZero();
        assertThat(TestSqs.drain(queues.queueUrl(), 1, Duration.ofSeconds(5))).hasSize(1)
                .allSatisfy(m -> assertThat(m.body()).contains(poisoned));
    }

    @Test
    void outboxKeysFailingForTheRetryPeriodShouldBecomeADeletionMessage_andBeDeletedOnRetry() throws Exception {
        String key = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m."
                + EXPIRED + " ORDER BY 1 LIMIT 1").get(0);
        try (AutoCloseable blocked = TestS3.blockDeletion(fx.mocBucket, key)) {
            runMocPurge(); // attempt 1
            fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now()");
            runMocPurge(); // attempt 2, an hour of failures: it stays
            assertThat(fx.strings("SELECT key || ' ' || attempts FROM reclaim.pending_deletions")).containsExactly(key + " 2");
            fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now(), "
                    + "first_failed_at = first_failed_at - interval '25 hours'");
            runMocPurge(); // attempt 3, failing for more than the retry period (24h): handed over to the retry queue
        }

        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestSqs.approximateCount(queues.queueUrl())).isEqualTo(1);
        assertThat(TestS3.exists(fx.mocBucket, key)).isTrue();

        StringWriter out = new StringWriter();
        ReclaimCli.execute(new String[] {"retry"}, fx.env(), new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));

        assertThat(out.toString()).contains("done 1");
        assertThat(TestS3.exists(fx.mocBucket, key)).isFalse();
    }

    @Test
    void aDryRunRetryShouldDeleteNothing_andPutTheMessageBack() throws Exception {
        String poisoned = poison(1).get(0);
        runMocPurge();
        curePoison();

        StringWriter out = new StringWriter();
        ReclaimCli.execute(new String[] {"retry", "--dry-run"}, fx.env(), new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));

        assertThat(out.toString()).contains("deferred 1", "(dry run)");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poisoned + "'")).isEqualTo(1);
        assertThat(Integer.parseInt(TestSqs.client().getQueueAttributes(b -> b.queueUrl(queues.queueUrl())
                .attributeNamesWithStrings("ApproximateNumberOfMessagesDelayed")).attributesAsStrings()
                .get("ApproximateNumberOfMessagesDelayed"))).isEqualTo(1);
    }

    /** An asset retry message as a sweep's failed batch leaves it, an hour ago. */
    private static String assetFailure(String sweep, String store, List<String> keys) {
        return Failures.body(Failure.keys(Failure.ASSET, sweep, store, keys, "S3Exception", "503 SlowDown",
                "00000000-0000-0000-0000-0000000000aa", Instant.now().minus(Duration.ofHours(1))));
    }

    @Test
    void anS3AssetRetry_shouldKeepAKeyUploadedAgainSinceItsDeleteFailed_asYoungerThanItsRetention() throws Exception {
        String key = "uploads/tmp/again.pdf";
        TestS3.put(fx.mocBucket, key); // the same key uploaded again after the failed delete: minutes old, not 7 days

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of(assetFailure("upload-temp", "moc-files", List.of(key)))));
        }

        assertThat(response.getBatchItemFailures()).isEmpty(); // settled: the next listing judges it when it is old
        assertThat(TestS3.exists(fx.mocBucket, key)).isTrue();
        assertThat(fx.count("SELECT count(*) FROM reclaim.deleted_keys")).isZero();
    }

    @Test
    void anS3AssetRetry_shouldDeleteAKeyOlderThanItsRetention_andSettleOneAlreadyGone() throws Exception {
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms"); // S3 sets LastModified itself: this makes it old
        String old = "uploads/tmp/old.pdf";
        String gone = "uploads/tmp/gone.pdf";
        TestS3.put(fx.mocBucket, old);

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of(assetFailure("upload-temp", "moc-files", List.of(old, gone)))));
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(TestS3.exists(fx.mocBucket, old)).isFalse();
        assertThat(fx.strings("SELECT key FROM reclaim.deleted_keys")).containsExactly(old);
    }

    @Test
    void aCloudinaryAssetRetry_shouldKeepAnAssetUploadedAgainSinceItsDeleteFailed_asYoungerThanItsRetention()
            throws Exception {
        fx.cloudinary.seed(dev.reclaim.testing.cloudinary.Asset.image("users/u1/temp/again",
                Instant.now().minus(Duration.ofMinutes(5)), 10)); // re-uploaded; the retention is 24 hours
        fx.cloudinary.seed(dev.reclaim.testing.cloudinary.Asset.image("users/u1/temp/old",
                Instant.now().minus(Duration.ofDays(2)), 10));

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of(assetFailure("bobblehead-temp-photos", "bobblehead-photos",
                    List.of("users/u1/temp/again", "users/u1/temp/old")))));
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.cloudinary.exists("users/u1/temp/again")).isTrue();
        assertThat(fx.cloudinary.exists("users/u1/temp/old")).isFalse();
    }

    @Test
    void aRetryShouldKeepTheCloudinaryReserve_andPutTheMessageBackUnchanged() throws Exception {
        fx.cloudinary.seed(dev.reclaim.testing.cloudinary.Asset.image("users/u1/temp/p1", Instant.now().minus(Duration.ofDays(2)), 10));
        String body = Failures.body(Failure.keys(Failure.ASSET, "bobblehead-temp-photos",
                "bobblehead-photos", List.of("users/u1/temp/p1"), "GeneralError", "503", "00000000-0000-0000-0000-0000000000aa",
                Instant.now()));
        fx.cloudinary.setBudgetLimit(100);
        fx.cloudinary.setRemainingBudget(23); // 1 for the account's folder mode, asked once per process

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = handle(reclaim, event(List.of(body, body)));
        }

        // The first retry's lookup (its age) and delete leave 20 calls: the reserve. The second must not spend any.
        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.cloudinary.exists("users/u1/temp/p1")).isFalse();
        assertThat(fx.cloudinary.remainingBudget()).isEqualTo(20);
        assertThat(Integer.parseInt(TestSqs.client().getQueueAttributes(b -> b.queueUrl(queues.queueUrl())
                .attributeNamesWithStrings("ApproximateNumberOfMessagesDelayed")).attributesAsStrings()
                .get("ApproximateNumberOfMessagesDelayed"))).isEqualTo(1);
        assertThat(TestSqs.approximateCount(queues.deadLetterQueueUrl())).isZero();
    }

    private int cli(String... args) {
        return ReclaimCli.execute(args, fx.env(), new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true));
    }
}
