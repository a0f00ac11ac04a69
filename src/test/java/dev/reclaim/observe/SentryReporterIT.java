package dev.reclaim.observe;

import dev.reclaim.config.Settings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunLockLost;
import dev.reclaim.testing.SentryIngest;
import io.sentry.Sentry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** What the run-event stream sends to Sentry, received by a local stand-in for the ingest endpoint. */
class SentryReporterIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @RegisterExtension
    static final SentryIngest ingest = SentryIngest.perClass();

    private SentryReporter reporter;

    @AfterEach
    void closeSentry() {
        Sentry.close();
        ingest.clear();
    }

    private SentryReporter reporter(Map<String, String> more) {
        Map<String, String> env = new HashMap<>(Map.of("SENTRY_DSN", ingest.dsn(), "SENTRY_ENVIRONMENT", "staging"));
        env.putAll(more);
        return SentryReporter.from(Settings.Sentry.from(env)).orElseThrow();
    }

    private static RunEvent.RunStarted started(UUID runId, String trigger) {
        return new RunEvent.RunStarted(runId, trigger, false, List.of("moc-purge"));
    }

    private static RunEvent.RunFinished finished(UUID runId, String trigger, Outcome outcome, String reason) {
        Instant now = Instant.now();
        return new RunEvent.RunFinished(new RunReport(runId.toString(), trigger, false, outcome, reason, now, now, 0,
                List.of(), null, null, null, null, null));
    }

    private static RunEvent.ItemFailed itemFailed(String sweep, String item, String errorClass) {
        return new RunEvent.ItemFailed(sweep, item, "return-bricks", "ERROR: canceling statement due to lock timeout",
                errorClass, false);
    }

    @Test
    void shouldCaptureAFailedItem_withItsTagsAndAFingerprintOfSweepAndErrorClass() throws Exception {
        reporter = reporter(Map.of());
        UUID runId = UUID.randomUUID();

        reporter.emit(started(runId, "cli"));
        reporter.emit(new RunEvent.Phase("lock", null));
        reporter.emit(new RunEvent.PageListed("moc-purge", null, 100));
        reporter.emit(itemFailed("moc-purge", "42", "org.postgresql.util.PSQLException"));
        reporter.emit(finished(runId, "cli", Outcome.COMPLETED, null));
        SentryReporter.flush();

        List<JsonNode> events = ingest.await("event", e -> true, 1, WAIT);
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("level").asText()).isEqualTo("error");
        assertThat(event.get("tags").get("sweep").asText()).isEqualTo("moc-purge");
        assertThat(event.get("tags").get("kind").asText()).isEqualTo("record");
        assertThat(event.get("tags").get("runId").asText()).isEqualTo(runId.toString());
        assertThat(event.get("tags").has("store")).isFalse(); // a records sweep's item fails in the database
        assertThat(texts(event.get("fingerprint")))
                .containsExactly("item-failed", "moc-purge", "record", "org.postgresql.util.PSQLException");
        JsonNode exception = event.get("exception").get("values").get(0);
        assertThat(exception.get("type").asText()).isEqualTo("PSQLException");
        assertThat(exception.get("value").asText()).contains("lock timeout");
        assertThat(event.get("extra").get("item").asText()).isEqualTo("42");
        assertThat(event.get("environment").asText()).isEqualTo("staging");
        assertThat(event.get("release").asText()).isEqualTo("reclaim@" + Release.version());
        assertThat(breadcrumbCategories(event)).containsSubsequence("run", "phase", "page");
        assertThat(ingest.authHeaders()).allMatch(h -> h.contains("sentry_key=publickey"));
    }

    @Test
    void shouldSendOneEventPerFingerprintAndRun_whenTenThousandItemsFailTheSameWay() throws Exception {
        reporter = reporter(Map.of());
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();

        reporter.emit(started(first, "cli"));
        for (int i = 0; i < 10_000; i++) {
            reporter.emit(itemFailed("moc-purge", String.valueOf(i), "org.postgresql.util.PSQLException"));
        }
        for (int i = 0; i < 500; i++) {
            reporter.emit(new RunEvent.KeysFailed("moc-purge", "moc-files", Map.of("mocs/" + i + "/a.pdf", "503 SlowDown"),
                    "software.amazon.awssdk.services.s3.model.S3Exception", RunEvent.Source.OUTBOX));
        }
        reporter.emit(finished(first, "cli", Outcome.COMPLETED, null));
        reporter.emit(started(second, "cli"));
        reporter.emit(itemFailed("moc-purge", "7", "org.postgresql.util.PSQLException"));
        reporter.emit(finished(second, "cli", Outcome.COMPLETED, null));
        SentryReporter.flush();

        List<JsonNode> events = ingest.await("event", e -> true, 4, Duration.ofSeconds(1)); // flushed: what is not here will not come
        assertThat(events).hasSize(3);
        assertThat(events).extracting(e -> e.get("tags").get("runId").asText())
                .containsExactly(first.toString(), first.toString(), second.toString());
        assertThat(events).extracting(e -> texts(e.get("fingerprint"))).containsExactly(
                List.of("item-failed", "moc-purge", "record", "org.postgresql.util.PSQLException"),
                List.of("item-failed", "moc-purge", "deletion", "software.amazon.awssdk.services.s3.model.S3Exception"),
                List.of("item-failed", "moc-purge", "record", "org.postgresql.util.PSQLException"));
        JsonNode deletion = events.get(1);
        assertThat(deletion.get("tags").get("store").asText()).isEqualTo("moc-files");
        assertThat(deletion.get("tags").get("kind").asText()).isEqualTo("deletion");
        assertThat(deletion.get("exception").get("values").get(0).get("value").asText()).isEqualTo("503 SlowDown");
    }

    @Test
    void shouldCaptureReferenceChecksThatCannotBeTrusted_asErrors() throws Exception {
        reporter = reporter(Map.of());
        UUID runId = UUID.randomUUID();

        reporter.emit(started(runId, "cli"));
        reporter.emit(new RunEvent.SweepStopped("bobblehead-temp-photos", "referenceCheckFailed",
                "sweep bobblehead-temp-photos: the reference query returned 'x', which it was not asked about", null));
        reporter.emit(new RunEvent.SweepStopped("moc-purge", "timeBudget", null, null));
        reporter.emit(new RunEvent.DrainStopped("moc-files", "store moc-files: the reference query returned 'y'"));
        reporter.emit(finished(runId, "cli", Outcome.COMPLETED, null));
        SentryReporter.flush();

        List<JsonNode> events = ingest.await("event", e -> true, 3, Duration.ofSeconds(1)); // flushed: what is not here will not come
        assertThat(events).hasSize(2);
        assertThat(events).allSatisfy(e -> {
            assertThat(e.get("level").asText()).isEqualTo("error");
            assertThat(e.get("tags").get("failure").asText()).isEqualTo("referenceCheckFailed");
            assertThat(e.get("tags").get("runId").asText()).isEqualTo(runId.toString());
        });
        assertThat(texts(events.get(0).get("fingerprint")))
                .containsExactly("reference-check-failed", "sweep", "bobblehead-temp-photos");
        assertThat(events.get(0).get("tags").get("sweep").asText()).isEqualTo("bobblehead-temp-photos");
        assertThat(texts(events.get(1).get("fingerprint"))).containsExactly("reference-check-failed", "store", "moc-files");
        assertThat(events.get(1).get("tags").get("store").asText()).isEqualTo("moc-files");
    }

    @Test
    void shouldCaptureTheExceptionThatFailedARun_withTheRunId_andCheckInError() throws Exception {
        reporter = reporter(Map.of("RECLAIM_SCHEDULE_CRONTAB", "30 2 * * *", "RECLAIM_SENTRY_MONITOR", "reclaim-nightly"));
        UUID runId = UUID.randomUUID();
        String trigger = "schedule:arn:aws:events:us-east-1:123456789012:rule/reclaim-daily";

        reporter.emit(started(runId, trigger));
        reporter.emit(new RunEvent.Phase("lock", null));
        reporter.emit(new RunEvent.RunFailed("lost the run lock",
                new RunLockLost("lost the run lock: its connection is gone", null)));
        reporter.emit(finished(runId, trigger, Outcome.FAILED, "lost the run lock"));
        SentryReporter.flush();

        List<JsonNode> events = ingest.await("event", e -> true, 1, WAIT);
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("tags").get("runId").asText()).isEqualTo(runId.toString());
        assertThat(event.get("tags").get("failure").asText()).isEqualTo("lostRunLock");
        assertThat(event.get("level").asText()).isEqualTo("error");
        assertThat(texts(event.get("fingerprint"))).containsExactly("run-failed", "dev.reclaim.run.RunLockLost");
        JsonNode exception = event.get("exception").get("values").get(0);
        assertThat(exception.get("type").asText()).isEqualTo("RunLockLost");
        assertThat(exception.get("stacktrace").get("frames").size()).isPositive();

        List<JsonNode> checkIns = ingest.await("check_in", c -> true, 2, WAIT);
        assertThat(checkIns).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "error");
        assertThat(checkIns).extracting(c -> c.get("monitor_slug").asText()).containsOnly("reclaim-nightly");
        assertThat(checkIns.get(1).get("check_in_id").asText()).isEqualTo(checkIns.get(0).get("check_in_id").asText());
        assertThat(checkIns.get(1).get("duration").asDouble()).isGreaterThanOrEqualTo(0.0);
        assertThat(checkIns.get(0).get("monitor_config").get("schedule").get("value").asText()).isEqualTo("30 2 * * *");
    }

    @Test
    void shouldCheckInInProgressThenOk_withTheMonitorConfiguration_forAScheduledRun() throws Exception {
        reporter = reporter(Map.of("RECLAIM_SENTRY_CHECKIN_MARGIN", "10m", "RECLAIM_SENTRY_MAX_RUNTIME", "90s",
                "RECLAIM_SCHEDULE_TIMEZONE", "Europe/Paris"));
        UUID runId = UUID.randomUUID();

        reporter.emit(started(runId, "schedule"));
        Thread.sleep(50);
        reporter.emit(finished(runId, "schedule", Outcome.INCOMPLETE, "time budget reached"));
        SentryReporter.flush();

        List<JsonNode> checkIns = ingest.await("check_in", c -> true, 2, WAIT);
        assertThat(checkIns).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "ok");
        assertThat(checkIns.get(1).get("check_in_id").asText()).isEqualTo(checkIns.get(0).get("check_in_id").asText());
        assertThat(checkIns.get(1).get("duration").asDouble()).isBetween(0.05, 5.0);
        assertThat(checkIns).allSatisfy(c -> {
            assertThat(c.get("monitor_slug").asText()).isEqualTo("reclaim-cleanup");
            assertThat(c.get("environment").asText()).isEqualTo("staging");
            assertThat(c.get("release").asText()).isEqualTo("reclaim@" + Release.version());
            JsonNode config = c.get("monitor_config");
            assertThat(config.get("schedule").get("type").asText()).isEqualTo("crontab");
            assertThat(config.get("schedule").get("value").asText()).isEqualTo("0 3 * * *");
            assertThat(config.get("checkin_margin").asLong()).isEqualTo(10);
            assertThat(config.get("max_runtime").asLong()).isEqualTo(2);
            assertThat(config.get("timezone").asText()).isEqualTo("Europe/Paris");
        });
        assertThat(ingest.events()).isEmpty();
    }

    @Test
    void shouldNotCheckIn_whenTheRunWasNotScheduled() throws Exception {
        reporter = reporter(Map.of());
        for (String trigger : new String[] {"cli", "lambda", "manual"}) {
            UUID runId = UUID.randomUUID();
            reporter.emit(started(runId, trigger));
            reporter.emit(finished(runId, trigger, Outcome.COMPLETED, null));
        }
        reporter.emit(itemFailed("moc-purge", "1", "java.sql.SQLException")); // something that is sent
        SentryReporter.flush();

        assertThat(ingest.await("event", e -> true, 1, WAIT)).hasSize(1);
        assertThat(ingest.checkIns()).isEmpty();
    }

    @Test
    void shouldStartEachRunWithItsOwnBreadcrumbs_andSumThePurgesBetweenPhases() throws Exception {
        reporter = reporter(Map.of());
        UUID first = UUID.randomUUID();
        UUID second = UUID.randomUUID();
        reporter.emit(started(first, "cli"));
        reporter.emit(new RunEvent.Phase("drain", "from an earlier run"));
        reporter.emit(finished(first, "cli", Outcome.COMPLETED, null));

        reporter.emit(started(second, "cli"));
        reporter.emit(new RunEvent.Phase("lock", null));
        reporter.emit(new RunEvent.SweepStarted("moc-purge", "records", Instant.now()));
        reporter.emit(new RunEvent.PageListed("moc-purge", null, 3));
        for (int i = 0; i < 3; i++) {
            reporter.emit(new RunEvent.ItemPurged("moc-purge", String.valueOf(i), Map.of(), Map.of()));
        }
        reporter.emit(new RunEvent.Phase("drain", null));
        reporter.emit(new RunEvent.KeysDeleted("moc-purge", "moc-files", List.of("a", "b"), 0, RunEvent.Source.OUTBOX));
        reporter.emit(new RunEvent.FailuresSent(2));
        reporter.emit(itemFailed("moc-purge", "9", "java.sql.SQLException"));
        SentryReporter.flush();

        JsonNode event = ingest.await("event", e -> true, 1, WAIT).get(0);
        List<JsonNode> crumbs = breadcrumbs(event);
        assertThat(crumbs).extracting(c -> c.get("category").asText())
                .containsExactly("run", "phase", "sweep", "page", "purge", "phase", "purge", "publish", "purge");
        assertThat(crumbs.get(4).get("data").get("purged").asLong()).isEqualTo(3);
        assertThat(crumbs.get(6).get("data").get("keysDeleted").asLong()).isEqualTo(2);
        assertThat(crumbs.get(8).get("data").get("failed").asLong()).isEqualTo(1);
        assertThat(crumbs.get(0).get("data").get("runId").asText()).isEqualTo(second.toString());
    }

    @Test
    void shouldKeepCredentialsOutOfEvents() throws Exception {
        reporter = reporter(Map.of("RECLAIM_DB_PASSWORD", "hunter2-secret"));
        UUID runId = UUID.randomUUID();

        reporter.emit(started(runId, "cli"));
        reporter.emit(new RunEvent.RunFailed("cannot reach the database",
                new SQLException("FATAL: password authentication failed, url postgresql://reclaim:hunter2-secret@db/x")));
        SentryReporter.flush();

        JsonNode event = ingest.await("event", e -> true, 1, WAIT).get(0);
        assertThat(event.toString()).doesNotContain("hunter2-secret").contains("password authentication failed");
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<JsonNode> breadcrumbs(JsonNode event) {
        JsonNode b = event.path("breadcrumbs");
        JsonNode values = b.isArray() ? b : b.path("values");
        List<JsonNode> out = new ArrayList<>();
        values.forEach(out::add);
        return out;
    }

    private static List<String> breadcrumbCategories(JsonNode event) {
        return breadcrumbs(event).stream().map(c -> c.path("category").asText()).toList();
    }
}
