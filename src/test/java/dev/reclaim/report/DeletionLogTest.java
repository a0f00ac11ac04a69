package dev.reclaim.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.RunEvent.Source;
import dev.reclaim.testing.LogLines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static dev.reclaim.testing.LogLines.outcome;
import static org.assertj.core.api.Assertions.assertThat;

class DeletionLogTest {
    private static final String RUN = UUID.randomUUID().toString();

    private LogLines logs;
    private final DeletionLog deletions = new DeletionLog();

    @BeforeEach
    void setUp() {
        logs = LogLines.capture();
        MDC.put("runId", RUN); // as the run sets it
        deletions.emit(new RunEvent.RunStarted(UUID.fromString(RUN), "test", false, List.of("moc-purge")));
    }

    @AfterEach
    void tearDown() {
        MDC.clear();
        logs.close();
    }

    @Test
    void shouldLogEachHardDeleteAsOneLine_withItsOutcomeAndCorrelationId() {
        deletions.emit(new RunEvent.ItemPurged("moc-purge", "m1", Map.of("bricksReturned", 5L),
                Map.of("moc-files", List.of("mocs/m1/a.pdf", "mocs/m1/b.jpg"))));
        deletions.emit(new RunEvent.KeysDeleted("moc-purge", "moc-files", List.of("mocs/m1/a.pdf"), 0, Source.OUTBOX));
        deletions.emit(new RunEvent.KeysKept("moc-purge", "moc-files", List.of("mocs/m1/b.jpg"), Source.OUTBOX));
        deletions.emit(new RunEvent.KeysDeleted("temp", "photos", List.of("users/u/temp/1", "users/u/temp/2"), 10,
                Source.SWEEP));
        deletions.emit(new RunEvent.KeysRefused("temp", "photos", List.of("elsewhere/3"), Source.SWEEP));
        deletions.emit(new RunEvent.ItemFailed("moc-purge", "m2", "delete-moc", "boom", "java.sql.SQLException", false));

        JsonNode purged = logs.lines(outcome("purged")).get(0);
        assertThat(purged.path("message").asText()).isEqualTo("record purged");
        assertThat(purged.path("figures").path("bricksReturned").asLong()).isEqualTo(5);
        assertThat(purged.path("keys").path("moc-files").asInt()).isEqualTo(2);
        assertThat(purged.path("item").asText()).isEqualTo("m1");
        assertThat(purged.path("correlationId").asText()).isEqualTo(RUN + "/m1");
        List<JsonNode> deleted = logs.lines(outcome("deleted"));
        assertThat(deleted).extracting(l -> l.path("key").asText())
                .containsExactly("mocs/m1/a.pdf", "users/u/temp/1", "users/u/temp/2");
        assertThat(deleted.get(0).path("correlationId").asText()).as("a file carries its record's id")
                .isEqualTo(RUN + "/m1");
        assertThat(deleted.get(0).path("message").asText()).isEqualTo("file deleted");
        assertThat(deleted.get(1).path("correlationId").asText()).isEqualTo(RUN + "/photos/users/u/temp/1");
        assertThat(deleted.get(1).path("message").asText()).isEqualTo("asset deleted");
        JsonNode kept = logs.lines(outcome("keptReferenced")).get(0);
        assertThat(kept.path("key").asText()).isEqualTo("mocs/m1/b.jpg");
        assertThat(kept.path("correlationId").asText()).isEqualTo(RUN + "/m1");
        assertThat(logs.lines(outcome("refused"))).singleElement()
                .satisfies(l -> assertThat(l.path("key").asText()).isEqualTo("elsewhere/3"));
        assertThat(logs.lines(outcome("failed"))).singleElement()
                .satisfies(l -> assertThat(l.path("correlationId").asText()).isEqualTo(RUN + "/m2"));
        assertThat(logs.lines()).hasSize(7).allSatisfy(l -> {
            assertThat(l.path("runId").asText()).isEqualTo(RUN);
            assertThat(l.path("sweep").asText()).isNotEmpty();
            assertThat(l.has("item") || l.has("key")).as(l.toString()).isTrue();
        });
    }

    @Test
    void shouldLogAFailedBatchAsOneLine_withTheCountAndTheFirstKeys_notOneLinePerKey() {
        Map<String, String> reasons = new LinkedHashMap<>();
        IntStream.range(0, 916).forEach(i -> reasons.put("mocs/k" + i, "SdkClientException: Connection refused"));

        deletions.emit(new RunEvent.KeysFailed("moc-purge", "moc-files", reasons,
                "software.amazon.awssdk.core.exception.SdkClientException", Source.OUTBOX));

        assertThat(logs.lines()).singleElement().satisfies(l -> {
            assertThat(l.path("level").asText()).isEqualTo("WARN");
            assertThat(l.path("outcome").asText()).isEqualTo("failed");
            assertThat(l.path("count").asInt()).isEqualTo(916);
            assertThat(l.path("firstKeys")).extracting(JsonNode::asText)
                    .containsExactly("mocs/k0", "mocs/k1", "mocs/k2", "mocs/k3", "mocs/k4");
            assertThat(l.path("message").asText()).isEqualTo("916 files failed: SdkClientException: Connection refused");
            assertThat(l.path("correlationId").asText()).as("the failure recorded for the batch has this id")
                    .isEqualTo(RUN + "/moc-files/mocs/k0");
        });
    }

    @Test
    void shouldKeepTheCorrelationIdOfTheFailureARetryCarries() {
        MDC.put("correlationId", "earlier-run/m9"); // the retry worker sets the message's

        deletions.emit(new RunEvent.ItemPurged("moc-purge", "m9", Map.of(), Map.of()));

        assertThat(logs.lines(outcome("purged"))).singleElement()
                .satisfies(l -> assertThat(l.path("correlationId").asText()).isEqualTo("earlier-run/m9"));
        assertThat(MDC.get("correlationId")).as("the retry's own MDC is left as it was").isEqualTo("earlier-run/m9");
    }
}
