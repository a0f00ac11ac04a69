package dev.reclaim.handler;

import dev.reclaim.testing.TestSettings;

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
        return ScheduledRunHandler.Input.parse(node, TestSettings.of(env).dryRun(), Deadline.none());
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

    @Test
    void shouldSayWhichFieldIsWrongAndWhatItHolds_whenAFieldHasAnotherType() {
        assertThatThrownBy(() -> parse("{\"dryRun\": \"false\"}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("dryRun must be true or false, got \"false\"");
        assertThatThrownBy(() -> parse("{\"dryRun\": 1}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("dryRun must be true or false, got 1");
        assertThatThrownBy(() -> parse("{\"sweeps\": [\"moc-purge\", {}]}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("sweeps must be a list of sweep names, got [\"moc-purge\",{}]");
        assertThatThrownBy(() -> parse("{\"sweeps\": [\" \"]}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("sweeps must be a list of sweep names, got [\" \"]");
        assertThatThrownBy(() -> parse("{\"sweeps\": [null]}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("sweeps must be a list of sweep names, got [null]");
        assertThatThrownBy(() -> parse("{\"dryrun\": true}", Map.of())).isInstanceOf(UsageException.class)
                .hasMessage("unknown input field 'dryrun' (expected: dryRun, sweeps, trigger)");
    }

    @Test
    void shouldRefuseUnknownFieldsInsideTheEnvelopesDetail_butNotTheEnvelopesOwnFields() throws Exception {
        String envelope = """
                {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "account": "1",
                 "time": "2024-01-01T00:00:00Z", "region": "eu-west-1", "resources": [], "detail": %s}""";

        RunRequest r = parse(envelope.formatted("{}"), Map.of());

        assertThat(r.trigger()).isEqualTo("schedule:2024-01-01T00:00:00Z");
        assertThat(r.dryRun()).isFalse();
        assertThatThrownBy(() -> parse(envelope.formatted("{\"dry_run\": true}"), Map.of()))
                .isInstanceOf(UsageException.class).hasMessageContaining("'dry_run'");
        assertThatThrownBy(() -> parse(envelope.formatted("\"dryRun\""), Map.of()))
                .isInstanceOf(UsageException.class).hasMessage("detail must be a JSON object, got STRING");
    }

    @Test
    void shouldKeepTheEnvelopesTrigger_whenTheDetailIsEmptyOrNull() throws Exception {
        RunRequest r = parse("""
                {"detail-type": "Scheduled Event", "source": "aws.events", "resources": ["arn:rule/x"], "detail": null}""",
                Map.of("RECLAIM_DRY_RUN", "yes"));

        assertThat(r.trigger()).isEqualTo("schedule:arn:rule/x");
        assertThat(r.dryRun()).isTrue();
        assertThat(r.sweeps()).isEmpty();
    }
}
