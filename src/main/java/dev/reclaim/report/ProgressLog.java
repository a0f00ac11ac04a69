package dev.reclaim.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The run's progress as log lines: the start with the configuration in force, one line per page (and at least every
 * {@link #EVERY} while a long page is worked through), one when each sweep finishes, and the end with the full report.
 * The sweep is in the line's MDC ({@code sweep}), set by the run around each sweep.
 */
public final class ProgressLog implements RunEvents {
    /** The longest a running sweep stays silent; checked on each item, so no thread is needed. */
    public static final Duration EVERY = Duration.ofSeconds(30);
    private static final Logger log = LoggerFactory.getLogger(ProgressLog.class);

    private final Clock clock;
    private volatile JsonNode inForce;

    private RunEvent.RunStarted run;
    private Instant deadline;
    /** The outbox keys this run added and its drains have not settled yet (bounded by what one page owns). */
    private final Set<String> pending = new HashSet<>();
    private SweepProgress sweep;

    /** What one sweep has done so far. */
    private static final class SweepProgress {
        final String name;
        final String kind;
        final Instant started;
        Instant lastLine;
        long pages;
        long items;
        long eligible;
        long purged;
        String stoppedBy;

        SweepProgress(String name, String kind, Instant started) {
            this.name = name;
            this.kind = kind;
            this.started = started;
            this.lastLine = started;
        }
    }

    public ProgressLog(Clock clock) {
        this.clock = clock;
    }

    /** The configuration in force (secrets already masked), logged with each run's start and end. */
    public void inForce(JsonNode configuration) {
        this.inForce = configuration;
    }

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.RunStarted e) {
            run = e;
            deadline = null;
            pending.clear();
            sweep = null;
        } else if (event instanceof RunEvent.TimeBudget e) {
            deadline = e.deadline();
            started();
        } else if (event instanceof RunEvent.RunFinished e) {
            finished(e.report());
            run = null;
        } else if (run == null) {
            return; // a retry outside a run: its lines come from the deletion log and the retry worker
        } else if (event instanceof RunEvent.SweepStarted e) {
            sweep = new SweepProgress(e.sweep(), e.kind(), clock.instant());
        } else if (event instanceof RunEvent.ItemsEligible e && sweep != null) {
            sweep.pages++;
            sweep.eligible += e.count();
            progress("page " + sweep.pages + " listed");
        } else if (event instanceof RunEvent.SweepStopped e && sweep != null) {
            if (sweep.stoppedBy == null) {
                sweep.stoppedBy = e.reason();
            }
        } else if (event instanceof RunEvent.SweepFinished e && sweep != null) {
            sweepFinished();
            sweep = null;
        } else {
            counted(event);
        }
    }

    /** Items done and outbox keys; a progress line when the sweep was silent for {@link #EVERY}. */
    private void counted(RunEvent event) {
        long items = 0;
        if (event instanceof RunEvent.ItemPurged e) {
            items = 1;
            if (!run.dryRun()) {
                e.keys().forEach((store, keys) -> keys.forEach(k -> pending.add(store + '\n' + k)));
            }
        } else if (event instanceof RunEvent.ItemSkipped || event instanceof RunEvent.ItemFailed) {
            items = 1;
        } else if (event instanceof RunEvent.KeysDeleted e) {
            items = settled(e.source(), e.store(), e.keys());
        } else if (event instanceof RunEvent.KeysKept e) {
            items = settled(e.source(), e.store(), e.keys());
        } else if (event instanceof RunEvent.KeysFailed e) {
            items = e.source() == RunEvent.Source.SWEEP ? e.reasons().size() : 0;
        } else if (event instanceof RunEvent.KeysRefused e) {
            items = e.source() == RunEvent.Source.SWEEP ? e.keys().size() : 0;
        }
        if (items > 0 && sweep != null) {
            if (event instanceof RunEvent.ItemPurged || event instanceof RunEvent.KeysDeleted) {
                sweep.purged += items; // a record purged, or a sweep's assets deleted
            }
            sweep.items += items;
            if (!clock.instant().isBefore(sweep.lastLine.plus(EVERY))) {
                progress("working");
            }
        }
    }

    /** Items a sweep settled (an outbox drain's keys are not a sweep's items, but leave the pending set). */
    private long settled(RunEvent.Source source, String store, List<String> keys) {
        if (source == RunEvent.Source.OUTBOX) {
            keys.forEach(k -> pending.remove(store + '\n' + k));
            return 0;
        }
        return keys.size();
    }

    private void started() {
        log.info("run started: trigger {}, {}, sweeps {}", run.trigger(), run.dryRun() ? "dry run" : "real run",
                run.sweeps(), kv("trigger", run.trigger()), kv("dryRun", run.dryRun()),
                kv("deadline", deadline == null ? null : deadline.toString()), kv("timeLeftSeconds", timeLeft()),
                kv("configuration", inForce));
    }

    private void progress(String what) {
        Instant now = clock.instant();
        sweep.lastLine = now;
        double seconds = Math.max(0.001, Duration.between(sweep.started, now).toMillis() / 1000.0);
        long rate = Math.round(sweep.items / seconds * 10);
        log.info("progress of {}: {}, {} items so far, {} eligible so far", sweep.name, what, sweep.items,
                sweep.eligible, kv("page", sweep.pages), kv("items", sweep.items), kv("purged", sweep.purged),
                kv("eligible", sweep.eligible), kv("itemsPerSecond", rate / 10.0),
                kv("pendingDeletions", pending.size()), kv("timeLeftSeconds", timeLeft()));
    }

    private void sweepFinished() {
        log.info("sweep finished: {} {} purged {}{}", sweep.kind == null ? "" : sweep.kind, sweep.name, sweep.purged,
                sweep.stoppedBy == null ? "" : ", stopped by " + sweep.stoppedBy, kv("pages", sweep.pages),
                kv("items", sweep.items), kv("purged", sweep.purged), kv("eligible", sweep.eligible),
                kv("stoppedBy", sweep.stoppedBy), kv("durationMs", Duration.between(sweep.started, clock.instant()).toMillis()),
                kv("pendingDeletions", pending.size()), kv("timeLeftSeconds", timeLeft()));
    }

    private void finished(RunReport report) {
        log.info("run finished: {}, purged {}, failed {}, keys deleted {}", report.outcome().label(), report.purged(),
                report.failed(), report.keysDeleted(), kv("outcome", report.outcome().label()),
                kv("configuration", inForce), kv("report", Reports.JSON.valueToTree(report)));
    }

    /** Seconds until the run stops taking items, or null without a time budget. */
    private Long timeLeft() {
        return deadline == null ? null : Math.max(0, Duration.between(clock.instant(), deadline).toSeconds());
    }
}
