package dev.reclaim.report;

import dev.reclaim.report.RunEvent.Source;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI's summary reads well at 3 AM: why a sweep did not start, errors under their item, how a failed run ended. */
class ReportsTest {
    private static final Instant START = Instant.parse("2026-12-01T03:00:00Z");
    private static final String POISON = "ERROR: refusing to delete poison MOC\n  Where: PL/pgSQL function refuse_poison() line 3 at RAISE";

    private static RunReport report(RunTally tally, Outcome outcome, String reason) {
        return new RunReport("run-1", "cli", false, outcome, reason, START, START.plusMillis(1200), 1200,
                tally.sweepReports(false), tally.outboxReport(0, null), null, null, null, null);
    }

    /** moc-purge purges 2 items (one file deleted) and fails item 3 with a two-line PostgreSQL error. */
    private static RunTally mocPurgeWithAPoisonItem() {
        RunTally tally = new RunTally(false);
        tally.emit(new RunEvent.SweepStarted("moc-purge", "records", START));
        tally.emit(new RunEvent.ItemPurged("moc-purge", "1", Map.of(), Map.of("moc-files", List.of("a"))));
        tally.emit(new RunEvent.ItemPurged("moc-purge", "2", Map.of(), Map.of()));
        tally.emit(new RunEvent.ItemFailed("moc-purge", "3", "delete-moc", POISON, "org.postgresql.util.PSQLException", false));
        tally.emit(new RunEvent.KeysDeleted("moc-purge", "moc-files", List.of("a"), 0, Source.OUTBOX));
        return tally;
    }

    @Test
    void shouldSayWhyASweepNeverStarted_whenTheTimeBudgetWasSpentBeforeItsTurn() {
        RunTally tally = mocPurgeWithAPoisonItem();
        tally.emit(new RunEvent.SweepFinished("moc-purge"));
        tally.emit(new RunEvent.SweepStarted("render-outputs", null, null));
        tally.emit(new RunEvent.SweepStopped("render-outputs", "timeBudget", null, null));
        tally.emit(new RunEvent.SweepFinished("render-outputs"));

        String summary = Reports.summary(report(tally, Outcome.INCOMPLETE, "time budget reached; the next run carries on"));

        assertThat(summary).contains("  sweep render-outputs: not started: the run's time budget was spent before its "
                + "turn; the next run does it\n");
        assertThat(summary).doesNotContain("sweep render-outputs [");
    }

    @Test
    void shouldSayNoSweepStarted_whenTheRunFailedBeforeItsFirstSweep() {
        String summary = Reports.summary(report(new RunTally(false), Outcome.FAILED,
                "cannot reach the database: Connection refused"));

        assertThat(summary).contains("  no sweep started: the run failed before its first sweep\n");
    }

    @Test
    void shouldKeepAMultiLineDatabaseErrorIndentedUnderItsItem() {
        RunTally tally = mocPurgeWithAPoisonItem();
        tally.emit(new RunEvent.SweepFinished("moc-purge"));

        String summary = Reports.summary(report(tally, Outcome.COMPLETED, null));

        assertThat(summary).contains("    FAILED 3 at delete-moc: ERROR: refusing to delete poison MOC\n"
                + "      Where: PL/pgSQL function refuse_poison() line 3 at RAISE\n");
        assertThat(summary.lines()).allMatch(l -> l.startsWith("  ") || l.startsWith("Reclaim run"));
    }

    @Test
    void shouldShowWhatAFailedRunDid_andEndWithOneSentence() {
        RunTally tally = mocPurgeWithAPoisonItem();
        tally.runFailed();

        String summary = Reports.summary(report(tally, Outcome.FAILED,
                "database error: ERROR: canceling statement due to statement timeout\n  Where: SQL statement \"DELETE FROM mocs\""));

        assertThat(summary).contains("  outcome: failed (database error: ERROR: canceling statement due to statement timeout), 1200 ms\n"
                + "    Where: SQL statement \"DELETE FROM mocs\"\n");
        assertThat(summary).contains("purged 2", "failed 1, stopped by runFailed", "keys deleted: moc-files 1");
        assertThat(summary.strip().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("The run FAILED (database error: "
                + "ERROR: canceling statement due to statement timeout), after purging 2 items and deleting 1 files; "
                + "files of purged items not yet deleted stay in the outbox for the next run.");
    }

    @Test
    void shouldIndentEveryFurtherLine() {
        assertThat(Reports.indented("one\n  two\r\nthree\n", "- ", "    ")).isEqualTo("- one\n    two\n    three\n");
    }
}
