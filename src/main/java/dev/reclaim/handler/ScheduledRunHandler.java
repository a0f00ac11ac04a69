package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import dev.reclaim.Reclaim;
import dev.reclaim.config.Settings;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.run.Deadline;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Collections;
import java.util.List;

/**
 * The daily run (EventBridge). Thin: parse the input, run, write the report. A run that failed as a whole is
 * thrown, so Lambda counts an error; failed items are in the report, not errors.
 */
public final class ScheduledRunHandler implements RequestStreamHandler {
    private final Reclaim reclaim;
    private final Settings settings;

    /** Used by Lambda: wiring is built once per container and reused by every invocation. */
    public ScheduledRunHandler() {
        this(SnapStartHook.start(Settings.processEnvironment(), s -> new ScheduledRunHandler(SnapStartHook.container(s), s)));
    }

    private ScheduledRunHandler(ScheduledRunHandler started) {
        this(started.reclaim, started.settings);
    }

    public ScheduledRunHandler(Reclaim reclaim, Settings settings) {
        this.reclaim = reclaim;
        this.settings = settings;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (Invocation ignored = Invocation.start(context, null)) {
            RunRequest request = RunInput.parse(input.readAllBytes(), settings.dryRun(), deadline(context));
            RunReport report;
            try {
                report = reclaim.run(request);
            } finally {
                SentryReporter.flush(); // Lambda freezes the process once the handler returns
            }
            if (report.outcome() == Outcome.FAILED) {
                // The ledger row holds the full report; the error says what was done up to the failure.
                throw new IllegalStateException("Reclaim run " + report.runId() + " failed: " + report.reason() + ". "
                        + Reports.doneBeforeFailure(report));
            }
            Reports.JSON.writeValue(output, report);
        }
    }

    /**
     * Stop taking new items when the remaining time falls under the margin ({@code RECLAIM_TIME_MARGIN}, 60s; more
     * than zero: a negative one would put the deadline past the Lambda timeout).
     */
    private Deadline deadline(Context context) {
        Duration margin = settings.timeMargin();
        if (context == null || context.getRemainingTimeInMillis() <= 0) {
            return Deadline.none();
        }
        Duration remaining = Duration.ofMillis(context.getRemainingTimeInMillis());
        return Deadline.after(remaining.minus(Collections.min(List.of(margin, remaining.dividedBy(4)))));
    }
}
