package dev.reclaim.observe;

import dev.reclaim.testing.TestSettings;

import dev.reclaim.config.AwsClients;
import dev.reclaim.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The metrics variables: read strictly at start-up (a value that cannot be read stops everything), never guessed. */
class CloudWatchMetricsEnvironmentTest {
    private final Map<String, String> env = new HashMap<>(Map.of("AWS_REGION", "eu-west-1",
            "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test",
            "AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:1"));

    @Test
    void shouldBuildThePublisher_byDefault() {
        try (AwsClients aws = new AwsClients(TestSettings.of(env).aws())) {
            assertThat(CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isInstanceOf(CloudWatchMetrics.class);
        }
    }

    @Test
    void shouldPublishNothing_whenRECLAIM_METRICSIsFalse_orNoRegionIsSet() {
        try (AwsClients aws = new AwsClients(TestSettings.of(env).aws())) {
            env.put("RECLAIM_METRICS", "false");
            assertThat(CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isNotInstanceOf(CloudWatchMetrics.class);
            env.remove("RECLAIM_METRICS");
            env.remove("AWS_REGION");
            assertThat(CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isNotInstanceOf(CloudWatchMetrics.class);
        }
    }

    @Test
    void shouldRefuseAValueItCannotRead_namingTheVariable() {
        try (AwsClients aws = new AwsClients(TestSettings.of(env).aws())) {
            env.put("RECLAIM_METRICS_IN_DRY_RUN", "sometimes");
            assertThatThrownBy(() -> CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("RECLAIM_METRICS_IN_DRY_RUN: 'sometimes' is not a boolean");
            env.remove("RECLAIM_METRICS_IN_DRY_RUN");
            env.put("RECLAIM_METRICS_NAMESPACE", "AWS/Lambda");
            assertThatThrownBy(() -> CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("RECLAIM_METRICS_NAMESPACE: 'AWS/Lambda' is not a CloudWatch namespace");
            env.put("RECLAIM_METRICS_NAMESPACE", "Reclaim\u00e9");
            assertThatThrownBy(() -> CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isInstanceOf(ConfigException.class);
            env.put("RECLAIM_METRICS_NAMESPACE", "Reclaim");
            env.put("RECLAIM_METRICS_TIMEOUT", "soon");
            assertThatThrownBy(() -> CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws)).isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("RECLAIM_METRICS_TIMEOUT:");
        }
    }
}
