package dev.reclaim.handler;

import dev.reclaim.testing.TestSettings;
import dev.reclaim.config.Settings;

import dev.reclaim.testing.FakeLambdaContext;

import com.fasterxml.jackson.databind.JsonNode;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.tests.EventLoader;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.SentryIngest;
import dev.reclaim.testing.TestSqs;
import io.sentry.Sentry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The scheduled handler with SENTRY_DSN set, wired by Reclaim.from as in Lambda: what reaches Sentry by the
 * time the handler returns (it flushes), and how long an unreachable Sentry may hold it.
 */
class SentryHandlersIT {
    private static final String SCHEDULED_MOC_PURGE = "{\"trigger\": \"schedule\", \"sweeps\": [\"moc-purge\"]}";
    @RegisterExtension
    static final SentryIngest ingest = SentryIngest.perClass();

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 0); // 12 expired MOCs

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        fx.env().put("SENTRY_DSN", ingest.dsn());
    }

    @AfterEach
    void tearDown() {
        Sentry.close();
        ingest.clear();
    }

    private static JsonNode invoke(Reclaim reclaim, Map<String, String> env, String input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new ScheduledRunHandler(reclaim, TestSettings.of(env)).handleRequest(
                new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out, new FakeLambdaContext("test-request", 900_000));
        return Reports.JSON.readTree(out.toByteArray());
    }

    @Test
    void shouldHaveCheckedInInProgressThenOk_byTheTimeTheScheduledHandlerReturns() throws Exception {
        byte[] scheduledEvent = Files.readAllBytes(Path.of("events/scheduled-event.json"));
        ingest.latency(Duration.ofMillis(700));
        JsonNode report;
        List<JsonNode> checkIns;
        try (Reclaim reclaim = fx.reclaim()) {
            report = invoke(reclaim, fx.env(), new String(scheduledEvent, StandardCharsets.UTF_8));
            checkIns = ingest.checkIns(); // no waiting: the handler flushed before it returned
        }

        assertThat(report.get("outcome").asText()).isEqualTo("completed");
        assertThat(checkIns).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "ok");
        assertThat(checkIns.get(1).get("check_in_id").asText()).isEqualTo(checkIns.get(0).get("check_in_id").asText());
        assertThat(checkIns.get(1).get("duration").asDouble()).isPositive()
                .isLessThanOrEqualTo(report.get("durationMs").asDouble() / 1000 + 1);
        assertThat(checkIns.get(0).get("monitor_config").get("schedule").get("value").asText()).isEqualTo("0 3 * * *");
        assertThat(ingest.events()).isEmpty();
    }

    @Test
    void shouldReportToSentry_whenTheRunsMetricsCannotBePublished_andStillCompleteTheRun() throws Exception {
        fx.env().put("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:1"); // nothing listens there
        fx.env().put("RECLAIM_METRICS_TIMEOUT", "2s");
        JsonNode report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE);
        }

        assertThat(report.get("outcome").asText()).isEqualTo("completed");
        assertThat(ingest.events()).anySatisfy(e ->
                assertThat(e.get("tags").get("failure").asText()).isEqualTo("metricsNotPublished"));
        assertThat(ingest.checkIns()).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "ok");
    }

    @Test
    void shouldSendOneEvent_whenEveryDeleteOfAStoreFailsTheSameWay() throws Exception {
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                return BatchResult.allFailed(keys, "AccessDenied: not authorized to perform s3:DeleteObject");
            }
        });

        JsonNode report;
        try (Reclaim reclaim = fx.reclaim(new Stores(stores, real))) {
            reclaim.listen(SentryReporter.from(Settings.Sentry.from(fx.env())).orElseThrow());
            report = invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE);
        }

        assertThat(report.get("outcome").asText()).isEqualTo("completed");
        assertThat(report.get("outbox").get("failed").get("moc-files").asLong()).isGreaterThan(12);
        List<JsonNode> events = ingest.events();
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("tags").get("runId").asText()).isEqualTo(report.get("runId").asText());
        assertThat(event.get("tags").get("store").asText()).isEqualTo("moc-files");
        assertThat(event.get("tags").get("sweep").asText()).isEqualTo("moc-purge");
        assertThat(event.get("tags").get("kind").asText()).isEqualTo("deletion");
        assertThat(event.get("fingerprint").get(0).asText()).isEqualTo("item-failed");
        assertThat(event.get("exception").get("values").get(0).get("value").asText()).contains("AccessDenied");
        assertThat(ingest.checkIns()).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "ok");
    }

    @Test
    void shouldCaptureTheLostRunLockAsAnError_andCheckInError() throws Exception {
        AtomicInteger terminated = new AtomicInteger();
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                if (terminated.get() == 0) {
                    terminated.set(terminateLockHolder());
                }
                return super.delete(keys, deadline);
            }
        });

        try (Reclaim reclaim = fx.reclaim(new Stores(stores, real))) {
            reclaim.listen(SentryReporter.from(Settings.Sentry.from(fx.env())).orElseThrow());
            assertThatThrownBy(() -> invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("lost the run lock");
        }

        assertThat(terminated.get()).isEqualTo(1);
        List<JsonNode> events = ingest.events();
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("level").asText()).isEqualTo("error");
        assertThat(event.get("tags").get("failure").asText()).isEqualTo("lostRunLock");
        assertThat(event.get("tags").get("runId").asText()).isEqualTo(
                fx.strings("SELECT id::text FROM reclaim.runs WHERE outcome = 'failed'").get(0));
        JsonNode exceptions = event.get("exception").get("values"); // the cause first, the exception thrown last
        assertThat(exceptions.get(exceptions.size() - 1).get("type").asText()).isEqualTo("RunLockLost");
        assertThat(ingest.checkIns()).extracting(c -> c.get("status").asText()).containsExactly("in_progress", "error");
    }

    @Test
    void shouldSendTheInitialisationError_whenTheContainerCannotBeBuilt() {
        fx.env().put("RECLAIM_CONFIG", "config/no-such-file.yaml");

        assertThatThrownBy(() -> SnapStartHook.start(fx.env(), Reclaim::from))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read the configuration file");

        List<JsonNode> events = ingest.events(); // no waiting: the error was flushed before it was thrown on
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.get("level").asText()).isEqualTo("error");
        assertThat(event.get("tags").get("failure").asText()).isEqualTo("initFailed");
        assertThat(event.get("fingerprint")).extracting(JsonNode::asText)
                .containsExactly("init-failed", "dev.reclaim.config.ConfigException");
        assertThat(event.get("exception").get("values").get(0).get("type").asText()).isEqualTo("ConfigException");
    }

    @Test
    void shouldSendTheInitialisationError_whenItComesBeforeSentryIsStarted() {
        // Secrets are read before SENTRY_DSN (which may be one of them) is used: a plain SENTRY_DSN still reports.
        fx.env().put("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://secrets manager:4566");
        fx.env().put("RECLAIM_DB_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf");

        assertThatThrownBy(() -> SnapStartHook.start(fx.env(), Reclaim::from))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("AWS_ENDPOINT_URL_SECRETS_MANAGER");

        assertThat(ingest.events()).singleElement().satisfies(e -> {
            assertThat(e.get("tags").get("failure").asText()).isEqualTo("initFailed");
            assertThat(e.get("exception").get("values").get(0).get("value").asText())
                    .contains("AWS_ENDPOINT_URL_SECRETS_MANAGER");
        });
    }

    @Test
    void shouldSendTheRetryHandlersInitialisationError_whenRECLAIM_DRY_RUNIsNoBoolean() {
        fx.env().put("RECLAIM_DRY_RUN", "maybe");
        List<Reclaim> built = new java.util.ArrayList<>();

        assertThatThrownBy(() -> new RetryHandler(fx.env(), settings -> keep(built, Reclaim.from(settings))))
                .isInstanceOf(dev.reclaim.run.UsageException.class)
                .hasMessageContaining("RECLAIM_DRY_RUN: 'maybe' is not a boolean");

        assertThat(built).as("nothing built before the dry-run flag was read").isEmpty();
        assertThat(ingest.events()).singleElement().satisfies(e -> { // no waiting: flushed before it was thrown on
            assertThat(e.get("tags").get("failure").asText()).isEqualTo("initFailed");
            assertThat(e.get("fingerprint")).extracting(JsonNode::asText)
                    .containsExactly("init-failed", "dev.reclaim.run.UsageException");
            assertThat(e.get("exception").get("values").get(0).get("value").asText()).contains("RECLAIM_DRY_RUN");
        });
    }

    @Test
    void shouldSendTheRetryHandlersInitialisationError_whenRECLAIM_RETRY_QUEUE_URLIsMissing() {
        fx.env().remove("RECLAIM_RETRY_QUEUE_URL");
        List<Reclaim> built = new java.util.ArrayList<>();

        try {
            assertThatThrownBy(() -> new RetryHandler(fx.env(), settings -> keep(built, Reclaim.from(settings))))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("RECLAIM_RETRY_QUEUE_URL is not set");
        } finally {
            built.forEach(Reclaim::close);
        }

        assertThat(ingest.events()).singleElement().satisfies(e -> {
            assertThat(e.get("tags").get("failure").asText()).isEqualTo("initFailed");
            assertThat(e.get("fingerprint")).extracting(JsonNode::asText)
                    .containsExactly("init-failed", "dev.reclaim.config.ConfigException");
            assertThat(e.get("exception").get("values").get(0).get("value").asText()).contains("RECLAIM_RETRY_QUEUE_URL");
        });
    }

    private static Reclaim keep(List<Reclaim> built, Reclaim reclaim) {
        built.add(reclaim);
        return reclaim;
    }

    @Test
    void shouldThrowTheInitialisationErrorAsItIs_whenSentryIsNotConfigured() {
        fx.env().remove("SENTRY_DSN");
        fx.env().put("RECLAIM_CONFIG", "config/no-such-file.yaml");

        assertThatThrownBy(() -> SnapStartHook.start(fx.env(), Reclaim::from))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read the configuration file")
                .hasNoSuppressedExceptions();
        assertThat(ingest.events()).isEmpty();
    }

    @Test
    void shouldHoldTheHandlerAtMostTheFlushTimeout_whenSentryCannotBeReached() throws Exception {
        fx.env().put("RECLAIM_SENTRY_FLUSH_TIMEOUT", "1s");
        fx.env().remove("SENTRY_DSN");
        long baseline;
        try (Reclaim reclaim = fx.reclaim()) {
            invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE.replace("{", "{\"dryRun\": true, "));  // warm, no Sentry
            long start = System.nanoTime();
            invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE.replace("{", "{\"dryRun\": true, "));
            baseline = (System.nanoTime() - start) / 1_000_000;
        }
        try (SentryIngest.BlackHole blackHole = new SentryIngest.BlackHole()) {
            fx.env().put("SENTRY_DSN", blackHole.dsn());
            long held;
            try (Reclaim reclaim = fx.reclaim()) {
                long start = System.nanoTime();
                JsonNode report = invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE.replace("{", "{\"dryRun\": true, "));
                held = (System.nanoTime() - start) / 1_000_000;
                assertThat(report.get("outcome").asText()).isEqualTo("completed");
            }

            assertThat(blackHole.connections()).isPositive(); // a check-in was on its way, and never answered
            // Unbounded, the SDK would wait its 5 s read timeout per envelope (two check-ins).
            assertThat(held).isLessThan(baseline + 1_000 + 1_500);
        }
    }

    @Test
    void shouldRunAndReturnTheReport_whenTheDsnPointsAtAClosedPort() throws Exception {
        fx.env().put("SENTRY_DSN", SentryIngest.closedPortDsn());
        fx.env().put("RECLAIM_SENTRY_FLUSH_TIMEOUT", "1s");
        long start = System.nanoTime();
        JsonNode report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = invoke(reclaim, fx.env(), SCHEDULED_MOC_PURGE);
        }

        assertThat(report.get("outcome").asText()).isEqualTo("completed");
        assertThat(report.get("sweeps").get(0).get("purged").asLong()).isEqualTo(12);
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(30_000);
    }

    @Test
    void shouldHaveSentTheRetryThatFailedAgain_byTheTimeTheRetryHandlerReturns() throws Exception {
        String poison = "9b2e1d63-4e5f-4c9b-8d0e-2f3a4b5c6d7e"; // the second message of events/retry-batch.json
        TestSqs.QueuePair queues = TestSqs.createQueuePair("reclaim-retry-sentry", 3);
        fx.env().putAll(TestSqs.environment());
        fx.env().put("RECLAIM_RETRY_QUEUE_URL", queues.queueUrl());
        fx.env().put("RECLAIM_DLQ_URL", queues.deadLetterQueueUrl());
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES "
                + "('" + poison + "', gen_random_uuid(), 'poison', now() - interval '40 days')");
        fx.refuseToDeletePoisonMocs();
        SQSEvent event = EventLoader.loadSQSEvent("events/retry-batch.json");
        ingest.latency(Duration.ofMillis(700));

        List<JsonNode> events;
        try (Reclaim reclaim = fx.reclaim()) {
            RetryWorker worker = new RetryWorker(reclaim.retries(), reclaim.retryQueue(), RunEvents.none());
            new RetryHandler(worker, false).handleRequest(event, null);
            events = ingest.events(); // no waiting: the handler flushed before it returned
        }

        assertThat(events).hasSize(1);
        JsonNode failed = events.get(0);
        assertThat(failed.get("tags").get("sweep").asText()).isEqualTo("moc-purge");
        assertThat(failed.get("tags").get("kind").asText()).isEqualTo("record");
        assertThat(failed.get("tags").has("runId")).isFalse(); // a retry belongs to no run
        assertThat(failed.get("extra").get("item").asText()).isEqualTo(poison);
        assertThat(failed.get("exception").get("values").get(0).get("value").asText()).contains("poison MOC");
        assertThat(ingest.checkIns()).isEmpty();
    }

    @Test
    void shouldHaveSentTheFailedItem_byTheTimeTheCliReturns() throws Exception {
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = (SELECT id FROM moc_instructions "
                + "WHERE deleted_at < now() - interval '30 days' ORDER BY id DESC LIMIT 1)"); // the run's last item
        fx.refuseToDeletePoisonMocs();
        ingest.latency(Duration.ofMillis(2_000));
        java.io.StringWriter out = new java.io.StringWriter();

        int code = dev.reclaim.cli.ReclaimCli.execute(new String[] {"run", "--sweep", "moc-purge", "--json"}, fx.env(),
                new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()));
        List<JsonNode> events = ingest.events(); // no waiting: the CLI flushed before it returned

        assertThat(code).isZero();
        assertThat(events).hasSize(1);
        assertThat(events.get(0).get("tags").get("runId").asText())
                .isEqualTo(Reports.JSON.readTree(out.toString()).get("runId").asText());
        assertThat(events.get(0).get("tags").get("trigger").asText()).isEqualTo("cli");
        assertThat(ingest.checkIns()).isEmpty(); // the CLI's runs are not the schedule's
    }

    /** As a failover or an idle timeout would: the backend holding Reclaim's advisory lock goes away. */
    private int terminateLockHolder() {
        return fx.terminateBackends("FROM pg_locks WHERE locktype = 'advisory' AND granted" // the run lock: the only one
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    }
}
