package dev.reclaim.handler;

import dev.reclaim.testing.TestSettings;

import dev.reclaim.testing.FakeLambdaContext;




import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.report.Reports;
import dev.reclaim.run.UsageException;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scheduled Lambda handler, fed the files in events/ as Lambda (and sam local invoke) would. */
class ScheduledRunHandlerIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9);
    private Reclaim reclaim;

    @BeforeEach
    void setUp() {
        reclaim = fx.reclaim();
    }

    @AfterEach
    void tearDown() {
        reclaim.close();
    }

    private JsonNode invoke(String eventFile, Map<String, String> env) throws Exception {
        ScheduledRunHandler handler = new ScheduledRunHandler(reclaim, TestSettings.of(env));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(eventBytes(eventFile)), out, new FakeLambdaContext("test-request", 900_000));
        return Reports.JSON.readTree(out.toByteArray());
    }

    /**
     * The file's bytes, found as aws-lambda-java-tests' EventLoader finds it (class path, else the project directory):
     * {@code @Event} can only hand over a deserialised event object, and this handler reads the raw JSON stream.
     */
    private static byte[] eventBytes(String eventFile) {
        try (InputStream resource = ScheduledRunHandlerIT.class.getClassLoader().getResourceAsStream(eventFile)) {
            return resource != null ? resource.readAllBytes() : Files.readAllBytes(Path.of(eventFile));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load " + eventFile, e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = "events/scheduled-event.json")
    void shouldRunEverySweepFromAnEventBridgeScheduledEvent(String eventFile) throws Exception {
        JsonNode report = invoke(eventFile, Map.of());

        assertThat(report.get("outcome").asText()).isEqualTo("completed");
        assertThat(report.get("trigger").asText()).isEqualTo("schedule:arn:aws:events:us-east-1:123456789012:rule/reclaim-daily");
        assertThat(report.get("dryRun").asBoolean()).isFalse();
        assertThat(report.get("sweeps")).hasSize(4);
        assertThat(report.get("sweeps").get(0).get("purged").asLong()).isEqualTo(6);
        assertThat(report.get("sweeps").get(1).get("purged").asLong()).isEqualTo(3);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = "events/run-moc-purge.json")
    void shouldRunTheNamedSweepFromPlainInput(String eventFile) throws Exception {
        JsonNode report = invoke(eventFile, Map.of());

        assertThat(report.get("sweeps")).hasSize(1);
        assertThat(report.get("sweeps").get(0).get("name").asText()).isEqualTo("moc-purge");
        assertThat(report.get("sweeps").get(0).get("purged").asLong()).isEqualTo(6);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM render_jobs")).isEqualTo(9);
    }

    @ParameterizedTest
    @ValueSource(strings = "events/dry-run.json")
    void shouldDryRunFromPlainInput(String eventFile) throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        JsonNode report = invoke(eventFile, Map.of());

        assertThat(report.get("dryRun").asBoolean()).isTrue();
        assertThat(report.get("sweeps").get(0).get("wouldPurge").asLong()).isEqualTo(6);
        assertThat(report.get("sweeps").get(0).has("purged")).as("a dry run purges nothing").isFalse();
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @ParameterizedTest
    @ValueSource(strings = {"events/scheduled-event.json", "events/run-moc-purge.json", "events/dry-run.json"})
    void shouldDryRunAnyInput_whenTheEnvironmentSaysSo(String eventFile) throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        JsonNode report = invoke(eventFile, Map.of("RECLAIM_DRY_RUN", "true"));

        assertThat(report.get("dryRun").asBoolean()).isTrue();
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @Test
    void shouldRefuseUnknownInputFields_andDeleteNothing() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        ScheduledRunHandler handler = new ScheduledRunHandler(reclaim, TestSettings.of(Map.of()));

        assertThatThrownBy(() -> handler.handleRequest(new ByteArrayInputStream("{\"dryrun\": true}".getBytes()),
                new ByteArrayOutputStream(), new FakeLambdaContext("test-request", 900_000)))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("unknown input field 'dryrun'");
        assertThatThrownBy(() -> handler.handleRequest(new ByteArrayInputStream("{\"dryRun\": \"yes\"}".getBytes()),
                new ByteArrayOutputStream(), new FakeLambdaContext("test-request", 900_000)))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("dryRun must be true or false");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dryRun=true", "{\"dryRun\": true", "{\"dryRun\": tru}", "<run dryRun=\"true\"/>"})
    void shouldFailTheInvocationAsAUsageErrorWithTheReason_andRunNothing_whenTheBodyIsNotJson(String body) throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        ScheduledRunHandler handler = new ScheduledRunHandler(reclaim, TestSettings.of(Map.of()));

        assertThatThrownBy(() -> handler.handleRequest(new ByteArrayInputStream(body.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)),
                new ByteArrayOutputStream(), new FakeLambdaContext("test-request", 900_000)))
                .isExactlyInstanceOf(UsageException.class)
                .hasMessageStartingWith("input is not JSON")
                .hasMessageContaining("such as {\"dryRun\": true}")
                .hasMessageMatching("(?s).*: \\S.*"); // the parser's reason follows
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(fx.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'reclaim'")).as("no run started").isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = "events/scheduled-event.json")
    void shouldDryRun_whenTheEnvironmentSaysDryRunAs1OrYes(String eventFile) throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        for (String value : new String[] {"1", "YES ", "yes"}) {
            JsonNode report = invoke(eventFile, Map.of("RECLAIM_DRY_RUN", value));

            assertThat(report.get("dryRun").asBoolean()).as(value).isTrue();
            assertThat(ReferenceData.rowCounts(fx.db)).as(value).isEqualTo(rows);
        }
    }

    @ParameterizedTest
    @CsvSource({"events/scheduled-event.json, maybe", "events/dry-run.json, enabled"})
    void shouldFailTheInvocationAndDeleteNothing_whenRECLAIM_DRY_RUNIsNoBoolean(String eventFile, String value)
            throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        assertThatThrownBy(() -> invoke(eventFile, Map.of("RECLAIM_DRY_RUN", value)))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("RECLAIM_DRY_RUN: '" + value + "' is not a boolean");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PT-5M", "0s", "200000000000000d"})
    void shouldFailTheInvocationAsAConfigurationError_andRunNothing_whenRECLAIM_TIME_MARGINIsNotPositive(String margin)
            throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        assertThatThrownBy(() -> invoke("events/scheduled-event.json", Map.of("RECLAIM_TIME_MARGIN", margin)))
                .isInstanceOf(dev.reclaim.config.ConfigException.class)
                .hasMessageStartingWith("RECLAIM_TIME_MARGIN: ");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(fx.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'reclaim'")).as("no run started").isZero();
    }
}
