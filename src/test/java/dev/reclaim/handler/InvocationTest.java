package dev.reclaim.handler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.testing.FakeLambdaContext;
import dev.reclaim.testing.LogLines;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The Lambda fields of every line an invocation logs, as Powertools Logging sets them. */
class InvocationTest {

    @Test
    void shouldCarryTheRequestIdFunctionAndColdStart_onEveryLineOfAnInvocation_andNothingAfterIt() {
        AtomicBoolean first = new AtomicBoolean(true);
        try (LogLines logs = LogLines.capture()) {
            try (Invocation ignored = Invocation.start(new FakeLambdaContext("req-1", 900_000), null, first)) {
                LoggerFactory.getLogger("dev.reclaim.test").info("in the first invocation");
            }
            try (Invocation ignored = Invocation.start(new FakeLambdaContext("req-2", 900_000), "retry-run-2", first)) {
                LoggerFactory.getLogger("dev.reclaim.test").info("in the second invocation");
            }

            List<JsonNode> lines = logs.lines();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0).path("awsRequestId").asText()).isEqualTo("req-1");
            assertThat(lines.get(0).path("functionName").asText()).isEqualTo("reclaim");
            assertThat(lines.get(0).path("coldStart").asText()).isEqualTo("true");
            assertThat(lines.get(0).has("runId")).as("a run sets its own").isFalse();
            assertThat(lines.get(1).path("awsRequestId").asText()).isEqualTo("req-2");
            assertThat(lines.get(1).path("coldStart").asText()).isEqualTo("false");
            assertThat(lines.get(1).path("runId").asText()).isEqualTo("retry-run-2");
        }
        assertThat(MDC.getCopyOfContextMap()).as("cleared at the end").isNullOrEmpty();
    }
}
