package dev.reclaim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.SentryIngest;
import io.sentry.Sentry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code reclaim run --scheduled}: a CLI run started by cron, a CronJob or an ECS task is the schedule's, in the ledger
 * and in Sentry Crons, exactly as the Lambda's scheduled runs are.
 */
class ScheduledCliRunIT {
    @RegisterExtension
    static final SentryIngest ingest = SentryIngest.perClass();
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 0);
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() {
        fx.env().put("SENTRY_DSN", ingest.dsn());
        fx.env().put("RECLAIM_SENTRY_MONITOR", "nightly-reclaim");
        fx.env().put("RECLAIM_SCHEDULE_CRONTAB", "30 2 * * *");
    }

    @AfterEach
    void tearDown() {
        Sentry.close();
        ingest.clear();
    }

    private int cli(Map<String, String> env, String... args) {
        return ReclaimCli.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void shouldRecordTheScheduleAsTrigger_andCheckInInProgressThenOk() throws Exception {
        int code = cli(fx.env(), "run", "--scheduled", "--sweep", "moc-purge", "--json");
        List<JsonNode> checkIns = ingest.checkIns(); // no waiting: the CLI flushed before it returned

        assertThat(code).isZero();
        JsonNode report = Reports.JSON.readTree(out.toString());
        assertThat(report.get("trigger").asText()).isEqualTo("schedule:cli");
        assertThat(fx.strings("SELECT trigger FROM reclaim.runs")).containsExactly("schedule:cli");
        assertThat(checkIns).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "ok");
        assertThat(checkIns).extracting(c -> c.get("monitor_slug").asText()).containsOnly("nightly-reclaim");
        assertThat(checkIns.get(1).get("check_in_id").asText()).isEqualTo(checkIns.get(0).get("check_in_id").asText());
        assertThat(checkIns.get(0).get("monitor_config").get("schedule").get("value").asText()).isEqualTo("30 2 * * *");
        assertThat(checkIns.get(1).get("duration").asDouble()).isPositive();
    }

    @Test
    void shouldCheckInError_whenTheScheduledRunFails() {
        Map<String, String> env = new HashMap<>(fx.env());
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://127.0.0.1:1/app?connectTimeout=2");
        env.put("RECLAIM_DB_CONNECT_TIMEOUT", "1s");

        int code = cli(env, "run", "--scheduled");

        assertThat(code).isEqualTo(1);
        assertThat(ingest.checkIns()).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "error");
    }

    @Test
    void shouldNotCheckIn_whenTheRunIsNotScheduled() throws Exception {
        assertThat(cli(fx.env(), "run", "--sweep", "moc-purge")).isZero();

        assertThat(ingest.checkIns()).isEmpty();
        assertThat(fx.strings("SELECT trigger FROM reclaim.runs")).containsExactly("cli");
    }
}
