package dev.reclaim.handler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.run.Deadline;
import dev.reclaim.report.Reports;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scheduled handler's input, without any service: what becomes a run, and what is refused. */
class RunInputTest {

    private static RunRequest parse(String json, Map<String, String> env) throws Exception {
        JsonNode node = json == null ? null : Reports.JSON.readTree(json);
        return RunInput.parse(node, env, Deadline.none());
    }

    @Test
    void shouldRunEverySweepForReal_whenTheInputIsEmpty() throws Exception {
        RunRequest r = parse(null, Map.of());

        assertThat(r.dryRun()).isFalse();
        assertThat(r.sweeps()).isEmpty();
        assertThat(r.trigger()).isEqualTo("lambda");
    }

    @Test
    void shouldReadPlainInput() throws Exception {
        RunRequest r = parse("{\"dryRun\": true, \"sweeps\": [\"moc-purge\"], \"trigger\": \"manual\"}", Map.of());

        assertThat(r.dryRun()).isTrue();
        assertThat(r.sweeps()).containsExactly("moc-purge");
        assertThat(r.trigger()).isEqualTo("manual");
    }

    @Test
    void shouldReadAnEventBridgeEnvelope_optionsInDetail() throws Exception {
        RunRequest r = parse("""
                {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
                 "resources": ["arn:aws:events:eu-west-1:123:rule/reclaim-daily"], "detail": {"dryRun": true}}""",
                Map.of());

        assertThat(r.dryRun()).isTrue();
        assertThat(r.trigger()).isEqualTo("schedule:arn:aws:events:eu-west-1:123:rule/reclaim-daily");
    }

    @Test
    void shouldForceADryRun_whenTheEnvironmentSaysSo_whateverTheInput() throws Exception {
        for (String value : List.of("true", "1", " yes ")) {
            assertThat(parse("{\"dryRun\": false}", Map.of("RECLAIM_DRY_RUN", value)).dryRun()).as(value).isTrue();
        }
    }

    @Test
    void shouldRefuse_neverRunForReal_onAMistypedOrWronglyTypedField() {
        assertThatThrownBy(() -> parse("{\"dryrun\": true}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessageContaining("dryrun");
        assertThatThrownBy(() -> parse("{\"dryRun\": \"yes\"}", Map.of())).isInstanceOf(UsageException.class);
        assertThatThrownBy(() -> parse("{\"sweeps\": \"moc-purge\"}", Map.of())).isInstanceOf(UsageException.class);
        assertThatThrownBy(() -> parse("[true]", Map.of())).isInstanceOf(UsageException.class);
        assertThatThrownBy(() -> parse("{}", Map.of("RECLAIM_DRY_RUN", "maybe"))).isInstanceOf(UsageException.class);
    }
}
