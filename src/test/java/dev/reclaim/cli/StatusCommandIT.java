package dev.reclaim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code reclaim status}: what it reads from Reclaim's tables and queues, and that it never writes. */
class StatusCommandIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9);
    private StringWriter out = new StringWriter();
    private StringWriter err = new StringWriter();

    private int cli(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return ReclaimCli.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    /** Only the database's variables: no configuration file, and stores that could not be reached anyway. */
    private Map<String, String> databaseOnly() {
        Map<String, String> env = new HashMap<>(fx.env());
        env.put("RECLAIM_CONFIG", "/nonexistent/reclaim.yaml");
        env.put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1");
        env.put("CLOUDINARY_URL", "cloudinary://key:secret@nowhere");
        return env;
    }

    private boolean schemaExists() throws Exception {
        return fx.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'reclaim'") > 0;
    }

    @Test
    void shouldSaySoAndCreateNothing_whenReclaimNeverRanAgainstTheDatabase() throws Exception {
        int code = cli(databaseOnly(), "status");

        assertThat(code).isZero();
        assertThat(out.toString()).contains("no reclaim schema: Reclaim has never run against this database");
        assertThat(err.toString()).isEmpty();
        assertThat(cli(databaseOnly(), "status", "--json")).isZero();
        assertThat(Reports.JSON.readTree(out.toString()).get("schemaExists").asBoolean()).isFalse();
        assertThat(schemaExists()).isFalse();
    }

    @Test
    void shouldShowTheLastRunsThePendingDeletionsAndTheFailuresWaiting() throws Exception {
        assertThat(cli(fx.env(), "run", "--sweep", "render-outputs")).isZero();
        assertThat(cli(fx.env(), "run", "--sweep", "moc-purge")).isZero();
        fx.execute("""
                INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id, attempts, last_error, next_attempt_at)
                VALUES ('moc-files', 'mocs/1/a.pdf', 'moc-purge', gen_random_uuid(), 2, 'SlowDown: 503', now() + interval '20 minutes'),
                       ('moc-files', 'mocs/1/b.pdf', 'moc-purge', gen_random_uuid(), 2, 'SlowDown: 503', now() + interval '20 minutes'),
                       ('moc-files', 'mocs/1/c.pdf', 'moc-purge', gen_random_uuid(), 1, E'AccessDenied\\n  Where: bucket policy', now() + interval '5 minutes');
                INSERT INTO reclaim.failures (sweep, kind, item_id, error_class, error_message, run_id, correlation_id, first_failed_at, retry_count)
                VALUES ('moc-purge', 'record', '42', 'PSQLException', 'ERROR: refusing to delete poison MOC', gen_random_uuid(), 'r/42', now() - interval '2 hours', 3);
                """);

        int code = cli(databaseOnly(), "status");

        assertThat(code).isZero();
        String text = out.toString();
        assertThat(text).contains("Last 2 runs (reclaim.runs), newest first:", "completed", "cli");
        assertThat(text.indexOf("moc")).isGreaterThan(0);
        assertThat(text).containsPattern("(?m)^  STARTED +OUTCOME +TRIGGER +PURGED +FAILED +KEYS DELETED +DURATION +RUN$");
        assertThat(text).containsPattern("(?m)^  \\S+ \\S+ +completed +cli +6 +0 +\\d+ ");
        assertThat(text).containsPattern("(?m)^  moc-files +3 +3 +.* ago +in 4m \\d\\ds$");
        assertThat(text).contains("      2 keys: SlowDown: 503\n", "      1 key: AccessDenied\n        Where: bucket policy\n");
        assertThat(text).contains("1 failures waiting in reclaim.failures");
        assertThat(text).containsPattern("(?m)^  moc-purge +record +1 +2h 00m ago +3$");
        assertThat(text).contains("      last error: PSQLException: ERROR: refusing to delete poison MOC");
        assertThat(text).contains("No retry queue (RECLAIM_RETRY_QUEUE_URL unset)");
        // what the last run found of each store: the test buckets keep no versions, the emulator account no backups
        assertThat(text).contains("Store moc-files: deletions cannot be undone: bucket " + fx.mocBucket
                + " does not keep versions", "Store bobblehead-photos: deletions cannot be undone: Cloudinary account");
        assertThat(text).contains("No pending approvals (reclaim approve).");

        assertThat(cli(databaseOnly(), "status", "--runs", "1", "--json")).isZero();
        JsonNode json = Reports.JSON.readTree(out.toString());
        assertThat(json.get("runs")).hasSize(1);
        assertThat(json.get("runs").get(0).get("purged").asLong()).isEqualTo(6);
        assertThat(json.get("runs").get(0).get("trigger").asText()).isEqualTo("cli");
        assertThat(json.get("pendingDeletions").get(0).get("keys").asLong()).isEqualTo(3);
        assertThat(json.get("pendingDeletions").get(0).get("topErrors").get(0).get("error").asText()).isEqualTo("SlowDown: 503");
        assertThat(json.get("failures").get(0).get("count").asLong()).isEqualTo(1);
    }

    @Test
    void shouldShowWhyARunFailed_underItsRow() throws Exception {
        assertThat(cli(fx.env(), "run", "--sweep", "render-outputs")).isZero();
        fx.execute("UPDATE reclaim.runs SET outcome = 'failed', reason = E'database error: ERROR: boom\\n  Where: PL/pgSQL function f() line 3'");

        assertThat(cli(databaseOnly(), "status")).isZero();

        assertThat(out.toString()).contains("      why: database error: ERROR: boom\n        Where: PL/pgSQL function f() line 3\n");
    }

    @Test
    void shouldShowTheRetryAndDeadLetterQueuesDepths() throws Exception {
        TestSqs.QueuePair queues = TestSqs.createQueuePair("status", 3);
        TestSqs.client().sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody("{}"));
        TestSqs.client().sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody("{}"));
        TestSqs.client().sendMessage(b -> b.queueUrl(queues.deadLetterQueueUrl()).messageBody("{}"));
        Map<String, String> env = databaseOnly();
        env.putAll(TestSqs.environment());
        env.put("RECLAIM_RETRY_QUEUE_URL", queues.queueUrl());
        env.put("RECLAIM_DLQ_URL", queues.deadLetterQueueUrl());

        assertThat(cli(env, "status")).isZero();

        assertThat(out.toString()).containsPattern("(?m)^  RECLAIM_RETRY_QUEUE_URL +2 +" + queues.queueUrl() + "$")
                .containsPattern("(?m)^  RECLAIM_DLQ_URL +1 +" + queues.deadLetterQueueUrl() + "$");
        assertThat(cli(env, "status", "--json")).isZero();
        assertThat(Reports.JSON.readTree(out.toString()).get("queues").get(1).get("messages").asLong()).isEqualTo(1);
    }

    @Test
    void shouldExit1WithOneLine_whenTheDatabaseCannotBeReached() {
        Map<String, String> env = databaseOnly();
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://127.0.0.1:1/app?connectTimeout=2");
        env.put("RECLAIM_DB_CONNECT_TIMEOUT", "1s");

        int code = cli(env, "status");

        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).startsWith("reclaim: cannot reach the database: Connection refused").hasLineCount(1);
    }

    @Test
    void shouldExit2_whenRunsIsNotPositive() {
        assertThat(cli(databaseOnly(), "status", "--runs", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--runs must be at least 1");
    }
}
