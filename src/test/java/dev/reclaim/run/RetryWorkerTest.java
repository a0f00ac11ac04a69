package dev.reclaim.run;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.StoreThrottled;
import dev.reclaim.store.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageResponse;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RetryWorker on function-built Retries and a RetryQueue over a scripted SqsClient (no service): the outcome of each
 * message and what was sent to the dead-letter queue or put back on the retry queue.
 */
class RetryWorkerTest {
    private static final String RETRY_URL = "http://sqs.test/000000000000/retry";
    private static final String DLQ_URL = "http://sqs.test/000000000000/retry-dlq";
    private static final String RECORD = """
            {"sweep":"mocs","kind":"record","itemId":"42","errorClass":"java.sql.SQLException","errorMessage":"boom",\
            "runId":"run-1","correlationId":"run-1/42","firstFailedAt":"2026-11-01T10:00:00Z","retryCount":2}""";

    private final ScriptedSqs sqs = new ScriptedSqs();
    private final List<String> retriedItems = new ArrayList<>();
    private final List<Boolean> dryRunsSeen = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>() {
        @Override
        protected void append(ILoggingEvent e) {
            e.prepareForDeferredProcessing(); // the MDC as it is when the line is written
            super.append(e);
        }
    };
    private final Logger workerLog = (Logger) LoggerFactory.getLogger(RetryWorker.class);
    private Level levelBefore;

    @BeforeEach
    void captureLogs() {
        levelBefore = workerLog.getLevel();
        workerLog.setLevel(Level.INFO);
        workerLog.setAdditive(false); // keep the test output to what the suite prints anyway
        logs.start();
        workerLog.addAppender(logs);
    }

    @AfterEach
    void restoreLogs() {
        workerLog.detachAppender(logs);
        workerLog.setAdditive(true);
        workerLog.setLevel(levelBefore);
    }

    @Test
    void shouldReturnDoneAndSendNothing_whenTheRetrySucceeds() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        RetryWorker.Result result = worker.process("msg-1", RECORD, 1, false);

