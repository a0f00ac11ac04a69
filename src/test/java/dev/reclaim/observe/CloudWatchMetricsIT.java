package dev.reclaim.observe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.tests.annotations.Event;
import dev.reclaim.Reclaim;
import dev.reclaim.handler.RetryHandler;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestCloudWatch;
import dev.reclaim.testing.TestCloudWatch.Datum;
import dev.reclaim.testing.TestSqs;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * What Reclaim publishes to CloudWatch, read back from a local PutMetricData server (the SDK's real wire: Query
 * protocol, signed, gzip when large): a known run's figures with their dimensions and units, early exits, a skipped
 * run, the retry handler, publishing failures and dry runs.
 */
class CloudWatchMetricsIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));
    private static final Map<String, String> RUN = Map.of();
    private static final Map<String, String> MOCS = Map.of("Sweep", "moc-purge");
    private static final Map<String, String> PHOTOS = Map.of("Sweep", "bobblehead-temp-photos");

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private TestCloudWatch cloudWatch;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger metricsLog = (Logger) LoggerFactory.getLogger(CloudWatchMetrics.class);

    @BeforeEach
    void setUp() {
        cloudWatch = TestCloudWatch.start();
        fx.env().put("AWS_ENDPOINT_URL_CLOUDWATCH", cloudWatch.endpoint().toString());
        fx.env().put("RECLAIM_CLOUDINARY_RETRY_DELAY", "10ms");
        logs.start();
        metricsLog.addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        metricsLog.detachAppender(logs);
        cloudWatch.close();
    }

    @Test
    void shouldPublishEveryFigureOfAKnownRun_withItsDimensionsAndUnits_inOneRequest() throws Exception {
        fx.sampleData(40, 0);
        seedTemp(3);
        reference(seedTemp(2));

        RunReport report = run(false, "moc-purge", "bobblehead-temp-photos");

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        SweepReport mocs = report.sweeps().get(0);
        assertThat(cloudWatch.requests()).hasSize(1);
        assertThat(cloudWatch.requests().get(0).namespace()).isEqualTo("Reclaim");
        assertDatum("ItemsPurged", MOCS, 12, "Count");
        assertDatum("ItemsSkipped", MOCS, 0, "Count");
        assertDatum("ItemsFailed", MOCS, 0, "Count");
        assertDatum("ItemsRefused", MOCS, 0, "Count");
        assertDatum("BricksReturned", MOCS, 12 * 5, "Count");
        assertDatum("ImagesOrphaned", MOCS, mocs.figures().get("imagesOrphaned"), "Count");
        long filesDeleted = mocs.keysDeleted().values().stream().mapToLong(Long::longValue).sum();
        assertThat(filesDeleted).isPositive();
        assertDatum("FilesDeleted", MOCS, filesDeleted, "Count");
        assertDatum("Backlog", MOCS, 0, "Count");
        assertDatum("RateLimited", MOCS, 0, "Count");
        assertDatum("Incomplete", MOCS, 0, "Count");
        assertDatum("AssetsScanned", PHOTOS, 5, "Count");
        assertDatum("AssetsDeleted", PHOTOS, 3, "Count");
        assertDatum("AssetsKeptReferenced", PHOTOS, 2, "Count");
        assertDatum("BytesReclaimed", PHOTOS, 3000, "Bytes");
        assertDatum("FilesDeleted", PHOTOS, 3, "Count");
        assertDatum("ItemsFailed", PHOTOS, 0, "Count");
        assertDatum("ItemsRefused", PHOTOS, 0, "Count");
        assertDatum("RateLimited", PHOTOS, 0, "Count");
        assertDatum("Incomplete", PHOTOS, 0, "Count");
        // Every call that reached the account spent its hourly quota, the folder-mode call included.
        assertDatum("ApiCalls", Map.of("Store", "bobblehead-photos"), fx.cloudinary.totalCalls(), "Count");
        assertThat(report.apiCalls()).containsEntry("bobblehead-photos", fx.cloudinary.totalCalls());
        assertThat(one("ApiCalls", Map.of("Store", "moc-files")).value()).isPositive();
        // S3 stores are asked once whether they keep versions (the undo window): a call like any other
        assertDatum("ApiCalls", Map.of("Store", "render-outputs"), 1, "Count");
        assertDatum("SweepsHeld", RUN, 0, "Count");
        assertDatum("QuotaRemaining", Map.of("Store", "bobblehead-photos"), fx.cloudinary.remainingBudget(), "Count");
        assertDatum("RunCompleted", RUN, 1, "Count");
        assertDatum("RunDuration", RUN, report.durationMs(), "Milliseconds");
        assertDatum("PendingDeletions", RUN, 0, "Count");
        assertDatum("OldestPendingDeletionAge", RUN, 0, "Seconds");
        assertDatum("FailuresQueued", RUN, 0, "Count");
        assertDatum("FailuresWaiting", RUN, 0, "Count");
        // the 30 above and nothing else, each timed at the run's end
        assertThat(cloudWatch.datums()).hasSize(30).allSatisfy(d ->
                assertThat(d.timestamp()).isCloseTo(report.finishedAt(), within(1, ChronoUnit.MILLIS)));
    }

    @Test
    void shouldPublishTheBacklogAndAnIncompleteSweep_whenTheSweepStopsAtItsCap() throws Exception {
        fx.sampleData(40, 0);
        fx.env().put("RECLAIM_MOC_MAX_DELETES", "5");

        RunReport report = run(false, "moc-purge");

        assertThat(report.sweeps().get(0).stoppedBy()).isEqualTo("cap");
        assertDatum("ItemsPurged", MOCS, 5, "Count");
        assertDatum("Backlog", MOCS, 12 - 5, "Count");
        assertDatum("Incomplete", MOCS, 1, "Count");
        assertDatum("RunCompleted", RUN, 1, "Count");
    }

    @Test
    void shouldPublishAnIncompleteRunWithItsBacklog_whenTheTimeBudgetIsSpentBeforeTheSweep() throws Exception {
        fx.sampleData(40, 0);

        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), Deadline.after(Duration.ZERO)));
        }

        assertThat(report.outcome()).isEqualTo(Outcome.INCOMPLETE);
        assertDatum("RunCompleted", RUN, 0, "Count");
        assertDatum("ItemsPurged", MOCS, 0, "Count");
        assertDatum("Incomplete", MOCS, 1, "Count");
        assertDatum("Backlog", MOCS, 12, "Count");
        assertDatum("PendingDeletions", RUN, 0, "Count");
    }

    @Test
    void shouldPublishOnlyTheRunsDurationRunCompletedZeroAndTheSetUpsCalls_whenAnotherRunHoldsTheLock() throws Exception {
        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            // Another process's run: the advisory lock "RECLAIM" held on a session of its own.
            try (java.sql.Connection other = fx.db.getConnection();
                 java.sql.Statement st = other.createStatement()) {
                st.execute("SELECT pg_advisory_lock(x'5245434C41494D'::bigint)");
                report = reclaim.run(new RunRequest("test", false, List.of(), null));
                st.execute("SELECT pg_advisory_unlock(x'5245434C41494D'::bigint)");
            }
        }

        assertThat(report.outcome()).isEqualTo(Outcome.SKIPPED);
        // The Cloudinary folder mode is asked before the lock: that call spent the quota all the same.
        assertThat(names()).containsExactlyInAnyOrder("RunCompleted", "RunDuration", "ApiCalls", "QuotaRemaining",
                "SweepsHeld");
        assertThat(fx.cloudinary.totalCalls()).isEqualTo(1);
        assertDatum("ApiCalls", Map.of("Store", "bobblehead-photos"), 1, "Count");
        // and each S3 store was asked whether it keeps versions
        assertThat(report.apiCalls()).containsExactlyInAnyOrderEntriesOf(
                Map.of("bobblehead-photos", 1L, "moc-files", 1L, "render-outputs", 1L));
        assertDatum("RunCompleted", RUN, 0, "Count");
        assertDatum("RunDuration", RUN, report.durationMs(), "Milliseconds");
    }

    @Test
    void shouldPublishPendingDeletionsAndTheOldestOnesAge_whenTheirStoreKeepsFailing() throws Exception {
        run(false, "moc-purge"); // Reclaim's tables exist
        fx.execute("INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id, created_at) VALUES "
                + "('moc-files', 'mocs/gone/a.pdf', 'moc-purge', gen_random_uuid(), now() - interval '2 hours'), "
                + "('moc-files', 'mocs/gone/b.pdf', 'moc-purge', gen_random_uuid(), now() - interval '1 hour')");
        fx.env().put("RECLAIM_MOC_BUCKET", "no-such-bucket"); // every delete fails: the keys stay pending

        RunReport report = run(false, "moc-purge");

        assertThat(report.outbox().pending()).isEqualTo(2);
        List<Datum> pending = cloudWatch.datums("PendingDeletions", RUN);
        assertThat(pending).extracting(Datum::value).containsExactly(0.0, 2.0);
        Datum age = cloudWatch.datums("OldestPendingDeletionAge", RUN).get(1);
        assertThat(age.unit()).isEqualTo("Seconds");
        assertThat(age.value()).isBetween(7200.0, 7200.0 + 600);
    }

    @Test
    void shouldPublishRunCompletedZero_whenTheRunFailsBecauseTheDatabaseIsUnreachable() {
        fx.env().put("RECLAIM_DB_URL", "jdbc:postgresql://127.0.0.1:1/app?connectTimeout=2");
        fx.env().put("RECLAIM_DB_CONNECT_TIMEOUT", "1s");

        RunReport report = run(false, "moc-purge");

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        // The configured statements are prepared against the database first: no store was asked anything.
        assertThat(names()).containsExactlyInAnyOrder("RunCompleted", "RunDuration", "SweepsHeld");
        assertThat(fx.cloudinary.totalCalls()).isZero();
        assertDatum("RunCompleted", RUN, 0, "Count");
    }

    @Test
    void shouldPublishAnInterruptedRun_whenItIsStoppedBySigterm() throws Exception {
        fx.sampleData(40, 0);
        Deadline deadline = Deadline.none();
        deadline.stop("SIGTERM", Duration.ofSeconds(1));

        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), deadline));
        }

        assertThat(report.outcome()).isEqualTo(Outcome.INTERRUPTED);
        assertDatum("RunCompleted", RUN, 0, "Count");
        assertDatum("Incomplete", MOCS, 1, "Count");
        assertDatum("Backlog", MOCS, 12, "Count");
    }

    @ParameterizedTest
    @Event(value = "events/retry-batch.json", type = SQSEvent.class)
    void shouldPublishTheRetryHandlersFiguresOnce_atTheEndOfTheBatch(SQSEvent event) throws Exception {
        TestSqs.QueuePair queues = TestSqs.createQueuePair("reclaim-retry", 3);
        fx.env().putAll(TestSqs.environment());
        fx.env().put("AWS_ENDPOINT_URL_CLOUDWATCH", cloudWatch.endpoint().toString());
        fx.env().put("RECLAIM_RETRY_QUEUE_URL", queues.queueUrl());
        fx.env().put("RECLAIM_DLQ_URL", queues.deadLetterQueueUrl());
        // the two records events/retry-batch.json names: the first is purged, the second refuses again
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES "
                + "('6a1f0c52-3d4e-4b8a-9c7d-1e2f3a4b5c6d', gen_random_uuid(), 'Castle', now() - interval '40 days'), "
                + "('9b2e1d63-4e5f-4c9b-8d0e-2f3a4b5c6d7e', gen_random_uuid(), 'poison', now() - interval '40 days')");
        fx.refuseToDeletePoisonMocs();

        try (Reclaim reclaim = fx.reclaim()) {
            new RetryHandler(reclaim.retryWorker(), false).handleRequest(event, null);
        }

        assertThat(cloudWatch.requests()).hasSize(1);
        assertThat(names()).containsExactlyInAnyOrder("RetriesSucceeded", "RetriesFailed", "MessagesDeadLettered");
        assertDatum("RetriesSucceeded", RUN, 1, "Count");
        assertDatum("RetriesFailed", RUN, 1, "Count");
        assertDatum("MessagesDeadLettered", RUN, 0, "Count");
    }

    @Test
    void shouldCompleteTheRunAndKeepItsReport_whenCloudWatchThrottlesEveryRequest() throws Exception {
        fx.sampleData(40, 0);
        cloudWatch.throttle(true);

        RunReport report = run(false, "moc-purge");

        assertReportIntact(report);
        assertThat(cloudWatch.calls()).isGreaterThan(1); // the SDK retried the throttled request
        assertThat(cloudWatch.requests()).isEmpty();
        assertPublishErrorLogged("Throttling (HTTP 400): Rate exceeded");
    }

    @Test
    void shouldCompleteTheRunAndKeepItsReport_whenCloudWatchIsDown() throws Exception {
        fx.sampleData(40, 0);
        cloudWatch.close();

        RunReport report = run(false, "moc-purge");

        assertReportIntact(report);
        assertPublishErrorLogged("Unable to execute HTTP request");
    }

    @Test
    void shouldGiveUpWithinTheTimeout_whenCloudWatchNeverAnswers() throws Exception {
        fx.env().put("RECLAIM_METRICS_TIMEOUT", "1s");
        cloudWatch.hang(true);

        long started = System.nanoTime();
        RunReport report = run(false, "moc-purge");
        long publishedAfterMs = (System.nanoTime() - started) / 1_000_000 - report.durationMs();

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(publishedAfterMs).isLessThan(5_000);
        assertPublishErrorLogged("did not complete before the specified timeout");
    }

    @Test
    void shouldPublishNothingForADryRun_unlessRECLAIM_METRICS_IN_DRY_RUNIsTrue() throws Exception {
        fx.sampleData(40, 0);

        run(true, "moc-purge");
        assertThat(cloudWatch.calls()).isZero();

        fx.env().put("RECLAIM_METRICS_IN_DRY_RUN", "true");
        RunReport report = run(true, "moc-purge");
        assertThat(report.dryRun()).isTrue();
        assertDatum("ItemsPurged", MOCS, 12, "Count"); // what would be purged
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"))
                .isEqualTo(12);
    }

    @Test
    void shouldPublishUnderTheConfiguredNamespace() throws Exception {
        fx.env().put("RECLAIM_METRICS_NAMESPACE", "Lego/Reclaim");

        run(false, "moc-purge");

        assertThat(cloudWatch.requests()).extracting(TestCloudWatch.Request::namespace).containsExactly("Lego/Reclaim");
    }

    private RunReport run(boolean dryRun, String... sweeps) {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", dryRun, List.of(sweeps), null));
        }
    }

    private void assertReportIntact(RunReport report) throws Exception {
        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(report.purged()).isEqualTo(12);
        assertThat(fx.strings("SELECT outcome || ' ' || purged FROM reclaim.runs WHERE id = '" + report.runId() + "'"))
                .containsExactly("completed 12");
    }

    private void assertPublishErrorLogged(String cause) {
        assertThat(logs.list).filteredOn(e -> e.getLevel() == Level.ERROR).singleElement().satisfies(e -> {
            assertThat(e.getFormattedMessage()).contains("CloudWatch metrics of run", "not published");
            assertThat(e.getThrowableProxy()).isNotNull();
            assertThat(e.getFormattedMessage() + e.getThrowableProxy().getMessage()).contains(cause);
        });
    }

    private Datum one(String name, Map<String, String> dimensions) {
        List<Datum> found = cloudWatch.datums(name, dimensions);
        assertThat(found).as("datums %s %s among %s", name, dimensions, names()).hasSize(1);
        return found.get(0);
    }

    private void assertDatum(String name, Map<String, String> dimensions, long value, String unit) {
        Datum d = one(name, dimensions);
        assertThat(d.value()).as(name + " " + dimensions).isEqualTo((double) value);
        assertThat(d.unit()).as(name + " unit").isEqualTo(unit);
    }

    private Set<String> names() {
        return cloudWatch.datums().stream().map(Datum::name).collect(Collectors.toSet());
    }

    /** n photos in a user's temp folder, three days old, 1000 bytes each. */
    private List<String> seedTemp(int n) {
        List<String> ids = new ArrayList<>();
        List<Asset> assets = new ArrayList<>();
        String user = UUID.randomUUID().toString();
        for (int i = 0; i < n; i++) {
            String id = "users/" + user + "/temp/" + UUID.randomUUID();
            ids.add(id);
            assets.add(Asset.image(id, OLD, 1000));
        }
        fx.cloudinary.seed(assets);
        return ids;
    }

    private void reference(List<String> publicIds) throws Exception {
        String bobblehead = UUID.randomUUID().toString();
        fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('" + bobblehead + "', gen_random_uuid(), 'Bob')");
        for (String id : publicIds) {
            fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES ('" + bobblehead + "', '" + id + "')");
        }
    }
}
