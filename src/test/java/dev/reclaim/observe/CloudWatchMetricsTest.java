package dev.reclaim.observe;

import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.PutMetricDataRequest;
import software.amazon.awssdk.services.cloudwatch.model.PutMetricDataResponse;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** CloudWatchMetrics over a CloudWatchClient that records its requests (no service): batching, gating, failures. */
class CloudWatchMetricsTest {
    private final RecordingCloudWatch cloudWatch = new RecordingCloudWatch();

    @Test
    void shouldSplitARunsDatumsIntoRequestsOfAtMost1000_inOrder_whenThereAreMore() {
        Map<String, Long> figures = new LinkedHashMap<>();
        IntStream.range(0, 2400).forEach(i -> figures.put("figure" + i, (long) i));
        CloudWatchMetrics metrics = new CloudWatchMetrics(cloudWatch, "Reclaim", false);

        run(metrics, report(false, recordSweep("moc-purge", figures)));

        // 3 run figures (RunDuration, RunCompleted, SweepsHeld), 7 per records sweep, and its 2400 step counts
        assertThat(cloudWatch.requests).extracting(r -> r.metricData().size()).containsExactly(1000, 1000, 410);
        assertThat(cloudWatch.requests).allSatisfy(r -> assertThat(r.namespace()).isEqualTo("Reclaim"));
        List<String> names = cloudWatch.requests.stream().flatMap(r -> r.metricData().stream())
                .map(MetricDatum::metricName).toList();
        assertThat(names).hasSize(2410).doesNotHaveDuplicates().contains("Figure0", "Figure2399", "ItemsPurged", "SweepsHeld");
    }

    @Test
    void shouldSendOneRequest_whenTheDatumsFitInOne() {
        assertThat(CloudWatchMetrics.batches(IntStream.range(0, 1000).boxed().toList(), 1000)).hasSize(1);
        assertThat(CloudWatchMetrics.batches(IntStream.range(0, 1001).boxed().toList(), 1000))
                .extracting(List::size).containsExactly(1000, 1);
        assertThat(CloudWatchMetrics.batches(List.of(), 1000)).isEmpty();
    }

    @Test
    void shouldNotThrowAndNotTryTheOtherRequests_whenPublishingFails() {
        Map<String, Long> figures = new LinkedHashMap<>();
        IntStream.range(0, 1500).forEach(i -> figures.put("figure" + i, 1L));
        cloudWatch.failure = SdkClientException.create("Unable to execute HTTP request: Connection refused");
        CloudWatchMetrics metrics = new CloudWatchMetrics(cloudWatch, "Reclaim", false);

        assertThatCode(() -> run(metrics, report(false, recordSweep("moc-purge", figures)))).doesNotThrowAnyException();

        assertThat(cloudWatch.calls).isEqualTo(1);
        assertThat(cloudWatch.requests).isEmpty();
    }

    @Test
    void shouldPublishNothingForADryRun_unlessMetricsInDryRunAreAsked() {
        run(new CloudWatchMetrics(cloudWatch, "Reclaim", false), report(true, recordSweep("moc-purge", Map.of())));
        assertThat(cloudWatch.calls).isZero();

        run(new CloudWatchMetrics(cloudWatch, "Reclaim", true), report(true, recordSweep("moc-purge", Map.of())));
        assertThat(cloudWatch.requests).hasSize(1);
    }

    @Test
    void shouldPublishTheRetryFiguresOncePerBatch_andStartEachBatchFromZero() {
        CloudWatchMetrics metrics = new CloudWatchMetrics(cloudWatch, "Reclaim", false);
        metrics.emit(new RunEvent.RetryProcessed("record", "moc-purge", "succeeded"));
        metrics.emit(new RunEvent.RetryProcessed("record", "moc-purge", "succeeded"));
        metrics.emit(new RunEvent.RetryProcessed("asset", "upload-temp", "failedAgain"));
        metrics.emit(new RunEvent.RetryProcessed(null, null, "deadLettered"));
        metrics.emit(new RunEvent.RetryBatchFinished(4, false));
        metrics.emit(new RunEvent.RetryProcessed("record", "moc-purge", "deferred"));
        metrics.emit(new RunEvent.RetryBatchFinished(1, false));

        assertThat(cloudWatch.requests).hasSize(2);
        assertThat(values(cloudWatch.requests.get(0))).containsExactly(
                Map.entry("RetriesSucceeded", 2.0), Map.entry("RetriesFailed", 1.0), Map.entry("MessagesDeadLettered", 1.0));
        assertThat(values(cloudWatch.requests.get(1))).containsExactly(
                Map.entry("RetriesSucceeded", 0.0), Map.entry("RetriesFailed", 0.0), Map.entry("MessagesDeadLettered", 0.0));
    }

    @Test
    void shouldNameAStepCountInPascalCase() {
        assertThat(CloudWatchMetrics.pascalCase("bricksReturned")).isEqualTo("BricksReturned");
        assertThat(CloudWatchMetrics.pascalCase("images_orphaned")).isEqualTo("ImagesOrphaned");
        assertThat(CloudWatchMetrics.pascalCase("files-collected")).isEqualTo("FilesCollected");
    }

    private static Map<String, Double> values(PutMetricDataRequest request) {
        Map<String, Double> out = new LinkedHashMap<>();
        request.metricData().forEach(d -> out.put(d.metricName(), d.value()));
        return out;
    }

    private static void run(CloudWatchMetrics metrics, RunReport report) {
        metrics.emit(new RunEvent.RunStarted(UUID.fromString(report.runId()), "test", report.dryRun(), List.of()));
        metrics.emit(new RunEvent.RunFinished(report));
    }

    private static RunReport report(boolean dryRun, SweepReport sweep) {
        Instant now = Instant.parse("2026-11-24T03:00:00Z");
        return new RunReport(UUID.randomUUID().toString(), "test", dryRun, Outcome.COMPLETED, null, now.minusSeconds(5),
                now, 5000, List.of(sweep), new RunReport.OutboxReport(Map.of(), Map.of(), 0, 0), null, null, null, null);
    }

    private static SweepReport recordSweep(String name, Map<String, Long> figures) {
        return new SweepReport(name, "records", null, 0, 0, 0, 0, List.of(), figures, Map.of(), Map.of(), Map.of(), 0,
                List.of(), Map.of(), true, null, 0, null, null, null, null, null, null, null, null, null, null, null, false);
    }

    /** Records each PutMetricData request; fails every call when {@code failure} is set. */
    private static final class RecordingCloudWatch implements CloudWatchClient {
        final List<PutMetricDataRequest> requests = new ArrayList<>();
        RuntimeException failure;
        int calls;

        @Override
        public PutMetricDataResponse putMetricData(PutMetricDataRequest request) {
            calls++;
            if (failure != null) {
                throw failure;
            }
            requests.add(request);
            return PutMetricDataResponse.builder().build();
        }

        @Override
        public String serviceName() {
            return "monitoring";
        }

        @Override
        public void close() {
        }
    }
}
