package dev.reclaim.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.CloudWatchException;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.StandardUnit;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The local PutMetricData server holds CloudWatch's limits and answers as CloudWatch does, through the real SDK. */
class TestCloudWatchIT {
    private final TestCloudWatch server = TestCloudWatch.start();
    private final CloudWatchClient client = CloudWatchClient.builder()
            .endpointOverride(server.endpoint())
            .region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .httpClient(UrlConnectionHttpClient.create())
            .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(1)))
            .build();

    @AfterEach
    void tearDown() {
        client.close();
        server.close();
    }

    @Test
    void shouldAcceptAThousandDatums_compressedBySdk_andDecodeNameValueUnitAndDimensions() {
        client.putMetricData(r -> r.namespace("Reclaim").metricData(datums(1000, "moc-purge")));

        assertThat(server.requests()).singleElement().satisfies(r -> {
            assertThat(r.datums()).hasSize(1000);
            assertThat(r.gzip()).isTrue(); // the SDK compresses PutMetricData bodies over 10 KB
        });
        assertThat(server.datums("M999", Map.of("Sweep", "moc-purge"))).singleElement()
                .satisfies(d -> {
                    assertThat(d.value()).isEqualTo(999.0);
                    assertThat(d.unit()).isEqualTo("Count");
                });
    }

    @Test
    void shouldRefuseMoreThanAThousandDatums_asCloudWatchDoes() {
        assertThatThrownBy(() -> client.putMetricData(r -> r.namespace("Reclaim").metricData(datums(1001, "s"))))
                .isInstanceOfSatisfying(CloudWatchException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidParameterValue");
                    assertThat(e.awsErrorDetails().errorMessage())
                            .isEqualTo("The collection MetricData must not have a size greater than 1000.");
                });
        assertThat(server.requests()).isEmpty();
    }

    @Test
    void shouldRefuseARequestOverOneMegabyte() {
        String longSweep = "s".repeat(1100); // 1000 datums of more than 1 KB each

        assertThatThrownBy(() -> client.putMetricData(r -> r.namespace("Reclaim").metricData(datums(1000, longSweep))))
                .isInstanceOfSatisfying(CloudWatchException.class, e -> assertThat(e.statusCode()).isEqualTo(413));
    }

    @Test
    void shouldAnswerThrottling_whenThrottled() {
        server.throttle(true);

        assertThatThrownBy(() -> client.putMetricData(r -> r.namespace("Reclaim").metricData(datums(1, "s"))))
                .isInstanceOfSatisfying(CloudWatchException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.awsErrorDetails().errorCode()).isEqualTo("Throttling");
                    assertThat(e.isThrottlingException()).isTrue();
                });
    }

    private static List<MetricDatum> datums(int n, String sweep) {
        return IntStream.range(0, n).mapToObj(i -> MetricDatum.builder().metricName("M" + i).value((double) i)
                .unit(StandardUnit.COUNT).dimensions(d -> d.name("Sweep").value(sweep)).build()).toList();
    }
}
