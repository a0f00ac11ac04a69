package dev.reclaim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI's contract: exit codes, stdout for the report, a clear error and nothing deleted on bad configuration. */
class ReclaimCliIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9);
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int cli(Map<String, String> env, String... args) {
        return ReclaimCli.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void shouldRunAndPrintTheSummary_exit0() throws Exception {
        int code = cli(fx.env(), "run", "--sweep", "moc-purge");

        assertThat(code).isZero();
        assertThat(out.toString()).contains("outcome: completed", "sweep moc-purge", "purged 6", "bricksReturned 30");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'")).isZero();
    }

    @Test
    void shouldPrintTheJsonReport() throws Exception {
        int code = cli(fx.env(), "run", "--dry-run", "--json");

        assertThat(code).isZero();
        var report = Reports.JSON.readTree(out.toString());
        assertThat(report.get("dryRun").asBoolean()).isTrue();
        assertThat(report.get("sweeps").get(1).get("wouldPurge").asLong()).isEqualTo(3);
        // an assets sweep would delete, never purge; nothing in a dry run's report says it was done
        JsonNode assets = report.get("sweeps").get(2);
        assertThat(assets.get("kind").asText()).isEqualTo("assets");
        assertThat(assets.has("wouldDelete")).isTrue();
        assertThat(report.toString()).doesNotContain("\"purged\"", "\"bytesReclaimed\"", "\"keysCollected\"");
        assertThat(assets.has("wouldPurge")).isFalse();
    }

    @Test
    void shouldExit1WithAClearMessageWhenTheDatabaseIsUnreachable() throws Exception {
        Map<String, String> env = new HashMap<>(fx.env());
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://127.0.0.1:1/app?connectTimeout=2");
        env.put("RECLAIM_DB_CONNECT_TIMEOUT", "1s");
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        int code = cli(env, "run");

        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).contains("outcome: failed");
        assertThat(err.toString()).contains("the run failed: cannot reach the database: Connection refused");
        assertThat(out.toString()).contains("  no sweep started: the run failed before its first sweep\n")
                .endsWith("The run FAILED (cannot reach the database: Connection refused), after purging 0 items and "
                        + "deleting 0 files; files of purged items not yet deleted stay in the outbox for the next run.\n");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @Test
    void shouldKeepAMultiLineDatabaseErrorUnderItsItem_inTheSummary() throws Exception {
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = (SELECT id FROM moc_instructions "
                + "WHERE deleted_at < now() - interval '30 days' ORDER BY id LIMIT 1)");
        fx.refuseToDeletePoisonMocs();

        int code = cli(fx.env(), "run", "--sweep", "moc-purge");

        assertThat(code).isZero();
        assertThat(out.toString()).containsPattern("(?m)^    FAILED \\S+ at delete-moc: .*refusing to delete poison MOC\n"
                + "      Where: PL/pgSQL function refuse_poison\\(\\) line \\d+ at RAISE$");
    }

    @Test
    void shouldExit2OnInvalidUsage() {
        assertThat(cli(fx.env(), "run", "--sweep", "nope")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown sweep 'nope'", "Nothing was run");
        assertThat(cli(fx.env(), "run", "--max-duration", "ten minutes")).isEqualTo(2);
        assertThat(cli(fx.env(), "run", "--no-such-flag")).isEqualTo(2);
    }

    @Test
    void shouldExit2AndDeleteNothingWhenASqlStatementDoesNotPrepare() throws Exception {
        Path config = Files.createTempFile("reclaim", ".yaml");
        Files.writeString(config, Files.readString(Path.of("config/reclaim.yaml"))
                .replace("sql: DELETE FROM moc_instructions WHERE id = :id", "sql: DELETE FROM moc_instruction WHERE id = :id"));
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        int code = cli(fx.env(), "run", "--config", config.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains(config + ": sweeps.moc-purge.steps[4] (delete-moc).sql: does not prepare against the database",
                "relation \"moc_instruction\" does not exist", "Nothing was run and nothing was deleted.");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @Test
    void shouldExit2WhenTheEligibilityQueryHasNoIdColumn() throws Exception {
        Path config = Files.createTempFile("reclaim", ".yaml");
        Files.writeString(config, Files.readString(Path.of("config/reclaim.yaml"))
                .replace("SELECT j.id FROM render_jobs j\n      WHERE j.status = 'completed' AND j.completed_at < :cutoff",
                        "SELECT j.output_key FROM render_jobs j\n      WHERE j.status = 'completed' AND j.completed_at < :cutoff"));
        assertThat(Files.readString(config)).contains("SELECT j.output_key");

        int code = cli(fx.env(), "run", "--config", config.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("sweeps.render-outputs.eligible: the eligibility query must return a column named id");
    }

    @Test
    void shouldExit2WhenACollectingStepReturnsNoRows() throws Exception {
        Path config = Files.createTempFile("reclaim", ".yaml");
        Files.writeString(config, Files.readString(Path.of("config/reclaim.yaml"))
                .replace("sql: DELETE FROM render_jobs WHERE id = :id RETURNING output_key",
                        "sql: DELETE FROM render_jobs WHERE id = :id"));

        int code = cli(fx.env(), "run", "--config", config.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("sweeps.render-outputs.steps[0] (delete-job).sql: returns no rows, but the step collects keys");
    }

    @Test
    void shouldExit2OnAnInvalidConfigurationFile() throws Exception {
        Map<String, String> env = new HashMap<>(fx.env());
        env.put("RECLAIM_MOC_RETENTION", "a month");

        int code = cli(env, "run");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("config/reclaim.yaml: sweeps.moc-purge.olderThan: 'a month' is not a duration");
    }

    // ---- item 9: RECLAIM_DRY_RUN is read strictly ---------------------------------------------------------------

    private Map<String, String> envWith(String name, String value) {
        Map<String, String> env = new HashMap<>(fx.env());
        env.put(name, value);
        return env;
    }

    @Test
    void shouldDryRun_whenTheEnvironmentSaysDryRunAs1OrYes() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        for (String value : new String[] {"1", "YES ", " True"}) {
            out.getBuffer().setLength(0);

            int code = cli(envWith("RECLAIM_DRY_RUN", value), "run", "--json");

            assertThat(code).as(value).isZero();
            assertThat(Reports.JSON.readTree(out.toString()).get("dryRun").asBoolean()).as(value).isTrue();
            assertThat(ReferenceData.rowCounts(fx.db)).as(value).isEqualTo(rows);
        }
    }

    @Test
    void shouldRunForReal_whenTheEnvironmentSaysNoOr0OrNothing() throws Exception {
        int code = cli(envWith("RECLAIM_DRY_RUN", " no"), "run", "--sweep", "render-outputs");

        assertThat(code).isZero();
        assertThat(out.toString()).contains("outcome: completed", "purged 3");
        assertThat(cli(envWith("RECLAIM_DRY_RUN", "0"), "run", "--sweep", "render-outputs")).isZero();
        assertThat(cli(envWith("RECLAIM_DRY_RUN", ""), "run", "--sweep", "render-outputs")).isZero();
    }

    @Test
    void shouldExit2AndDeleteNothing_whenRECLAIM_DRY_RUNIsNoBoolean() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        int code = cli(envWith("RECLAIM_DRY_RUN", "maybe"), "run");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("RECLAIM_DRY_RUN: 'maybe' is not a boolean", "Nothing was run and nothing was deleted.");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(cli(envWith("RECLAIM_DRY_RUN", "maybe"), "run", "--dry-run")).isEqualTo(2);
        assertThat(cli(envWith("RECLAIM_DRY_RUN", "maybe"), "retry")).isEqualTo(2);
        assertThat(err.toString()).doesNotContain("RECLAIM_RETRY_QUEUE_URL");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "--max-duration    | PT-5M            | more than zero",
            "--max-duration    | 0s               | more than zero",
            "--max-duration    | -PT5M            | more than zero",
            "--max-duration    | 200000000000000d | at most 36500d",
            "--max-duration    | P200000000000000D| at most 36500d"})
    void shouldExit2NamingTheOption_whenADurationOptionIsNotPositiveOrOverflows(String option, String value, String why)
            throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        assertThat(cli(fx.env(), "run", option, value)).isEqualTo(2);

        assertThat(err.toString()).contains(option + ": ", why, "Nothing was run");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "RECLAIM_OUTBOX_BACKOFF      | PT-1M            | zero or more",
            "RECLAIM_OUTBOX_RETRY_PERIOD | -P1D             | zero or more",
            "RECLAIM_DB_CONNECT_TIMEOUT  | 0s               | more than zero",
            "RECLAIM_METRICS_TIMEOUT     | PT-10S           | more than zero",
            "RECLAIM_DB_CONNECT_TIMEOUT  | 200000000000000d | at most 36500d",
            "RECLAIM_MOC_RETENTION       | PT-5M            | more than zero",
            "RECLAIM_MOC_RETENTION       | 200000000000000d | at most 36500d"})
    void shouldExit2NamingTheInput_whenADurationInTheEnvironmentOrConfigurationIsOutOfRange(String variable,
                                                                                           String value, String why)
            throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        assertThat(cli(envWith(variable, value), "run")).isEqualTo(2);

        String named = variable.equals("RECLAIM_MOC_RETENTION") ? "moc-purge.olderThan" : variable;
        assertThat(err.toString()).contains(named, why);
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }
}
