package dev.reclaim.run;

import dev.reclaim.report.Reports;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.S3Front;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Dry run, the per-run cap, the time budget and the one-run-at-a-time lock. */
class RunControlIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 30);

    private RunReport run(RunRequest request) {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(request);
        }
    }

    @Test
    void dryRunShouldWriteAndDeleteNothing_andSayWhatWouldBeDeleted() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        Set<String> mocObjects = TestS3.keys(fx.mocBucket);
        Set<String> renderObjects = TestS3.keys(fx.renderBucket);

        RunReport report = run(new RunRequest("test", true, List.of(), null));

        assertThat(report.dryRun()).isTrue();
        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(mocObjects);
        assertThat(TestS3.keys(fx.renderBucket)).isEqualTo(renderObjects);
        assertThat(fx.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'reclaim'")).isZero();
        SweepReport moc = report.sweeps().get(0);
        assertThat(moc.purged()).isEqualTo(12);
        assertThat(moc.figures()).containsEntry("bricksReturned", 60L);
        assertThat(moc.keysCollected().get("moc-files")).isGreaterThanOrEqualTo(12 * 3);
        assertThat(moc.sampleIds()).hasSize(10).allSatisfy(id ->
                assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + id + "' AND " + EXPIRED)).isEqualTo(1));
        assertThat(moc.sampleKeys().get("moc-files")).hasSize(10).allSatisfy(k -> assertThat(mocObjects).contains(k));
        assertThat(report.sweeps().get(1).purged()).isEqualTo(10);
        assertThat(Reports.summary(report)).contains("DRY RUN", "would purge 12", "first ids:");
    }

    @Test
    void dryRunShouldNotTouchTheLedgerOrTheOutboxOnceTheyExist() throws Exception {
        run(new RunRequest("test", false, List.of("render-outputs"), null));
        fx.execute("INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id) "
                + "VALUES ('moc-files', 'mocs/leftover.pdf', 'moc-purge', gen_random_uuid())");
        TestS3.put(fx.mocBucket, "mocs/leftover.pdf");

        RunReport report = run(new RunRequest("test", true, List.of(), null));

        assertThat(fx.count("SELECT count(*) FROM reclaim.runs")).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isEqualTo(1);
        assertThat(TestS3.exists(fx.mocBucket, "mocs/leftover.pdf")).isTrue();
        assertThat(report.outbox().pending()).isEqualTo(1);
    }

    @Test
    void shouldStopTheSweepCleanlyAtTheCap_andCarryOnNextRun() throws Exception {
        fx.env().put("RECLAIM_MOC_MAX_DELETES", "5");

        RunReport first = run(new RunRequest("test", false, List.of("moc-purge"), null));

        SweepReport sweep = first.sweeps().get(0);
        assertThat(first.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(sweep.purged()).isEqualTo(5);
        assertThat(sweep.complete()).isFalse();
        assertThat(sweep.stoppedBy()).isEqualTo("cap");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(7);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();

        RunReport second = run(new RunRequest("test", false, List.of("moc-purge"), null));
        RunReport third = run(new RunRequest("test", false, List.of("moc-purge"), null));

        assertThat(second.sweeps().get(0).purged()).isEqualTo(5);
        assertThat(third.sweeps().get(0).purged()).isEqualTo(2);
        assertThat(third.sweeps().get(0).complete()).isTrue();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
    }

    @Test
    void shouldStopTakingItemsWhenTheTimeBudgetRunsOut_andReportIncomplete() throws Exception {
        Clock ticking = new TickingClock(Duration.ofSeconds(1));
        Deadline deadline = Deadline.after(Duration.ofSeconds(5), ticking);

        RunReport first = run(new RunRequest("test", false, List.of(), deadline));

        assertThat(first.outcome()).isEqualTo(Outcome.INCOMPLETE);
        SweepReport moc = first.sweeps().get(0);
        assertThat(moc.stoppedBy()).isEqualTo("timeBudget");
        assertThat(moc.purged()).isBetween(1L, 11L);
        assertThat(first.sweeps().get(1).stoppedBy()).isEqualTo("timeBudget");
        assertThat(first.sweeps().get(1).purged()).isZero();
        assertThat(fx.strings("SELECT outcome FROM reclaim.runs")).containsExactly("incomplete");

        RunReport next = run(new RunRequest("test", false, List.of(), null));

        assertThat(next.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(next.sweeps().get(0).purged()).isEqualTo(12 - moc.purged());
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
    }

    @Test
    void shouldEndWithinFiveSecondsOfItsBudget_whenS3HangsFromItsFirstCall() throws Exception {
        try (S3Front front = S3Front.before(TestS3.endpoint(), "test").hangingAfter("GET", "versioning", 0)) {
            fx.env().put("AWS_ENDPOINT_URL_S3", front.endpoint().toString()); // every S3 store asks its versioning first
            long t0 = System.nanoTime();

            RunReport report = run(new RunRequest("test", false, List.of(), Deadline.after(Duration.ofSeconds(3))));

            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
            assertThat(report.outcome()).isEqualTo(Outcome.INCOMPLETE);
        }
    }

    @Test
    void shouldEndFailedNamingTheDatabase_andDeleteNothing_whenMigratingReclaimsSchemaFailsThere() throws Exception {
        // A schema history Flyway cannot read fails its SQL, as a connection killed mid-migration does (soak seed
        // -27429: "Unable to acquire PostgreSQL advisory lock", SQL state 08006): the run must end failed, not throw.
        fx.execute("CREATE SCHEMA reclaim; CREATE TABLE reclaim.schema_history (unexpected int)");
        long expired = fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);

        RunReport report = run(new RunRequest("test", false, List.of(), null));

        assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
        assertThat(report.reason()).startsWith("database error: ").contains("installed_rank");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(expired);
    }

    @Test
    void aSecondConcurrentRunShouldBeSkipped_deleteNothing_andNotBeAnError() throws Exception {
        run(new RunRequest("test", false, List.of("render-outputs"), null)); // creates Reclaim's schema
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        RunReport skipped;
        Optional<RunLock> held = RunLock.tryAcquire(fx.db);
        assertThat(held).isPresent();
        try (RunLock lock = held.get()) {
            skipped = run(new RunRequest("test", false, List.of(), null));
        }

        assertThat(skipped.outcome()).isEqualTo(Outcome.SKIPPED);
        assertThat(skipped.reason()).isEqualTo("another run holds the lock");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(fx.strings("SELECT outcome || ' ' || reason FROM reclaim.runs WHERE id = '" + skipped.runId() + "'"))
                .containsExactly("skipped another run holds the lock");

        RunReport after = run(new RunRequest("test", false, List.of(), null));
        assertThat(after.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(after.sweeps().get(0).purged()).isEqualTo(12);
    }

    @Test
    void anUnknownSweepNameShouldBeRefusedBeforeAnythingRuns() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        try (Reclaim reclaim = fx.reclaim()) {
            assertThatThrownBy(() -> reclaim.run(new RunRequest("test", false, List.of("moc-purge", "moc-prune"), null)))
                    .isInstanceOf(UsageException.class)
                    .hasMessageContaining("unknown sweep 'moc-prune'");
        }
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    /** Every reading advances the time by a fixed step: a deadline passes after a known number of checks. */
    private static final class TickingClock extends Clock {
        private final Duration step;
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        TickingClock(Duration step) {
            this.step = step;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public synchronized Instant instant() {
            now = now.plus(step);
            return now;
        }
    }
}
