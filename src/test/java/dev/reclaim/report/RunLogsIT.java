package dev.reclaim.report;

import dev.reclaim.testing.TestSettings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.handler.ScheduledRunHandler;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.FakeLambdaContext;
import dev.reclaim.testing.LogLines;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

import static dev.reclaim.testing.LogLines.message;
import static dev.reclaim.testing.LogLines.outcome;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 10, Logs: a real run's lines, as the JSON appender writes them. Each is JSON with the run's id; each line
 * about an item carries its correlation id, sweep and id or key; every hard delete the report counts has its line;
 * an outage of S3 is a line per batch; and no line carries a secret fed through the environment.
 */
class RunLogsIT {
    private static final String DB_PASSWORD = "DBPASS1one";
    private static final String URL_PASSWORD = "URLPASS2two";
    private static final String AWS_SECRET = "AWSSECRET3three";
    private static final String SENTRY_KEY = "SENTRYKEY4four";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private LogLines logs;

    @BeforeEach
    void setUp() {
        logs = LogLines.capture();
    }

    @AfterEach
    void tearDown() {
        logs.close();
    }

    private RunReport run(List<String> sweeps) {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", false, sweeps, null));
        }
    }

    @Test
    void shouldLogEveryHardDeleteOfARun_asJsonLinesWithTheRunIdAndEachItemsCorrelationId() throws Exception {
        fx.sampleData(20, 5);
        Instant old = Instant.now().minus(Duration.ofDays(3));
        fx.cloudinary.seed(IntStream.range(0, 5).mapToObj(i -> Asset.image("users/u" + i + "/temp/p", old, 1000)).toList());
        TestS3.putAll(fx.mocBucket, List.of("uploads/tmp/a.pdf", "uploads/tmp/b.pdf", "uploads/tmp/c.pdf"));
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms");
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "4");
        Thread.sleep(50);

        RunReport report = run(List.of());

        long records = report.sweeps().stream().filter(s -> s.scanned() == null).mapToLong(SweepReport::purged).sum();
        long assets = report.sweeps().stream().filter(s -> s.scanned() != null).mapToLong(SweepReport::purged).sum();
        assertThat(records).isPositive();
        assertThat(assets).isEqualTo(8);
        assertThat(report.keysDeleted()).isPositive();
        List<JsonNode> lines = logs.reclaimLines();
        assertThat(lines).allSatisfy(l -> assertThat(l.path("runId").asText()).as(l.toString()).isEqualTo(report.runId()));
        assertThat(lines.stream().filter(outcome("purged"))).hasSize((int) records);
        assertThat(lines.stream().filter(outcome("deleted").and(message("file")))).hasSize((int) report.keysDeleted());
        assertThat(lines.stream().filter(outcome("deleted").and(message("asset")))).hasSize((int) assets);
        List<JsonNode> itemLines = lines.stream().filter(l -> l.has("item") || l.has("key")).toList();
        assertThat(itemLines).hasSizeGreaterThan((int) (records + assets)).allSatisfy(l -> {
            assertThat(l.path("correlationId").asText()).as(l.toString()).startsWith(report.runId() + "/");
            assertThat(l.path("sweep").asText()).as(l.toString()).isNotEmpty();
        });
        JsonNode purged = lines.stream().filter(outcome("purged")).findFirst().orElseThrow();
        assertThat(lines.stream().filter(l -> purged.path("correlationId").equals(l.path("correlationId"))))
                .as("a record's files are found by its correlation id")
                .hasSize(1 + purged.path("keys").path("moc-files").asInt());
        assertThat(lines.stream().filter(message("progress of moc-purge"))).hasSizeGreaterThanOrEqualTo(2); // 6 expired, 4 a page
        JsonNode finished = lines.stream().filter(message("run finished")).findFirst().orElseThrow();
        assertThat(finished.path("report").path("runId").asText()).isEqualTo(report.runId());
    }

    @Test
    void shouldCarryTheLambdaInvocationsFields_onEveryLineOfAScheduledRun() throws Exception {
        fx.sampleData(10, 2);
        try (Reclaim reclaim = fx.reclaim()) {
            new ScheduledRunHandler(reclaim, TestSettings.of(fx.env())).handleRequest(new ByteArrayInputStream("{}".getBytes()),
                    new ByteArrayOutputStream(), new FakeLambdaContext("req-77", 900_000));
        }

        List<JsonNode> lines = logs.reclaimLines();
        assertThat(lines).hasSizeGreaterThan(5).allSatisfy(l -> {
            assertThat(l.path("awsRequestId").asText()).isEqualTo("req-77");
            assertThat(l.path("functionName").asText()).isEqualTo("reclaim");
            assertThat(l.path("coldStart").asText()).isIn("true", "false");
            assertThat(l.path("runId").asText()).isNotEmpty();
        });
        assertThat(lines.stream().filter(message("run started")).findFirst().orElseThrow()
                .path("timeLeftSeconds").asLong()).as("the Lambda's time less the margin").isBetween(700L, 840L);
    }

    @Test
    void shouldLogAnOutageOfS3AsOneLinePerBatch_notOneLinePerKey() throws Exception {
        fx.sampleData(40, 0);
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "5");
        try (ServerSocket closed = new ServerSocket(0)) {
            fx.env().put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:" + closed.getLocalPort() + "/");
        } // S3 is down: nothing listens there any more

        RunReport report = run(List.of("moc-purge"));

        long keys = report.sweeps().get(0).keysCollected().get("moc-files");
        assertThat(report.outbox().failed().get("moc-files")).isEqualTo(keys);
        assertThat(keys).isGreaterThan(50);
        List<JsonNode> failed = logs.reclaimLines().stream().filter(outcome("failed")).toList();
        assertThat(failed).isNotEmpty().hasSizeLessThanOrEqualTo(10)
                .allSatisfy(l -> assertThat(l.path("firstKeys").size()).isEqualTo(DeletionLog.FIRST_KEYS));
        assertThat(failed.stream().mapToLong(l -> l.path("count").asLong()).sum()).isEqualTo(keys);
        assertThat(logs.reclaimLines().stream().filter(l -> !"INFO".equals(l.path("level").asText())))
                .as("warnings and errors: a few a drain, not one a key").hasSizeLessThan(20);
    }

    @Test
    void shouldNotWriteASecret_fedThroughTheEnvironmentAndTheConfiguration_inAnyLine() throws Exception {
        fx.sampleData(10, 2);
        fx.env().put("RECLAIM_DB_URL", fx.jdbcUrl + (fx.jdbcUrl.contains("?") ? "&" : "?") + "password=" + URL_PASSWORD);
        fx.env().put("RECLAIM_DB_PASSWORD", DB_PASSWORD); // the embedded server trusts local connections
        fx.env().put("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
        fx.env().put("SENTRY_DSN", "https://" + SENTRY_KEY + "@o1.ingest.sentry.io/1");
        String cloudinarySecret = fx.cloudinary.apiSecret();

        RunReport report = run(List.of());

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        JsonNode started = logs.reclaimLines().stream().filter(message("run started")).findFirst().orElseThrow();
        JsonNode shown = started.path("configuration").path("environment");
        assertThat(shown.path("RECLAIM_DB_PASSWORD").asText()).isEqualTo("***");
        assertThat(shown.path("CLOUDINARY_URL").asText()).startsWith("cloudinary://***@");
        assertThat(shown.path("SENTRY_DSN").asText()).startsWith("https://***@");
        assertThat(shown.path("RECLAIM_DB_URL").asText()).contains("password=***");
        assertThat(logs.raw()).isNotEmpty().allSatisfy(line -> assertThat(line).as("a line mentions a secret")
                .doesNotContain(DB_PASSWORD, URL_PASSWORD, AWS_SECRET, SENTRY_KEY, cloudinarySecret));
    }
}
