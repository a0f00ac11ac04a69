package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.Reclaim;
import dev.reclaim.failure.RetryWorker;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.run.RunRequest;

import java.util.ArrayList;
import java.util.List;

/**
 * The retry queue's SQS event source (with {@code ReportBatchItemFailures}): each message is one failed item, retried
 * through the same code a run uses. Returns exactly the messages that failed again; SQS redelivers those and, after
 * the queue's {@code maxReceiveCount}, moves them to the dead-letter queue.
 */
public final class RetryHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final RetryWorker worker;
    private final boolean dryRun;

    public RetryHandler() {
        // RECLAIM_DRY_RUN first: a value that is no boolean fails the invocation before anything is built or retried.
        this.dryRun = RunRequest.dryRunForced(System.getenv());
        Reclaim reclaim = SnapStartHook.container();
        if (reclaim.retryQueue() == null) {
            throw new IllegalStateException("RECLAIM_RETRY_QUEUE_URL is not set");
        }
        this.worker = reclaim.retryWorker();
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
                    RetryWorker.Result r = worker.process(m.getMessageId(), m.getBody(), receiveCount(m), dryRun);
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

    private static int receiveCount(SQSEvent.SQSMessage m) {
        try {
            return Integer.parseInt(m.getAttributes().getOrDefault("ApproximateReceiveCount", "1"));
        } catch (RuntimeException e) {
            return 1;
        }
    }
}
