package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import org.slf4j.MDC;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The log fields of one Lambda invocation, as Powertools Logging sets them: {@code awsRequestId}, {@code functionName}
 * and {@code coldStart} (true only for the container's first invocation) in the MDC from the start of the invocation
 * to its end, so every line it logs carries them.
 */
final class Invocation implements AutoCloseable {
    private static final AtomicBoolean FIRST = new AtomicBoolean(true);
    private static final List<String> FIELDS = List.of("awsRequestId", "functionName", "coldStart", "runId");

    private Invocation() {
    }

    /** {@code runId}: the invocation's own, for work outside a run (retries); null when a run sets its own. */
    static Invocation start(Context context, String runId) {
        return start(context, runId, FIRST);
    }

    /** {@code first}: whether the container's first invocation is still to come (the tests give their own). */
    static Invocation start(Context context, String runId, AtomicBoolean first) {
        if (context != null) {
            put("awsRequestId", context.getAwsRequestId());
            put("functionName", context.getFunctionName());
        }
        MDC.put("coldStart", Boolean.toString(first.getAndSet(false)));
        put("runId", runId);
        return new Invocation();
    }

    private static void put(String name, String value) {
        if (value != null) {
            MDC.put(name, value);
        }
    }

    @Override
    public void close() {
        FIELDS.forEach(MDC::remove);
    }

    /**
     * Stop taking new items when the invocation's remaining time falls under {@code margin} (at most a quarter of
     * it): without a Lambda context, no deadline.
     */
    static dev.reclaim.run.Deadline deadline(Context context, java.time.Duration margin) {
        if (context == null || context.getRemainingTimeInMillis() <= 0) {
            return dev.reclaim.run.Deadline.none();
        }
        java.time.Duration remaining = java.time.Duration.ofMillis(context.getRemainingTimeInMillis());
        return dev.reclaim.run.Deadline.after(remaining.minus(
                java.util.Collections.min(List.of(margin, remaining.dividedBy(4)))));
    }

    /** An SQS message's {@code ApproximateReceiveCount}, 1 when absent or unreadable. */
    static int receiveCount(com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage m) {
        try {
            return Integer.parseInt(m.getAttributes().getOrDefault("ApproximateReceiveCount", "1"));
        } catch (RuntimeException e) {
            return 1;
        }
    }
}
