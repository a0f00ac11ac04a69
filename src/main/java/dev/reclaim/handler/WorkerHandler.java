package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Settings;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.ShardWork;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The work queue's SQS event source (batch size 1, {@code ReportBatchItemFailures}, {@code MaximumConcurrency} sized to
 * the database's connections): each message is one shard of a fanned-out run, purged with the run's engine. Returns
 * the messages that failed; SQS redelivers them and, after the queue's {@code maxReceiveCount}, parks them in the work
 * dead-letter queue.
 */
public final class WorkerHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {
    private final ShardWork work;
    private final Duration margin;

    /** Used by Lambda: wiring is built once per container and reused by every invocation. */
    public WorkerHandler() {
        this(Settings.processEnvironment(), SnapStartHook::container);
    }

    WorkerHandler(Map<String, String> env, Function<Settings, Reclaim> container) {
        this(SnapStartHook.start(env, s -> started(s, container)));
    }

    private WorkerHandler(WorkerHandler started) {
        this(started.work, started.margin);
    }

    /** What the handler checks and builds before its first invocation. */
    private static WorkerHandler started(Settings settings, Function<Settings, Reclaim> container) {
        ShardWork work = container.apply(settings).shardWork();
        if (work.queue() == null) {
            throw new ConfigException("RECLAIM_WORK_QUEUE_URL is not set: the worker function needs its queue");
        }
        return new WorkerHandler(work, settings.timeMargin());
    }

    public WorkerHandler(ShardWork work, Duration margin) {
        this.work = work;
        this.margin = margin;
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        try (Invocation ignored = Invocation.start(context, java.util.UUID.randomUUID().toString())) {
            List<SQSBatchResponse.BatchItemFailure> failed = new ArrayList<>();
            if (event != null && event.getRecords() != null) {
                Deadline deadline = Invocation.deadline(context, margin);
                for (SQSEvent.SQSMessage m : event.getRecords()) {
                    // the queue's visibility timeout outlasts the function's (template.yaml): no heartbeat needed
                    if (work.process(m.getMessageId(), m.getBody(), Invocation.receiveCount(m), deadline, () -> { })
                            == ShardWork.Result.FAILED_AGAIN) {
                        failed.add(SQSBatchResponse.BatchItemFailure.builder()
                                .withItemIdentifier(m.getMessageId()).build());
                    }
                }
            }
            SentryReporter.flush(); // Lambda freezes the process once the handler returns
            return SQSBatchResponse.builder().withBatchItemFailures(failed).build();
        }
    }
}
