package dev.reclaim.run;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.config.AwsClients;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.handler.WorkerHandler;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.Listing;
import dev.reclaim.store.Store;
import dev.reclaim.store.StoredAsset;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSettings;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An S3 assets sweep fanned out by key ranges on the work queue (ElasticMQ) and purged by workers over S3Mock and
 * embedded PostgreSQL: every orphan deleted exactly once; nothing referenced, too young, outside the sweep's prefix or
 * glob; the run's limit counted across its shards; a shard cut under another configuration parked.
 */
class AssetFanOutIT {
    /** 12 user folders under the prefix, the key beside them and a folder outside the glob: 14 names, 5 shards of 3. */
    private static final String CONFIG = """
            stores:
              uploads:
                type: s3
                bucket: ${RECLAIM_MOC_BUCKET}
                pathStyle: true
                allowedPrefixes: [uploads/tmp/]
                referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)
            sweeps:
              temp-uploads:
                kind: assets
                store: uploads
                prefix: uploads/tmp/
                match: uploads/tmp/u*/**
                olderThan: ${TEMP_RETENTION:-1ms}
                maxDeletesPerRun: ${TEMP_CAP:-100000}
                fanOut: ${TEMP_FAN_OUT:-always}
                shardSize: 3
                referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)
                brake: off
            """;
    private static final int USERS = 12;

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private TestSqs.QueuePair work;
    private final List<String> orphans = new ArrayList<>();
    private final List<String> kept = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        work = TestSqs.workQueues(fx.env(), "reclaim-asset-work");
        Path config = Files.createTempFile("reclaim-assets", ".yaml");
        Files.writeString(config, CONFIG);
        fx.env().put("RECLAIM_CONFIG", config.toString());

