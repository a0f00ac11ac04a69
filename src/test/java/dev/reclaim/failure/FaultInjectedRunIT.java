package dev.reclaim.failure;

import dev.reclaim.testing.TestSettings;

import dev.reclaim.Reclaim;
import dev.reclaim.config.AwsClients;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.sqs.model.Message;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full run of every shipped sweep with faults injected in the database, Cloudinary and S3: every failed item ends
 * up accounted for, in SQS or in Reclaim's tables, whether SQS is reachable or not.
 */
class FaultInjectedRunIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 30);
    private TestSqs.QueuePair queues;

    @BeforeEach
    void setUp() {
        queues = TestSqs.retryQueues(fx.env(), "reclaim-faults", 3);
        fx.env().put("RECLAIM_CLOUDINARY_RETRY_DELAY", "10ms");
    }

    @ParameterizedTest(name = "SQS reachable: {0}")
    @ValueSource(booleans = {true, false})
    void everyFailedItemShouldBeAccountedFor(boolean sqsReachable) throws Exception {
        // Database: 2 MOCs whose delete raises.
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id IN (SELECT id FROM moc_instructions "
                + "WHERE deleted_at < now() - interval '30 days' ORDER BY id LIMIT 2)");
        fx.refuseToDeletePoisonMocs();
        // S3: one file of an expiring MOC that S3 refuses to delete.
        String blockedKey = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id "
                + "WHERE m.deleted_at < now() - interval '30 days' AND m.title <> 'poison' ORDER BY 1 LIMIT 1").get(0);
        // Cloudinary: 250 abandoned photos; the first delete batch keeps answering 503.
        List<Asset> photos = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            photos.add(Asset.image("users/u" + (i % 7) + "/temp/p" + i, Instant.now().minus(Duration.ofDays(2)), 500));
        }
        fx.cloudinary.seed(photos);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        int[] deletes = {0};
        stores.put("bobblehead-photos", new ForwardingStore(real.get("bobblehead-photos")) {
            @Override
            public BatchResult delete(List<String> keys, java.time.Instant deadline) {
                if (deletes[0]++ == 0) {
                    fx.cloudinary.failNext(4, 503);
                }
                return super.delete(keys, deadline);
            }
        });
        if (!sqsReachable) {
            fx.env().put("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1");
        }

        RunReport report;
        try (AutoCloseable blocked = TestS3.blockDeletion(fx.mocBucket, blockedKey);
             AwsClients aws = new AwsClients(TestSettings.of(fx.env()).aws());
             Reclaim reclaim = fx.reclaim(new Stores(stores, real), RetryQueue.configured(TestSettings.of(fx.env()).queues(), aws))) {
            report = reclaim.run(new RunRequest("test", false, List.of(), null));
        }

        SweepReport moc = report.sweeps().get(0);
        SweepReport photosSweep = report.sweeps().get(2);
        assertThat(moc.failed()).isEqualTo(2);
        assertThat(photosSweep.failed()).isEqualTo(100);
        assertThat(moc.keysFailed().get("moc-files")).isPositive(); // each drain that tried it counts
        // One message per failed record, one per failed asset batch; the failed key is still in the outbox.
        long expectedMessages = 2 + 1;
        assertThat(report.failures().recorded()).isEqualTo(expectedMessages);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsExactly(blockedKey);
        List<Message> inSqs = TestSqs.drain(queues.queueUrl(), sqsReachable ? (int) expectedMessages : 0, Duration.ofSeconds(3));
        long inTable = fx.count("SELECT count(*) FROM reclaim.failures WHERE sent_at IS NULL");
        // A record the queue accepted stays marked sent until its retry settles it (issue 20): not waiting, not lost.
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures WHERE sent_at IS NOT NULL AND kind = 'record'"))
                .isEqualTo(sqsReachable ? 2 : 0);
        assertThat(inSqs.size() + inTable).isEqualTo(expectedMessages);
        assertThat(inSqs).hasSize(sqsReachable ? (int) expectedMessages : 0);
        assertThat(fx.count("SELECT coalesce(sum(cardinality(keys)), 0) FROM reclaim.failures WHERE kind = 'asset' AND sent_at IS NULL")
                + inSqs.stream().filter(m -> m.body().contains("\"kind\":\"asset\"")).mapToLong(m -> 100).sum())
                .isEqualTo(100);
        assertThat(report.failures().pending()).isEqualTo(inTable);
    }
}
