package dev.reclaim.report;

import dev.reclaim.report.RunEvent.Source;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class RunTallyTest {
    private static final Instant CUTOFF = Instant.parse("2026-11-01T00:00:00Z");

    @Test
    void shouldReportARecordSweepWithTheKeysTheOutboxDeletedForIt_whenBothCameAsEvents() {
        RunTally tally = new RunTally(false);
        tally.emit(new RunEvent.SweepStarted("moc-purge", "records", CUTOFF));
        tally.emit(new RunEvent.ItemsEligible("moc-purge", 3));
        tally.emit(new RunEvent.ItemPurged("moc-purge", "1", Map.of("bricksReturned", 4L), Map.of("s3", List.of("a", "b"))));
        tally.emit(new RunEvent.ItemSkipped("moc-purge", "2"));
        tally.emit(new RunEvent.ItemFailed("moc-purge", "3", "delete-moc", "boom", "java.sql.SQLException", false));
        tally.emit(new RunEvent.KeysDeleted("moc-purge", "s3", List.of("a"), 0, Source.OUTBOX));
        tally.emit(new RunEvent.KeysFailed("moc-purge", "s3", Map.of("b", "503"), "PerKeyError", Source.OUTBOX));
        tally.emit(new RunEvent.SweepFinished("moc-purge"));

        SweepReport r = tally.sweepReports(false).get(0);

        assertThat(r.eligible()).isEqualTo(3);
        assertThat(r.purged()).isEqualTo(1);
        assertThat(r.skipped()).isEqualTo(1);
        assertThat(r.failed()).isEqualTo(1);
        assertThat(r.failures()).containsExactly(new SweepReport.Failure("3", "delete-moc", "boom"));
        assertThat(r.figures()).containsEntry("bricksReturned", 4L);
        assertThat(r.keysCollected()).containsEntry("s3", 2L);
        assertThat(r.keysDeleted()).containsEntry("s3", 1L);
        assertThat(r.keysFailed()).containsEntry("s3", 1L);
        assertThat(r.complete()).isTrue();
        assertThat(r.scanned()).isNull();
        assertThat(tally.outboxReport(1, null).deleted()).containsEntry("s3", 1L);
        assertThat(tally.keysDeleted()).isEqualTo(1);
    }

    @Test
    void shouldCountWouldBeDeletesAsPurgedButNotAsDeletedKeys_whenTheRunIsDry() {
        RunTally tally = new RunTally(true);
        tally.emit(new RunEvent.SweepStarted("temp", "assets", CUTOFF));
        tally.emit(new RunEvent.PageListed("temp", "cdn", 5));
        tally.emit(new RunEvent.KeysKept("temp", "cdn", List.of("k1"), Source.SWEEP));
        tally.emit(new RunEvent.KeysDeleted("temp", "cdn", List.of("k2", "k3"), 300, Source.SWEEP));

        SweepReport r = tally.sweepReports(false).get(0);

        assertThat(r.purged()).isEqualTo(2);
        assertThat(r.scanned()).isEqualTo(5);
        assertThat(r.referenced()).isEqualTo(1);
        assertThat(r.bytesReclaimed()).isEqualTo(300);
        assertThat(r.keysDeleted()).isEmpty();
    }

    @Test
    void shouldMarkOnlyUnfinishedSweepsAsStoppedByTheFailure_whenTheRunFails() {
        RunTally tally = new RunTally(false);
        tally.emit(new RunEvent.SweepStarted("done", "records", CUTOFF));
        tally.emit(new RunEvent.SweepFinished("done"));
        tally.emit(new RunEvent.SweepStarted("running", "records", CUTOFF));

        tally.runFailed();

        assertThat(tally.sweepReports(false)).extracting(SweepReport::stoppedBy).containsExactly(null, "runFailed");
    }

    @Test
    void shouldSayStopRequested_whenATimeBudgetStopCameFromSigterm() {
        RunTally tally = new RunTally(false);
        tally.emit(new RunEvent.SweepStarted("s", "records", CUTOFF));
        tally.emit(new RunEvent.SweepStopped("s", "timeBudget", null, null));

        assertThat(tally.sweepReports(true).get(0).stoppedBy()).isEqualTo("stopRequested");
        assertThat(tally.sweepReports(false).get(0).stoppedBy()).isEqualTo("timeBudget");
    }

    @Test
    void shouldKeepMemoryBounded_whenManyItemsFail() {
        RunTally tally = new RunTally(false);
        tally.emit(new RunEvent.SweepStarted("s", "records", CUTOFF));
        IntStream.range(0, 10_000).forEach(i -> tally.emit(
                new RunEvent.ItemFailed("s", "i" + i, "claim", "e", "X", false)));
        IntStream.range(0, 10_000).forEach(i -> tally.emit(
                new RunEvent.ItemPurged("s", "p" + i, Map.of(), Map.of("s3", List.of("k" + i)))));

        SweepReport r = tally.sweepReports(false).get(0);

        assertThat(r.failed()).isEqualTo(10_000);
        assertThat(r.failures()).hasSize(RunTally.MAX_FAILURES_LISTED);
        assertThat(r.sampleIds()).hasSize(RunTally.SAMPLE);
        assertThat(r.sampleKeys().get("s3")).hasSize(RunTally.SAMPLE);
    }
}
