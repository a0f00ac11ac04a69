package dev.reclaim.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reclaim.testing.LogLines;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.reclaim.testing.LogLines.message;
import static org.assertj.core.api.Assertions.assertThat;

class ProgressLogTest {
    private static final Instant T0 = Instant.parse("2026-11-24T02:00:00Z");

    private final LogLines logs = LogLines.capture();
    private Instant now = T0;
    private final ProgressLog progress = new ProgressLog(new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    });

    @AfterEach
    void tearDown() {
        logs.close();
    }

    private void start(Instant deadline) {
        progress.emit(new RunEvent.RunStarted(UUID.randomUUID(), "test", false, List.of("moc-purge")));
        progress.emit(new RunEvent.TimeBudget(deadline));
        progress.emit(new RunEvent.SweepStarted("moc-purge", "records", T0));
    }

    private void purgeOne(String item) {
        progress.emit(new RunEvent.ItemPurged("moc-purge", item, Map.of(),
                Map.of("moc-files", List.of(item + "/a", item + "/b"))));
    }

    @Test
    void shouldLogEachPage_andEvery30SecondsOfALongPage_withItsFigures() {
        start(T0.plus(Duration.ofMinutes(10)));
        progress.emit(new RunEvent.PageListed("moc-purge", null, 100));
        progress.emit(new RunEvent.ItemsEligible("moc-purge", 100));
        for (int i = 0; i < 10; i++) { // 5 s an item: the 6th comes 30 s after the page line
            now = now.plusSeconds(5);
            purgeOne("m" + i);
        }
        progress.emit(new RunEvent.KeysDeleted("moc-purge", "moc-files", List.of("m0/a", "m0/b"), 0,
                RunEvent.Source.OUTBOX));

        List<JsonNode> lines = logs.lines(message("progress of moc-purge"));
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).path("page").asInt()).isEqualTo(1);
        assertThat(lines.get(0).path("eligible").asInt()).isEqualTo(100);
        assertThat(lines.get(0).path("timeLeftSeconds").asLong()).isEqualTo(600);
        JsonNode working = lines.get(1);
        assertThat(working.path("items").asLong()).isEqualTo(6);
        assertThat(working.path("purged").asLong()).isEqualTo(6);
        assertThat(working.path("itemsPerSecond").asDouble()).isEqualTo(0.2);
        assertThat(working.path("pendingDeletions").asLong()).isEqualTo(12);
        assertThat(working.path("timeLeftSeconds").asLong()).isEqualTo(570);

        progress.emit(new RunEvent.SweepFinished("moc-purge"));
        assertThat(logs.lines(message("sweep finished"))).singleElement().satisfies(l -> {
            assertThat(l.path("purged").asLong()).isEqualTo(10);
            assertThat(l.path("pendingDeletions").asLong()).as("m0's keys were deleted").isEqualTo(18);
        });
    }

    @Test
    void shouldCarryTheConfigurationAndTheWholeReportAsJson_atTheRunsStartAndEnd() {
        ObjectNode inForce = Reports.JSON.createObjectNode();
        inForce.putObject("environment").put("RECLAIM_DRY_RUN", "false");
        progress.inForce(inForce);
        start(null);
        RunReport report = new RunReport("r1", "test", false, Outcome.COMPLETED, null, T0, T0, 0, List.of(),
                new RunReport.OutboxReport(Map.of("moc-files", 3L), Map.of(), 0, 0), null, null, null, null);

        progress.emit(new RunEvent.RunFinished(report));

        JsonNode started = logs.lines(message("run started")).get(0);
        assertThat(started.path("configuration").path("environment").path("RECLAIM_DRY_RUN").asText()).isEqualTo("false");
        assertThat(started.path("timeLeftSeconds").isNull()).as("no time budget").isTrue();
        JsonNode finished = logs.lines(message("run finished")).get(0);
        assertThat(finished.path("report").isObject()).as("the report is JSON, not a string").isTrue();
        assertThat(finished.path("report").path("outbox").path("deleted").path("moc-files").asLong()).isEqualTo(3);
        assertThat(finished.path("report").path("outcome").asText()).isEqualTo("completed");
        assertThat(finished.path("configuration").isObject()).isTrue();
    }
}
