package dev.reclaim.observe;

import dev.reclaim.config.AwsClients;
import dev.reclaim.config.Settings;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.StandardUnit;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Publishes each run's figures to CloudWatch (PutMetricData) when the run finishes, whatever its outcome, and the
 * retry handler's at the end of each batch. Figures come from the final report where it has them (so the metrics,
 * the ledger and the logs agree) and from the events for the rest (quota, backlog, outbox age, refused items, API
 * calls of the outbox drain). Publishing never fails a run: an error is logged, and the report and ledger stand.
 */
public final class CloudWatchMetrics implements RunEvents {
    /** PutMetricData takes at most this many datums per request. */
    public static final int MAX_DATUMS_PER_REQUEST = 1000;
    private static final Logger log = LoggerFactory.getLogger(CloudWatchMetrics.class);

    private final CloudWatchClient client;
    private final String namespace;
    private final boolean inDryRun;
    private RunFigures run;
    private final Map<String, Long> retries = new TreeMap<>();

    public CloudWatchMetrics(CloudWatchClient client, String namespace, boolean inDryRun) {
        this.client = client;
        this.namespace = namespace;
        this.inDryRun = inDryRun;
    }

    /**
     * The listener {@code settings} asks for: none when metrics are off, or (with one WARN line) when no region is
     * set; else one publishing under its namespace, each PutMetricData call (retries included) within its timeout.
     */
    public static RunEvents from(Settings.Metrics settings, AwsClients aws) {
        if (!settings.enabled()) {
            return RunEvents.none();
        }
        if (settings.region() == null) {
            log.warn("no AWS region (AWS_REGION): CloudWatch metrics are not published");
            return RunEvents.none();
        }
        return new CloudWatchMetrics(aws.cloudWatch(settings.region(), settings.endpoint(), settings.timeout()),
                settings.namespace(), settings.inDryRun());
    }

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.RunStarted) {
            run = new RunFigures();
        } else if (event instanceof RunEvent.RunFinished e) {
            RunFigures figures = run == null ? new RunFigures() : run;
            run = null;
            publishRun(e.report(), figures);
        } else if (event instanceof RunEvent.RetryProcessed e) {
            retries.merge(e.outcome(), 1L, Long::sum);
        } else if (event instanceof RunEvent.RetryBatchFinished e) {
            publishRetries(e);
        } else if (run != null) {
            run.hear(event);
        }
        // events outside a run (a retry's purges and deletes) are counted by the retry figures only
    }

    /** What the report does not say, gathered from one run's events. */
    private static final class RunFigures {
        private final Map<String, Long> refusedItems = new TreeMap<>();
        private final Map<String, Long> backlog = new TreeMap<>();
        private final Map<String, Long> apiCalls = new TreeMap<>();
        private final Map<String, Long> quotaRemaining = new TreeMap<>();
        private RunEvent.PendingDeletionsCounted pending;

        void hear(RunEvent event) {
            if (event instanceof RunEvent.ItemFailed e && e.refused()) {
                refusedItems.merge(e.sweep(), 1L, Long::sum);
            } else if (event instanceof RunEvent.BacklogCounted e) {
                backlog.put(e.sweep(), e.eligible());
            } else if (event instanceof RunEvent.ApiCalls e) {
                apiCalls.merge(e.store(), e.calls(), Long::sum);
            } else if (event instanceof RunEvent.QuotaSeen e) {
                quotaRemaining.put(e.store(), e.remaining());
            } else if (event instanceof RunEvent.PendingDeletionsCounted e) {
                pending = e;
            }
        }
    }

    private void publishRun(RunReport report, RunFigures figures) {
        if (report.dryRun() && !inDryRun) {
            log.info("dry run: CloudWatch metrics not published (RECLAIM_METRICS_IN_DRY_RUN is not true)");
            return;
        }
        publish(datums(report, figures), "run " + report.runId());
    }

    private void publishRetries(RunEvent.RetryBatchFinished batch) {
        Map<String, Long> counted = new TreeMap<>(retries);
        retries.clear();
        if (batch.messages() == 0 || (batch.dryRun() && !inDryRun)) {
            return;
        }
        Instant at = Instant.now();
        List<MetricDatum> datums = List.of(
                datum("RetriesSucceeded", counted.getOrDefault("succeeded", 0L), StandardUnit.COUNT, at, null),
                datum("RetriesFailed", counted.getOrDefault("failedAgain", 0L), StandardUnit.COUNT, at, null),
                datum("MessagesDeadLettered", counted.getOrDefault("deadLettered", 0L), StandardUnit.COUNT, at, null));
        publish(datums, "a retry batch of " + batch.messages() + " messages");
    }

    /** Every figure of a finished run; what was not measured (a skipped run's outbox) is left out, not sent as 0. */
    static List<MetricDatum> datums(RunReport report, RunFigures figures) {
        Instant at = report.finishedAt() == null ? Instant.now() : report.finishedAt();
        List<MetricDatum> out = new ArrayList<>();
        out.add(datum("RunDuration", report.durationMs(), StandardUnit.MILLISECONDS, at, null));
        // A held run ran to its end: the missed-run alarm stays quiet, SweepsHeld raises its own.
        out.add(datum("RunCompleted", report.outcome() == Outcome.COMPLETED || report.outcome() == Outcome.HELD ? 1 : 0,
                StandardUnit.COUNT, at, null));
        if (!report.dryRun()) {
            out.add(datum("SweepsHeld", report.sweeps().stream().filter(s -> "brake".equals(s.stoppedBy())).count(),
                    StandardUnit.COUNT, at, null));
        }
        for (SweepReport s : report.sweeps()) {
            Dimension sweep = dimension("Sweep", s.name());
            if ("assets".equals(s.kind())) {
                out.add(datum("AssetsScanned", orZero(s.scanned()), StandardUnit.COUNT, at, sweep));
                out.add(datum("AssetsDeleted", s.purged(), StandardUnit.COUNT, at, sweep));
                out.add(datum("AssetsKeptReferenced", orZero(s.referenced()), StandardUnit.COUNT, at, sweep));
                out.add(datum("BytesReclaimed", orZero(s.bytesReclaimed()), StandardUnit.BYTES, at, sweep));
                out.add(datum("ItemsRefused", s.keysRefused(), StandardUnit.COUNT, at, sweep));
            } else {
                out.add(datum("ItemsPurged", s.purged(), StandardUnit.COUNT, at, sweep));
                out.add(datum("ItemsSkipped", s.skipped(), StandardUnit.COUNT, at, sweep));
                out.add(datum("ItemsRefused", figures.refusedItems.getOrDefault(s.name(), 0L), StandardUnit.COUNT,
                        at, sweep));
                s.figures().forEach((name, value) -> out.add(datum(pascalCase(name), value, StandardUnit.COUNT, at,
                        sweep)));
                Long backlog = figures.backlog.get(s.name());
                if (backlog != null) {
                    out.add(datum("Backlog", backlog, StandardUnit.COUNT, at, sweep));
                }
            }
            out.add(datum("ItemsFailed", s.failed(), StandardUnit.COUNT, at, sweep));
            out.add(datum("FilesDeleted", sum(s.keysDeleted()), StandardUnit.COUNT, at, sweep));
            out.add(datum("RateLimited", "rateLimited".equals(s.stoppedBy()) ? 1 : 0, StandardUnit.COUNT, at, sweep));
            out.add(datum("Incomplete", s.complete() ? 0 : 1, StandardUnit.COUNT, at, sweep));
        }
        if (figures.pending != null) {
            out.add(datum("PendingDeletions", figures.pending.pending(), StandardUnit.COUNT, at, null));
            Duration oldest = figures.pending.oldestAge();
            out.add(datum("OldestPendingDeletionAge", oldest == null ? 0 : oldest.toSeconds(), StandardUnit.SECONDS,
                    at, null));
        }
        if (report.failures() != null) {
            out.add(datum("FailuresQueued", report.failures().sent(), StandardUnit.COUNT, at, null));
            out.add(datum("FailuresWaiting", report.failures().pending(), StandardUnit.COUNT, at, null));
        }
        figures.apiCalls.forEach((store, calls) ->
                out.add(datum("ApiCalls", calls, StandardUnit.COUNT, at, dimension("Store", store))));
        figures.quotaRemaining.forEach((store, remaining) ->
                out.add(datum("QuotaRemaining", remaining, StandardUnit.COUNT, at, dimension("Store", store))));
        return out;
    }

    /**
     * Sends the datums in as few requests as PutMetricData allows. A request that fails (throttled, unreachable, no
     * permission) is logged at ERROR and the rest are not tried: they would most likely fail the same way, and the
     * run must not wait for them.
     */
    private void publish(List<MetricDatum> datums, String what) {
        List<List<MetricDatum>> requests = batches(datums, MAX_DATUMS_PER_REQUEST);
        io.sentry.Sentry.addBreadcrumb("publish " + datums.size() + " CloudWatch metrics of " + what, "phase");
        int sent = 0;
        for (List<MetricDatum> request : requests) {
            try {
                client.putMetricData(r -> r.namespace(namespace).metricData(request));
                sent += request.size();
            } catch (RuntimeException e) {
                log.error("CloudWatch metrics of {} not published ({} of {} datums lost; the report and the ledger "
                                + "have the figures): {}", what, datums.size() - sent, datums.size(), describe(e), e);
                // One Sentry issue however often it happens (a no-op when Sentry is off).
                io.sentry.Sentry.captureException(e, scope -> {
                    scope.setTag("failure", "metricsNotPublished");
                    scope.setFingerprint(List.of("metrics-not-published", e.getClass().getName()));
                });
                return;
            }
        }
        log.info("published {} CloudWatch metrics of {} to namespace {} in {} request(s)", sent, what, namespace,
                requests.size());
    }

    /** The service's error code (Throttling, AccessDenied ...) when CloudWatch answered, else the client's error. */
    private static String describe(RuntimeException e) {
        if (e instanceof AwsServiceException s && s.awsErrorDetails() != null) {
            return s.awsErrorDetails().errorCode() + " (HTTP " + s.statusCode() + "): " + s.awsErrorDetails().errorMessage();
        }
        return e.toString();
    }

    /** Consecutive slices of at most {@code max} datums, in order. */
    static <T> List<List<T>> batches(List<T> items, int max) {
        List<List<T>> out = new ArrayList<>();
        for (int from = 0; from < items.size(); from += max) {
            out.add(List.copyOf(items.subList(from, Math.min(items.size(), from + max))));
        }
        return out;
    }

    /** A step's count name as a metric name: bricksReturned, bricks_returned and bricks-returned are BricksReturned. */
    static String pascalCase(String name) {
        return Arrays.stream(name.split("[_-]+")).filter(word -> !word.isEmpty())
                .map(word -> Character.toUpperCase(word.charAt(0)) + word.substring(1)).collect(Collectors.joining());
    }

    private static MetricDatum datum(String name, long value, StandardUnit unit, Instant at, Dimension dimension) {
        MetricDatum.Builder b = MetricDatum.builder().metricName(name).value((double) value).unit(unit).timestamp(at);
        if (dimension != null) {
            b.dimensions(dimension);
        }
        return b.build();
    }

    private static Dimension dimension(String name, String value) {
        return Dimension.builder().name(name).value(value).build();
    }

    private static long orZero(Long n) {
        return n == null ? 0 : n;
    }

    private static long sum(Map<String, Long> byStore) {
        return byStore == null ? 0 : byStore.values().stream().mapToLong(Long::longValue).sum();
    }
}