        for (int u = 0; u < USERS; u++) {
            for (int i = 0; i < 3; i++) {
                orphans.add(String.format("uploads/tmp/u%02d/o%d.pdf", u, i));
            }
        }
        kept.addAll(List.of("uploads/tmp/u03/ref.pdf", "uploads/tmp/u07/ref.pdf", // referenced by a MOC
                "uploads/tmp/u05/young/y0.pdf", "uploads/tmp/u11/young/y1.pdf",  // younger than the retention
                "uploads/tmp/loose.pdf", "uploads/tmp/x-other/o.pdf",            // outside the glob
                "uploads/final/f.pdf", "mocs/m1/instructions.pdf"));             // outside the prefix
        List<String> all = new ArrayList<>(orphans);
        all.addAll(kept);
        TestS3.putAll(fx.mocBucket, all);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title) VALUES"
                + " ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'M')");
        for (String k : List.of("uploads/tmp/u03/ref.pdf", "uploads/tmp/u07/ref.pdf")) {
            fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES"
                    + " ('00000000-0000-0000-0000-000000000001', 'instructions', '" + k + "')");
        }
    }

    private RunReport run() {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("schedule:test", false, List.of("temp-uploads"), Deadline.none()));
        }
    }

    private int workCli() {
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(new String[] {"work", "--wait", "1s"}, fx.env(),
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertThat(err.toString()).doesNotContain("Exception");
        return code;
    }

    /**
     * One worker function: its own Reclaim, S3 as it is except that keys under a young/ folder are listed as just
     * uploaded (S3 sets LastModified itself); takes one message at a time until the queue is empty.
     */
    private int workLambda() throws Exception {
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("uploads", new ForwardingStore(real.get("uploads")) {
            @Override
            public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
                Listing page = super.list(prefix, createdBefore, cursor, deadline);
                return new Listing(page.assets().stream().map(a -> a.key().contains("/young/")
                        ? new StoredAsset(a.key(), Instant.now(), a.bytes()) : a).toList(), page.nextCursor());
            }
        });
        int shards = 0;
        try (AwsClients aws = new AwsClients(TestSettings.of(fx.env()).aws());
             Reclaim reclaim = fx.reclaim(new Stores(stores, real))
                     .workQueue(RetryQueue.work(TestSettings.of(fx.env()).queues(), aws))) {
            WorkerHandler handler = new WorkerHandler(reclaim.shardWork(), Duration.ofSeconds(60));
            while (true) {
                List<Message> received = TestSqs.client().receiveMessage(b -> b.queueUrl(work.queueUrl())
                        .maxNumberOfMessages(1).waitTimeSeconds(1)
                        .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).messages();
                if (received.isEmpty()) {
                    return shards;
                }
                Message m = received.get(0);
                SQSEvent.SQSMessage record = new SQSEvent.SQSMessage();
                record.setMessageId(m.messageId());
                record.setBody(m.body());
                record.setAttributes(Map.of("ApproximateReceiveCount", m.attributesAsStrings()
                        .getOrDefault("ApproximateReceiveCount", "1")));
                SQSEvent event = new SQSEvent();
                event.setRecords(List.of(record));
                SQSBatchResponse response = handler.handleRequest(event, null);
                assertThat(response.getBatchItemFailures()).isEmpty();
                TestSqs.client().deleteMessage(b -> b.queueUrl(work.queueUrl()).receiptHandle(m.receiptHandle()));
                shards++;
            }
        }
    }

    private static SweepReport sweep(RunReport report) {
        return report.sweeps().stream().filter(s -> s.name().equals("temp-uploads")).findFirst().orElseThrow();
    }

    @Test
    void shouldDeleteEveryOrphanExactlyOnce_andNothingReferencedYoungOrOutside_withFourConcurrentWorkers()
            throws Exception {
        RunReport report = run();

        SweepReport s = sweep(report);
        assertThat(s.fannedOut()).isNotNull();
        assertThat(s.fannedOut().shards()).isEqualTo(5); // 14 names one level under uploads/tmp/, 3 a shard
        assertThat(s.fannedOut().sent()).isEqualTo(5);
        assertThat(s.purged()).isZero(); // the run only cut and sent the shards
        assertThat(fx.strings("SELECT coalesce(up_to_id, '-') FROM reclaim.shards ORDER BY shard"))
                .containsExactly("uploads/tmp/u02/", "uploads/tmp/u05/", "uploads/tmp/u08/", "uploads/tmp/u11/", "-");
        assertThat(TestS3.keys(fx.mocBucket)).hasSize(orphans.size() + kept.size());

        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> workers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            workers.add(pool.submit(this::workLambda));
        }
        int taken = 0;
        for (Future<Integer> w : workers) {
            taken += w.get();
        }
        pool.shutdown();

        assertThat(taken).isEqualTo(5);
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(new TreeSet<>(kept));
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("done");
        // Exactly once: every orphan is journaled once, and the shards' counts add up to them.
        assertThat(fx.strings("SELECT key FROM reclaim.deleted_keys")).containsExactlyInAnyOrderElementsOf(orphans);
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(orphans.size());
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards WHERE attempts <> 1")).isZero();
        // A shard's position is the last key it settled, inside its range.
        assertThat(fx.strings("SELECT after_id FROM reclaim.shards WHERE shard = 1"))
                .containsExactly("uploads/tmp/u04/o2.pdf"); // its range: after u02/, up to u05/ (not the keys below it)
    }

    @Test
    void shouldHoldTheRunsCapAcrossItsShards_notEachShardsOwn() throws Exception {
        fx.env().put("TEMP_CAP", "10");

        assertThat(sweep(run()).fannedOut().limit()).isEqualTo(10);
        assertThat(workCli()).isZero();
        assertThat(workCli()).isZero();

        assertThat(fx.count("SELECT count(*) FROM reclaim.deleted_keys")).isEqualTo(10);
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(10);
        assertThat(fx.count("SELECT used FROM reclaim.fanouts")).isEqualTo(10);
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards WHERE status = 'held'")).isPositive();
        // The CLI's worker sees S3's own LastModified, so to it the young/ keys are orphans like the others; which
        // 10 keys go depends on the order the queue hands out the shards.
        List<String> keptByAnyWorker = kept.stream().filter(k -> !k.contains("/young/")).toList();
        Set<String> left = TestS3.keys(fx.mocBucket);
        assertThat(left).containsAll(keptByAnyWorker).hasSize(orphans.size() + kept.size() - 10);
        StringWriter status = new StringWriter();
        assertThat(ReclaimCli.execute(new String[] {"status"}, fx.env(), new PrintWriter(status, true),
                new PrintWriter(new StringWriter(), true))).isZero();
        assertThat(status.toString()).contains("Fanned-out runs (reclaim.shards)").contains("temp-uploads")
                .contains("10 of 10");
    }

    @Test
    void shouldParkAShardCutUnderAnotherConfiguration_andDeleteNothing() throws Exception {
        run();
        fx.env().put("TEMP_RETENTION", "30d"); // the sweep changed between the run and its workers

        assertThat(workCli()).isZero();

        assertThat(TestS3.keys(fx.mocBucket)).hasSize(orphans.size() + kept.size());
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("parked");
        assertThat(fx.strings("SELECT DISTINCT reason FROM reclaim.shards")).singleElement().asString()
                .contains("sweep temp-uploads was configured otherwise when run");
        List<Message> parked = TestSqs.drain(work.deadLetterQueueUrl(), 5, Duration.ofSeconds(10));
        assertThat(parked).hasSize(5);
        assertThat(parked.get(0).messageAttributes().get("reason").stringValue()).contains("configured otherwise");
    }

    @Test
    void shouldNotFanOutOnAuto_whileTheLastRunListedToTheEnd_andFanOutOnceARunRanOutOfTime() throws Exception {
        fx.env().put("TEMP_FAN_OUT", "auto");
        fx.env().put("TEMP_RETENTION", "30d"); // nothing old enough: the runs only list

        SweepReport first = sweep(run());
        assertThat(first.fannedOut()).isNull();
        assertThat(first.scanned()).isEqualTo(orphans.size() + kept.size() - 2); // all under uploads/tmp/

        // A run that ran out of time before the end of its listing (as the ledger keeps it).
        fx.execute("UPDATE reclaim.runs SET report = jsonb_set(report, '{sweeps,0,stoppedBy}', '\"timeBudget\"')");
        SweepReport second = sweep(run());

        assertThat(second.fannedOut()).isNotNull();
        assertThat(second.fannedOut().why()).startsWith("its last run ran out of time before the end of its listing; 14"
                + " names one level under uploads/tmp/");
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards")).isEqualTo(5);
    }
}
