package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.fasterxml.jackson.databind.JsonNode;
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
            try (Invocation ignored = Invocation.start(new FakeContext("req-1"), null, first)) {
                LoggerFactory.getLogger("dev.reclaim.test").info("in the first invocation");
            }
            try (Invocation ignored = Invocation.start(new FakeContext("req-2"), "retry-run-2", first)) {
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

    private record FakeContext(String requestId) implements Context {
        @Override public String getAwsRequestId() { return requestId; }
        @Override public String getLogGroupName() { return "/aws/lambda/reclaim"; }
        @Override public String getLogStreamName() { return "test"; }
        @Override public String getFunctionName() { return "reclaim"; }
        @Override public String getFunctionVersion() { return "$LATEST"; }
        @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:123456789012:function:reclaim"; }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return null; }
        @Override public int getRemainingTimeInMillis() { return 900_000; }
        @Override public int getMemoryLimitInMB() { return 512; }
        @Override public LambdaLogger getLogger() { return null; }
    }
}
