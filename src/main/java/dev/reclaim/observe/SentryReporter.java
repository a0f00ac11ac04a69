package dev.reclaim.observe;

import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Redaction;
import dev.reclaim.config.Settings;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.report.RunReport;
import io.sentry.Breadcrumb;
import io.sentry.CheckIn;
import io.sentry.CheckInStatus;
import io.sentry.MonitorConfig;
import io.sentry.MonitorSchedule;
import io.sentry.Sentry;
import io.sentry.SentryEvent;
import io.sentry.SentryLevel;
import io.sentry.SentryOptions;
import io.sentry.protocol.Message;
import io.sentry.protocol.SentryException;
import io.sentry.protocol.SentryId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Errors and cron check-ins to Sentry ({@code SENTRY_DSN}), from the run-event stream. Failed items are grouped by
 * fingerprint (sweep, kind, error class), and only the first of each fingerprint is sent per run: a broken dependency
 * makes one issue with one event per run, whatever the number of items; the report and metrics carry the counts.
 * A failed run, a reference check that cannot be trusted and a lost run lock are errors of their own; each phase
 * leaves a breadcrumb. Scheduled runs check in to a Sentry Crons monitor ({@link #monitorConfig}).
 */
public final class SentryReporter implements RunEvents {
    private static final Logger log = LoggerFactory.getLogger(SentryReporter.class);
    /** Outside a run (retries), the first of each fingerprint is sent once per this window. */
    static final Duration OUTSIDE_RUN_WINDOW = Duration.ofHours(1);
    /** Failed keys named in an event's extras: enough to find them in the logs. */
    private static final int KEYS_SHOWN = 5;

    private static volatile long flushMillis = 2_000; // RECLAIM_SENTRY_FLUSH_TIMEOUT's default until from() sets it

    private final Settings.Monitor monitor;

    /** The run in progress, or null between runs. */
    private RunEvent.RunStarted run;
    private long runStartedNanos;
    /** The open check-in of a scheduled run, until it is closed ok or error. */
    private SentryId checkIn;
    /** Failures seen per fingerprint in this run (or window, outside a run); only the first of each was sent. */
    private final Map<List<String>, Long> seen = new LinkedHashMap<>();
    private Instant windowStarted = Instant.now();
    private boolean runFailureCaptured;
    /** Activity since the last breadcrumb, summed into one "purge" breadcrumb (one per item would crowd out the rest). */
    private long purged;
    private long keysDeleted;
    private long failed;

    SentryReporter(Settings.Monitor monitor) {
        this.monitor = monitor;
    }

    /**
     * Starts the SDK and returns its listener, or nothing when {@code settings} has no DSN (the SDK is then left
     * untouched: disabled unless something else started it). A DSN the SDK refuses is a {@link ConfigException}. The
     * release is Reclaim's version ({@link Release}).
     */
    public static Optional<SentryReporter> from(Settings.Sentry settings) {
        if (settings.dsn() == null) {
            return Optional.empty();
        }
        Duration flush = settings.flushTimeout();
        Redaction redaction = settings.redaction();
        SentryOptions options = new SentryOptions();
        options.setDsn(settings.dsn());
        options.setEnvironment(settings.environment()); // null: Sentry's default
        options.setRelease(Release.current());
        // Every wait on Sentry is bounded by the flush timeout: the handler's flush, and the JVM's shutdown hook.
        options.setFlushTimeoutMillis(flush.toMillis());
        options.setShutdownTimeoutMillis(flush.toMillis());
        // Reclaim reports what it knows from its events; Lambda and picocli catch everything else themselves.
        options.setEnableUncaughtExceptionHandler(false);
        // One scope for every thread: a run's breadcrumbs reach its events whichever thread emits them.
        options.setGlobalHubMode(true);
        options.setBeforeSend((event, hint) -> scrub(event, redaction));
        try {
            Sentry.init(options);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("SENTRY_DSN: " + redaction.apply(e.getMessage())
                    + " (expected https://KEY@HOST/PROJECT, or empty to disable Sentry)");
        }
        flushMillis = flush.toMillis();
        return Optional.of(new SentryReporter(settings.monitor()));
    }

    /**
     * A Lambda container that could not be built (configuration, secrets, clients), sent and flushed before the error
     * fails the initialisation; Sentry is started from {@code env} when the build failed before it started it.
     */
    public static void initFailed(Map<String, String> env, RuntimeException error) {
        try {
            if (!Sentry.isEnabled() && from(Settings.Sentry.from(env)).isEmpty()) {
                return; // no SENTRY_DSN: the error is in the logs and fails the invocation
            }
        } catch (RuntimeException sentryNotStarted) {
            error.addSuppressed(sentryNotStarted);
            return;
        }
        Sentry.captureException(error, scope -> {
            scope.setLevel(SentryLevel.ERROR);
            scope.setFingerprint(List.of("init-failed", error.getClass().getName()));
            scope.setTag("failure", "initFailed");
        });
        flush();
    }

    /**
     * Sends what is queued, waiting at most {@code RECLAIM_SENTRY_FLUSH_TIMEOUT}: call before a handler returns (Lambda
     * freezes the process after) and before the CLI exits. Nothing when Sentry is disabled.
     */
    public static void flush() {
        if (Sentry.isEnabled()) {
            Sentry.flush(flushMillis);
        }
    }

    /** Whether a run started so checks in: only scheduled ones, else a manual run would hide a missed one. */
    static boolean checksIn(String trigger) {
        return trigger != null && trigger.startsWith("schedule");
    }

    /**
     * The Crons monitor as Sentry upserts it with every check-in, so Sentry creates or updates it itself: a run that
     * does not start within the margin of its crontab slot, or runs longer than its maximum runtime, opens an issue.
     * Sentry counts margin and runtime in whole minutes (rounded up, at least 1).
     */
    static MonitorConfig monitorConfig(Settings.Monitor monitor) {
        MonitorConfig config = new MonitorConfig(MonitorSchedule.crontab(monitor.crontab()));
        config.setTimezone(monitor.timezone());
        config.setCheckinMargin(minutes(monitor.margin()));
        config.setMaxRuntime(minutes(monitor.maxRuntime()));
        return config;
    }

    private static long minutes(Duration d) {
        return Math.max(1, (d.toSeconds() + 59) / 60);
    }

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.RunStarted e) {
            started(e);
        } else if (event instanceof RunEvent.RunFailed e) {
            runFailed(e);
        } else if (event instanceof RunEvent.RunFinished e) {
            finished(e.report());
        } else if (event instanceof RunEvent.ItemFailed e) {
            itemFailed(e);
        } else if (event instanceof RunEvent.KeysFailed e) {
            keysFailed(e);
        } else if (event instanceof RunEvent.SweepStopped e) {
            sweepStopped(e);
        } else if (event instanceof RunEvent.DrainStopped e) {
            referenceCheckFailed("store", e.store(), "outbox deletes", e.error());
        } else if (event instanceof RunEvent.Phase e) {
            breadcrumb("phase", e.detail() == null ? e.name() : e.name() + ": " + e.detail(), SentryLevel.INFO,
                    Map.of("phase", e.name()));
        } else if (event instanceof RunEvent.SweepStarted e) {
            breadcrumb("sweep", "sweep " + e.sweep() + " started", SentryLevel.INFO,
                    data("sweep", e.sweep(), "kind", e.kind(), "cutoff", e.cutoff()));
        } else if (event instanceof RunEvent.PageListed e) {
            breadcrumb("page", "page of " + e.listed() + (e.store() == null ? " eligible ids" : " assets from " + e.store()),
                    SentryLevel.INFO, data("sweep", e.sweep(), "store", e.store(), "listed", e.listed()));
        } else if (event instanceof RunEvent.SweepFinished e) {
            breadcrumb("sweep", "sweep " + e.sweep() + " finished", SentryLevel.INFO, Map.of("sweep", e.sweep()));
        } else if (event instanceof RunEvent.FailuresSent e) {
            breadcrumb("publish", e.count() + " failures sent to the retry queue", SentryLevel.INFO,
                    Map.of("count", e.count()));
        } else if (event instanceof RunEvent.SweepHeld e && !e.wouldHold()) {
            // One issue per sweep and rule: a run unlike its history is an alert to look at, not a crash.
            failure(List.of("brake-held", e.sweep(), e.rule()), message("sweep " + e.sweep() + " held by its brake: "
                    + e.detail(), "BrakeHeld", e.detail()), runTags("sweep", e.sweep(), "failure", "brakeHeld"), Map.of());
        } else if (event instanceof RunEvent.ItemPurged) {
            purged++;
        } else if (event instanceof RunEvent.KeysDeleted e) {
            keysDeleted += e.keys().size();
        }
    }

    private void started(RunEvent.RunStarted e) {
        run = e;
        runStartedNanos = System.nanoTime();
        runFailureCaptured = false;
        seen.clear();
        purged = keysDeleted = failed = 0;
        Sentry.configureScope(scope -> scope.clearBreadcrumbs()); // a warm container's last run is not this one's
        breadcrumb("run", "run started", SentryLevel.INFO, data("runId", e.runId(), "trigger", e.trigger(),
                "dryRun", e.dryRun(), "sweeps", String.join(",", e.sweeps())));
        if (checksIn(e.trigger())) {
            CheckIn inProgress = new CheckIn(monitor.slug(), CheckInStatus.IN_PROGRESS);
            inProgress.setMonitorConfig(monitorConfig(monitor));
            Sentry.captureCheckIn(inProgress);
            checkIn = inProgress.getCheckInId();
        }
    }

    /** Captured with its exception; closes the check-in now, as no {@code RunFinished} follows an escaped exception. */
    private void runFailed(RunEvent.RunFailed e) {
        String errorClass = e.error() == null ? "RunFailed" : e.error().getClass().getName();
        List<String> fingerprint = List.of("run-failed", errorClass);
        // run.RunLockLost, known by name: this package sits below run
        String failure = errorClass.endsWith(".RunLockLost") ? "lostRunLock" : "runFailed";
        Map<String, String> tags = runTags("failure", failure);
        if (e.error() != null) {
            Sentry.captureException(e.error(), scope -> {
                scope.setLevel(SentryLevel.ERROR);
                scope.setFingerprint(fingerprint);
                tags.forEach(scope::setTag);
                scope.setExtra("reason", e.reason());
            });
        } else {
            capture(message("run failed: " + e.reason(), null, null), fingerprint, tags, Map.of());
        }
        runFailureCaptured = true;
        closeCheckIn(CheckInStatus.ERROR);
    }

    private void finished(RunReport report) {
        breadcrumbsOfActivity();
        if (report.outcome() == Outcome.FAILED && !runFailureCaptured) {
            capture(message("run failed: " + report.reason(), null, null), List.of("run-failed", "RunFailed"),
                    runTags(), Map.of("reason", String.valueOf(report.reason())));
        }
        closeCheckIn(report.outcome() == Outcome.FAILED || report.outcome() == Outcome.INTERRUPTED
                ? CheckInStatus.ERROR : CheckInStatus.OK);
        seen.forEach((fingerprint, count) -> {
            if (count > 1) {
                log.info("sentry: {} failures of kind {} in this run, the first one sent", count, fingerprint);
            }
        });
        run = null;
        seen.clear();
        windowStarted = Instant.now();
    }

    private void closeCheckIn(CheckInStatus status) {
        if (checkIn == null) {
            return;
        }
        CheckIn done = new CheckIn(checkIn, monitor.slug(), status);
        done.setDuration((System.nanoTime() - runStartedNanos) / 1e9);
        done.setMonitorConfig(monitorConfig(monitor));
        Sentry.captureCheckIn(done);
        checkIn = null;
    }

    private void itemFailed(RunEvent.ItemFailed e) {
        failed++;
        String errorClass = e.refused() ? "ItemRefused" : e.errorClass();
        failure(List.of("item-failed", e.sweep(), "record", errorClass),
                message("item " + e.item() + " of sweep " + e.sweep() + " failed at step " + e.step(), errorClass,
                        e.error()),
                runTags("sweep", e.sweep(), "kind", "record"), data("item", e.item(), "step", e.step()));
    }

    private void keysFailed(RunEvent.KeysFailed e) {
        failed += e.reasons().size();
        String kind = e.source() == RunEvent.Source.OUTBOX ? "deletion" : "asset";
        Map<String, String> tags = runTags("sweep", String.valueOf(e.sweep()), "store", e.store(), "kind", kind);
        Map<String, String> shown = new LinkedHashMap<>();
        e.reasons().entrySet().stream().limit(KEYS_SHOWN).forEach(r -> shown.put(r.getKey(), r.getValue()));
        String firstReason = e.reasons().isEmpty() ? null : e.reasons().values().iterator().next();
        failure(List.of("item-failed", String.valueOf(e.sweep()), kind, e.errorClass()),
                message(e.reasons().size() + " keys of store " + e.store() + " failed to delete", e.errorClass(),
                        firstReason), tags, data("keys", e.reasons().size(), "firstKeys", shown));
    }

    private void sweepStopped(RunEvent.SweepStopped e) {
        breadcrumb("sweep", "sweep " + e.sweep() + " stopped: " + e.reason(), SentryLevel.WARNING,
                data("sweep", e.sweep(), "reason", e.reason()));
        if ("referenceCheckFailed".equals(e.reason())) {
            referenceCheckFailed("sweep", e.sweep(), "deletes", e.error());
        }
    }

    /** A sweep's or a store's ({@code of}) reference check that cannot be trusted: an error of its own. */
    private void referenceCheckFailed(String of, String name, String stopped, String error) {
        failure(List.of("reference-check-failed", of, name),
                message("reference check of " + of + " " + name + " cannot be trusted: its " + stopped + " stopped",
                        "ReferenceCheckFailed", error), runTags(of, name, "failure", "referenceCheckFailed"), Map.of());
    }

    /** Sends the first failure of each fingerprint in this run (or window) and counts the others. */
    private void failure(List<String> fingerprint, SentryEvent event, Map<String, String> tags,
                         Map<String, Object> extras) {
        if (run == null && Instant.now().isAfter(windowStarted.plus(OUTSIDE_RUN_WINDOW))) {
            seen.clear();
            windowStarted = Instant.now();
        }
        if (seen.merge(fingerprint, 1L, Long::sum) == 1) {
            capture(event, fingerprint, tags, extras);
        }
    }

    private void capture(SentryEvent event, List<String> fingerprint, Map<String, String> tags,
                         Map<String, Object> extras) {
        breadcrumbsOfActivity();
        event.setLevel(SentryLevel.ERROR);
        event.setFingerprints(fingerprint);
        tags.forEach(event::setTag);
        extras.forEach(event::setExtra);
        Sentry.captureEvent(event);
    }

    /** An event titled like the exception it stands for (type and message), though only its class name is known. */
    private static SentryEvent message(String text, String errorClass, String error) {
        SentryEvent event = new SentryEvent();
        Message m = new Message();
        m.setFormatted(text);
        event.setMessage(m);
        if (errorClass != null) {
            SentryException ex = new SentryException();
            int dot = errorClass.lastIndexOf('.');
            ex.setType(dot < 0 ? errorClass : errorClass.substring(dot + 1));
            if (dot > 0) {
                ex.setModule(errorClass.substring(0, dot));
            }
            ex.setValue(error == null ? text : error);
            event.setExceptions(List.of(ex));
        }
        return event;
    }

    /** The run's tags, then the pairs of name and value given. */
    private Map<String, String> runTags(String... pairs) {
        Map<String, String> tags = new LinkedHashMap<>();
        if (run != null) {
            tags.put("runId", run.runId().toString());
            tags.put("trigger", run.trigger());
            tags.put("dryRun", String.valueOf(run.dryRun()));
        }
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            tags.put(pairs[i], pairs[i + 1]);
        }
        return tags;
    }

    private void breadcrumb(String category, String message, SentryLevel level, Map<String, ?> data) {
        if (!"purge".equals(category)) {
            breadcrumbsOfActivity();
        }
        Breadcrumb b = new Breadcrumb();
        b.setCategory(category);
        b.setMessage(message);
        b.setLevel(level);
        data.forEach(b::setData);
        Sentry.addBreadcrumb(b);
    }

    /** What was purged, deleted and failed since the last breadcrumb, as one. */
    private void breadcrumbsOfActivity() {
        if (purged + keysDeleted + failed == 0) {
            return;
        }
        Map<String, Object> d = data("purged", purged, "keysDeleted", keysDeleted, "failed", failed);
        SentryLevel level = failed > 0 ? SentryLevel.WARNING : SentryLevel.INFO;
        purged = keysDeleted = failed = 0;
        breadcrumb("purge", "purged " + d.get("purged") + " items, deleted " + d.get("keysDeleted") + " keys, "
                + d.get("failed") + " failed", level, d);
    }

    /** Pairs of name and value; null values left out. */
    private static Map<String, Object> data(Object... pairs) {
        Map<String, Object> d = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (pairs[i + 1] != null) {
                d.put((String) pairs[i], pairs[i + 1] instanceof Instant || pairs[i + 1] instanceof java.util.UUID
                        ? pairs[i + 1].toString() : pairs[i + 1]);
            }
        }
        return d;
    }

    /** Credentials out of what leaves for Sentry: messages and exception values may quote a URL. */
    private static SentryEvent scrub(SentryEvent event, Redaction redaction) {
        if (event.getMessage() != null) {
            event.getMessage().setFormatted(redaction.apply(event.getMessage().getFormatted()));
            event.getMessage().setMessage(redaction.apply(event.getMessage().getMessage()));
        }
        if (event.getExceptions() != null) {
            event.getExceptions().forEach(ex -> ex.setValue(redaction.apply(ex.getValue())));
        }
        return event;
    }
}
