package dev.reclaim.run;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.reclaim.failure.Failure;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.StoreThrottled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Processes one retry-queue message through the same code a run uses; shared by the SQS-triggered handler and the
 * {@code retry} CLI. A message that can never succeed goes to the dead-letter queue at once; one whose store is out
 * of quota, or that arrives during a dry run, is put back on the queue with a delay, unchanged.
 */
public final class RetryWorker {
    /** What became of a message, as the metrics name it. Only {@code FAILED_AGAIN} leaves it for SQS to redeliver. */
    public enum Result {
        DONE("succeeded"), FAILED_AGAIN("failedAgain"), DEAD_LETTERED("deadLettered"), DEFERRED("deferred");

        private final String outcome;

        Result(String outcome) {
            this.outcome = outcome;
        }
    }

    static final Duration DEFER = Duration.ofMinutes(15);
    private static final Logger log = LoggerFactory.getLogger(RetryWorker.class);
    private static final ObjectReader STRICT = Reports.JSON.readerFor(Failure.class).with(
            DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final Retries retries;
    private final RetryQueue queue;
    private final RunEvents events;

    /** {@code events} hears what became of each message, and the end of each batch. */
    public RetryWorker(Retries retries, RetryQueue queue, RunEvents events) {
        this.retries = retries;
        this.queue = queue;
        this.events = events;
    }

    public Result process(String messageId, String body, int receiveCount, boolean dryRun) {
        MDC.put("messageId", messageId);
        try {
            Failure failure = null;
            String malformed = null;
            try {
                // The JSON literal null is malformed too, and must not fail the rest of the batch.
                failure = Objects.requireNonNull(STRICT.<Failure>readValue(body), "the body is null");
            } catch (Exception e) {
                malformed = e.getMessage();
            }
            Result result = malformed != null
                    ? deadLetter(body, "not a Reclaim failure message: " + malformed, null)
                    : retry(failure, body, receiveCount, dryRun);
            events.emit(new RunEvent.RetryProcessed(failure == null ? null : failure.kind(),
                    failure == null ? null : failure.sweep(), result.outcome));
            return result;
        } finally {
            for (String field : new String[] {"messageId", "correlationId", "sweep", "item", "store", "key"}) {
                MDC.remove(field);
            }
        }
    }

    /** Called once the messages of a batch have all been processed (metrics are published per batch). */
    public void batchFinished(int messages, boolean dryRun) {
        events.emit(new RunEvent.RetryBatchFinished(messages, dryRun));
    }

    private Result retry(Failure failure, String body, int receiveCount, boolean dryRun) {
        // The correlation id, sweep and item id (or store and first key) on every line about the message.
        MDC.put("correlationId", String.valueOf(failure.correlationId()));
        if (failure.sweep() != null) {
            MDC.put("sweep", failure.sweep());
        }
        if (failure.itemId() != null) {
            MDC.put("item", failure.itemId());
        } else if (failure.keys() != null && !failure.keys().isEmpty()) {
            MDC.put("store", String.valueOf(failure.store()));
            MDC.put("key", failure.keys().get(0));
        }
        int retryCount = failure.retryCount() + Math.max(1, receiveCount);
        log.info("retrying {} failure of sweep {} (retry {}, first failed {})", failure.kind(), failure.sweep(),
                retryCount, failure.firstFailedAt());
        String error;
        try {
            error = retries.retry(failure, dryRun);
        } catch (InvalidFailure e) {
            return deadLetter(body, e.getMessage(), failure);
        } catch (StoreThrottled e) {
            log.warn("store quota reached ({}); the message waits {} and keeps its retry count", e.getMessage(), DEFER);
            return defer(body, failure);
        } catch (Exception e) {
            error = e.toString();
        }
        if (error != null) {
            log.warn("retry {} failed again: {}", retryCount, error);
            return Result.FAILED_AGAIN;
        }
        if (dryRun) {
            log.info("dry run: the retry would succeed; the message goes back on the queue unchanged");
            return defer(body, failure);
        }
        log.info("retry {} succeeded", retryCount);
        return Result.DONE;
    }

    private Result deadLetter(String body, String reason, Failure failure) {
        log.warn("malformed retry message sent to the dead-letter queue: {}", reason);
        try {
            queue.sendToDeadLetter(body, reason, failure == null || failure.sweep() == null ? Map.of()
                    : Map.of("sweep", failure.sweep()));
            return Result.DEAD_LETTERED;
        } catch (RuntimeException e) {
            log.warn("could not reach the dead-letter queue ({}); the message stays on the retry queue", e.toString());
            return Result.FAILED_AGAIN;
        }
    }

    private Result defer(String body, Failure failure) {
        try {
            queue.requeue(body, failure.retryCount(), failure.sweep(), DEFER);
            return Result.DEFERRED;
        } catch (RuntimeException e) {
            log.warn("could not put the message back ({}); it stays on the queue", e.toString());
            return Result.FAILED_AGAIN;
        }
    }
}