        assertThat(result).isEqualTo(RetryWorker.Result.DONE);
        assertThat(retriedItems).containsExactly("42");
        assertThat(dryRunsSeen).containsExactly(false);
        assertThat(sqs.sent).isEmpty();
    }

    @Test
    void shouldReturnFailedAgainAndLeaveTheMessageToSqs_whenTheRetryReportsAnError() {
        RetryWorker worker = worker(recordRetry((id, dry) -> "lock timeout"), queue());

        assertThat(worker.process("msg-1", RECORD, 1, false)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(sqs.sent).isEmpty();
    }

    @Test
    void shouldReturnFailedAgainAndLeaveTheMessageToSqs_whenTheRetryThrows() {
        RetryWorker worker = worker(recordRetry((id, dry) -> {
            throw new SQLException("connection refused");
        }), queue());

        assertThat(worker.process("msg-1", RECORD, 1, false)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(sqs.sent).isEmpty();
    }

    @Test
    void shouldReturnFailedAgain_whenPreparingTheStoresFails() {
        Retries retries = new Retries(Map.of("mocs", countingRecordRetry((id, dry) -> null)), Map.of(), dry -> {
            throw new SQLException("database unreachable");
        });

        assertThat(worker(retries, queue()).process("msg-1", RECORD, 1, false))
                .isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(retriedItems).isEmpty();
        assertThat(sqs.sent).isEmpty();
    }

    @Test
    void shouldDeadLetterTheBodyUnchangedWithAReason_whenTheBodyIsNotJson() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        RetryWorker.Result result = worker.process("msg-1", "not json {", 1, false);

        assertThat(result).isEqualTo(RetryWorker.Result.DEAD_LETTERED);
        assertThat(sqs.sent).singleElement().satisfies(m -> {
            assertThat(m.queueUrl()).isEqualTo(DLQ_URL);
            assertThat(m.messageBody()).isEqualTo("not json {");
            assertThat(reason(m)).startsWith("not a Reclaim failure message: ");
            assertThat(m.messageAttributes()).doesNotContainKey(RetryQueue.SWEEP);
        });
        assertThat(retriedItems).isEmpty();
    }

    @Test
    void shouldDeadLetter_notCrashTheWholeBatch_whenTheBodyIsJsonNull() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        RetryWorker.Result result = worker.process("msg-1", "null", 1, false);

        assertThat(result).isEqualTo(RetryWorker.Result.DEAD_LETTERED);
        assertThat(sqs.sent).singleElement().satisfies(m -> assertThat(m.messageBody()).isEqualTo("null"));
        assertThat(retriedItems).isEmpty();
    }

    @Test
    void shouldDeadLetterWithoutRetrying_whenTheBodyHasAnUnknownField() {
        String body = RECORD.replace("\"retryCount\":2", "\"retryCount\":2,\"priority\":\"high\"");
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        assertThat(worker.process("msg-1", body, 1, false)).isEqualTo(RetryWorker.Result.DEAD_LETTERED);
        assertThat(sqs.sent).singleElement().satisfies(m -> {
            assertThat(m.messageBody()).isEqualTo(body);
            assertThat(reason(m)).contains("priority");
        });
        assertThat(retriedItems).isEmpty();
    }

    @Test
    void shouldDeadLetterWithTheSweepAndTheInvalidFailureAsReason_whenTheSweepIsUnknown() {
        String body = RECORD.replace("\"sweep\":\"mocs\"", "\"sweep\":\"gone\"");
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        assertThat(worker.process("msg-1", body, 1, false)).isEqualTo(RetryWorker.Result.DEAD_LETTERED);
        assertThat(sqs.sent).singleElement().satisfies(m -> {
            assertThat(m.queueUrl()).isEqualTo(DLQ_URL);
            assertThat(m.messageBody()).isEqualTo(body);
            assertThat(reason(m)).isEqualTo("no records sweep named 'gone'");
            assertThat(m.messageAttributes().get(RetryQueue.SWEEP).stringValue()).isEqualTo("gone");
        });
        assertThat(retriedItems).isEmpty();
    }

    @Test
    void shouldDeadLetter_whenTheKindIsUnknown() {
        String body = RECORD.replace("\"kind\":\"record\"", "\"kind\":\"photo\"");
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        assertThat(worker.process("msg-1", body, 1, false)).isEqualTo(RetryWorker.Result.DEAD_LETTERED);
        assertThat(reason(sqs.sent.get(0))).isEqualTo("unknown kind 'photo' (record, asset, deletion)");
    }

    @Test
    void shouldReturnFailedAgain_whenTheMessageIsMalformedButNoDeadLetterQueueIsConfigured() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), new RetryQueue(sqs, RETRY_URL, null));

        assertThat(worker.process("msg-1", "not json {", 1, false)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(sqs.sent).isEmpty();
    }

    @Test
    void shouldReturnFailedAgain_whenTheDeadLetterQueueCannotBeReached() {
        sqs.unreachable = true;
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        assertThat(worker.process("msg-1", "not json {", 1, false)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(sqs.sent).singleElement().extracting(SendMessageRequest::queueUrl).isEqualTo(DLQ_URL);
    }

    @Test
    void shouldRequeueTheBodyUnchangedWithTheDeferDelayAndItsRetryCount_whenTheStoreIsThrottled() {
        RetryWorker worker = worker(recordRetry((id, dry) -> {
            throw new StoreThrottled("quota at its reserve", Instant.parse("2026-11-01T11:00:00Z"));
        }), queue());

        RetryWorker.Result result = worker.process("msg-1", RECORD, 3, false);

        assertThat(result).isEqualTo(RetryWorker.Result.DEFERRED);
        assertThat(sqs.sent).singleElement().satisfies(m -> {
            assertThat(m.queueUrl()).isEqualTo(RETRY_URL);
            assertThat(m.messageBody()).isEqualTo(RECORD);
            assertThat(m.delaySeconds()).isEqualTo((int) RetryWorker.DEFER.toSeconds()).isEqualTo(900);
            // The body's count, not the receives of this message: see the report on deferred messages.
            assertThat(m.messageAttributes().get(RetryQueue.RETRY_COUNT).stringValue()).isEqualTo("2");
            assertThat(m.messageAttributes().get(RetryQueue.SWEEP).stringValue()).isEqualTo("mocs");
        });
    }

    @Test
    void shouldReturnFailedAgain_whenTheStoreIsThrottledAndTheRequeueCannotReachSqs() {
        sqs.unreachable = true;
        RetryWorker worker = worker(recordRetry((id, dry) -> {
            throw new StoreThrottled("quota at its reserve", null);
        }), queue());

        assertThat(worker.process("msg-1", RECORD, 1, false)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
        assertThat(sqs.sent).singleElement().extracting(SendMessageRequest::queueUrl).isEqualTo(RETRY_URL);
    }

    @Test
    void shouldRetryOnlyAsADryRunAndRequeueTheBodyUnchanged_whenTheRunIsDry() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        RetryWorker.Result result = worker.process("msg-1", RECORD, 1, true);

        assertThat(result).isEqualTo(RetryWorker.Result.DEFERRED);
        assertThat(dryRunsSeen).containsExactly(true);
        assertThat(sqs.sent).singleElement().satisfies(m -> {
            assertThat(m.queueUrl()).isEqualTo(RETRY_URL);
            assertThat(m.messageBody()).isEqualTo(RECORD);
            assertThat(m.delaySeconds()).isEqualTo(900);
        });
    }

    @Test
    void shouldNeverCallTheAssetRetryForReal_whenTheRunIsDry() {
        List<Boolean> assetDryRuns = new ArrayList<>();
        Retries.Retry<List<String>> assets = (ctx, keys) -> {
            assetDryRuns.add(ctx.dryRun());
            return null;
        };
        Retries retries = new Retries(Map.of(), Map.of("temp", assets), dry -> RetriesTest.context(dry, new Stores(Map.of())));
        String body = """
                {"sweep":"temp","kind":"asset","store":"photos","keys":["tmp/a.jpg"],"retryCount":0}""";

        RetryWorker.Result result = worker(retries, queue()).process("msg-1", body, 1, true);

        assertThat(result).isEqualTo(RetryWorker.Result.DEFERRED);
        assertThat(assetDryRuns).containsExactly(true);
    }

    @Test
    void shouldReturnFailedAgain_whenTheDryRunIsFineButTheRequeueCannotReachSqs() {
        sqs.unreachable = true;
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        assertThat(worker.process("msg-1", RECORD, 1, true)).isEqualTo(RetryWorker.Result.FAILED_AGAIN);
    }

    @Test
    void shouldCountTheRetryAsTheBodysCountPlusTheReceiveCount() {
        RetryWorker worker = worker(recordRetry((id, dry) -> null), queue());

        worker.process("msg-1", RECORD, 3, false);

        assertThat(messages()).anySatisfy(line -> assertThat(line).startsWith("retrying record failure of sweep mocs (retry 5,"));
    }

    @Test
    void shouldCountAtLeastOneReceive_whenTheReceiveCountIsMissingOrZero() {
        RetryWorker worker = worker(recordRetry((id, dry) -> "still locked"), queue());

        worker.process("msg-1", RECORD, 0, false);

        assertThat(messages()).contains("retry 3 failed again: still locked");
    }

    @Test
    void shouldTellItsListenerEachMessagesOutcomeAndTheEndOfTheBatch() {
        List<RunEvent> heard = new ArrayList<>();
        RetryWorker worker = new RetryWorker(recordRetry((id, dry) -> "42".equals(id) ? null : "still locked"),
                queue(), heard::add);
        String failing = RECORD.replace("\"itemId\":\"42\"", "\"itemId\":\"43\"");

        worker.process("msg-1", RECORD, 1, false);
        worker.process("msg-2", failing, 1, false);
        worker.process("msg-3", "not json {", 1, false);
        worker.batchFinished(3, false);

        assertThat(heard).containsExactly(
                new RunEvent.RetryProcessed("record", "mocs", "succeeded"),
                new RunEvent.RetryProcessed("record", "mocs", "failedAgain"),
                new RunEvent.RetryProcessed(null, null, "deadLettered"),
                new RunEvent.RetryBatchFinished(3, false));
    }

    @Test
    void shouldPutTheCorrelationIdSweepAndItemOnEveryLineAboutTheMessage_andTakeThemOffAfter() {
        RetryWorker worker = worker(recordRetry((id, dry) -> "still locked"), queue());

        worker.process("msg-1", RECORD, 1, false);

        assertThat(logs.list).isNotEmpty().allSatisfy(e -> assertThat(e.getMDCPropertyMap())
                .containsEntry("messageId", "msg-1").containsEntry("sweep", "mocs").containsEntry("item", "42")
                .containsKey("correlationId"));
        assertThat(org.slf4j.MDC.getCopyOfContextMap()).isNullOrEmpty();
    }

    private RetryQueue queue() {
        return new RetryQueue(sqs, RETRY_URL, DLQ_URL);
    }

    private RetryWorker worker(Retries retries, RetryQueue queue) {
        return new RetryWorker(retries, queue, RunEvents.none());
    }

    /** What a records sweep does with a retried item here, told its id and whether the run is dry. */
    private interface RecordRetry {
        String retry(String itemId, boolean dryRun) throws SQLException;
    }

    /** Retries with one records sweep, {@code mocs}, and no stores. */
    private Retries recordRetry(RecordRetry retry) {
        return new Retries(Map.of("mocs", countingRecordRetry(retry)), Map.of(),
                dry -> RetriesTest.context(dry, new Stores(Map.of())));
    }

    private Retries.Retry<String> countingRecordRetry(RecordRetry retry) {
        return (ctx, itemId) -> {
            retriedItems.add(itemId);
            dryRunsSeen.add(ctx.dryRun());
            return retry.retry(itemId, ctx.dryRun());
        };
    }

    private List<String> messages() {
        return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static String reason(SendMessageRequest m) {
        MessageAttributeValue reason = m.messageAttributes().get(RetryQueue.REASON);
        return reason == null ? null : reason.stringValue();
    }

    /** Records each SendMessage request; answers with a message id, or as unreachable when told to. */
    private static final class ScriptedSqs implements SqsClient {
        final List<SendMessageRequest> sent = new ArrayList<>();
        boolean unreachable;

        @Override
        public SendMessageResponse sendMessage(SendMessageRequest request) {
            sent.add(request);
            if (unreachable) {
                throw SdkClientException.create("connection refused");
            }
            return SendMessageResponse.builder().messageId("sqs-" + sent.size()).build();
        }

        @Override
        public String serviceName() {
            return "sqs";
        }

        @Override
        public void close() {
        }
    }
}
