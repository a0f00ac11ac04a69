package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.config.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The retry queue's SQS event source (with {@code ReportBatchItemFailures}): each message is one failed item, retried
 * through the same code a run uses. Returns exactly the messages that failed again; SQS redelivers those and, after
 * the queue's {@code maxReceiveCount}, moves them to the dead-letter queue.
 */
public final class RetryHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final RetryWorker worker;
    private final boolean dryRun;

    /** Used by Lambda: wiring is built once per container and reused by every invocation. */
    public RetryHandler() {
        this(Settings.processEnvironment(), SnapStartHook::container);
    }

    RetryHandler(Map<String, String> env, Function<Settings, Reclaim> container) {
        this(SnapStartHook.start(env, s -> started(s, container)));
    }

    private RetryHandler(RetryHandler started) {
        this(started.worker, started.dryRun);
    }

    /** What the handler checks and builds before its first invocation. */
    private static RetryHandler started(Settings settings, Function<Settings, Reclaim> container) {
        // The settings first: a RECLAIM_DRY_RUN that is no boolean fails before anything is built or retried.
        Reclaim reclaim = container.apply(settings);
        if (reclaim.retryQueue() == null) {
            throw new ConfigException("RECLAIM_RETRY_QUEUE_URL is not set: the retry function needs its queue");
        }
        return new RetryHandler(reclaim.retryWorker(), settings.dryRun());
    }

    public RetryHandler(RetryWorker worker, boolean dryRun) {
        this.worker = worker;
        this.dryRun = dryRun;
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        try (Invocation ignored = Invocation.start(context, java.util.UUID.randomUUID().toString())) {
            List<SQSBatchResponse.BatchItemFailure> failed = new ArrayList<>();
            if (event != null && event.getRecords() != null) {
                for (SQSEvent.SQSMessage m : event.getRecords()) {
                    RetryWorker.Result r = worker.process(m.getMessageId(), m.getBody(), Invocation.receiveCount(m), dryRun);
                    if (r == RetryWorker.Result.FAILED_AGAIN) {
                        failed.add(SQSBatchResponse.BatchItemFailure.builder()
                                .withItemIdentifier(m.getMessageId()).build());
                    }
                }
                worker.batchFinished(event.getRecords().size(), dryRun);
            }
            SentryReporter.flush(); // Lambda freezes the process once the handler returns
            return SQSBatchResponse.builder().withBatchItemFailures(failed).build();
        }
    }

}
