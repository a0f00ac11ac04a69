package dev.reclaim.run;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.handler.WorkerHandler;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.sqs.model.Message;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A records sweep fanned out on the work queue (ElasticMQ) and purged by workers over embedded PostgreSQL and S3Mock:
 * every eligible item exactly once, no file lost, nothing in use deleted, the run's limit counted across its shards.
 */
class FanOutIT {
    private static final String EXPIRED = "deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(100, 0);
    private TestSqs.QueuePair work;

    @BeforeEach
    void setUp() {
        work = TestSqs.workQueues(fx.env(), "reclaim-work");
        fx.env().put("RECLAIM_MOC_FAN_OUT", "always");
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        fx.env().put("RECLAIM_MOC_SHARD_SIZE", "5");
    }

    private RunReport run() {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("schedule:test", false, List.of("moc-purge"), Deadline.none()));
        }
    }

    private int work(StringWriter out) {
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(new String[] {"work", "--wait", "1s"}, fx.env(), new PrintWriter(out, true),
                new PrintWriter(err, true));
        assertThat(err.toString()).doesNotContain("Exception");
        return code;
    }

    private SweepReport mocPurge(RunReport report) {
        return report.sweeps().stream().filter(s -> s.name().equals("moc-purge")).findFirst().orElseThrow();
    }

    @Test
    void shouldPurgeEveryEligibleItemExactlyOnce_andLoseNoFile_withFourConcurrentWorkers() throws Exception {
        long expired = fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        long live = fx.count("SELECT count(*) FROM moc_instructions") - expired;
        assertThat(expired).isEqualTo(30);

        RunReport report = run();

        SweepReport sweep = mocPurge(report);
        assertThat(sweep.fannedOut()).isNotNull();
        assertThat(sweep.fannedOut().shards()).isEqualTo(7); // 6 full shards of 5 ids, and the open last one
        assertThat(sweep.fannedOut().sent()).isEqualTo(7);
        assertThat(sweep.purged()).isZero(); // the run itself purged nothing: the workers do
        assertThat(dev.reclaim.report.Reports.summary(report))
                .contains("fanned out: 7 shards, 7 sent to the work queue, at most 1000 deletions across them (fanOut: always)");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(expired);

        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> workers = new ArrayList<>();
        List<StringWriter> outs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            StringWriter out = new StringWriter();
            outs.add(out);
            workers.add(pool.submit(() -> work(out)));
        }
        for (Future<Integer> w : workers) {
            assertThat(w.get()).isZero();
        }
        pool.shutdown();

        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isEqualTo(live);
        // Exactly once: the shards' counts add up to the items, and every shard is done.
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(expired);
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("done");
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards WHERE attempts <> 1")).isZero();
        // No file lost, nothing in use deleted: the bucket holds exactly what the remaining rows own.
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket))
                .isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
        // Each key went to S3 once: the journal holds no key twice.
        assertThat(fx.count("SELECT count(*) - count(DISTINCT (store, key)) FROM reclaim.deleted_keys")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.deleted_keys")).isGreaterThanOrEqualTo(expired * 3);
        assertThat(String.join("", outs.stream().map(StringWriter::toString).toList())).contains("Worked");
    }

    @Test
    void shouldHoldAFannedOutRunOnItsTotal_notOnEachShard() throws Exception {
        fx.env().put("RECLAIM_MOC_MAX_DELETES", "12"); // the per-run cap, for the run as a whole

        RunReport report = run();
        assertThat(mocPurge(report).fannedOut().limit()).isEqualTo(12);
        assertThat(work(new StringWriter())).isZero();

        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(30 - 12);
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(12);
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards WHERE status = 'held'")).isPositive();
        assertThat(fx.count("SELECT used FROM reclaim.fanouts")).isEqualTo(12);
        StringWriter status = new StringWriter();
        assertThat(ReclaimCli.execute(new String[] {"status"}, fx.env(), new PrintWriter(status, true),
                new PrintWriter(new StringWriter(), true))).isZero();
        assertThat(status.toString()).contains("Fanned-out runs (reclaim.shards)").contains("12 of 12")
                .contains("RECLAIM_WORK_QUEUE_URL").contains("RECLAIM_WORK_DLQ_URL");
        assertThat(TestS3.keys(fx.mocBucket))
                .isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
    }

    @Test
    void shouldHoldAFannedOutRunByItsBrake_onTheRunsTotalAcrossShards() throws Exception {
        // The shipped configuration, moc-purge's brake at 8 for its first runs (a deployment's own file).
        java.nio.file.Path config = java.nio.file.Files.createTempFile("reclaim", ".yaml");
        String shipped = java.nio.file.Files.readString(java.nio.file.Path.of(fx.env().get("RECLAIM_CONFIG")));
        String moc = "    fanOut: ${RECLAIM_MOC_FAN_OUT:-auto}\n";
        assertThat(shipped).contains(moc);
        java.nio.file.Files.writeString(config, shipped.replace(moc, moc + "    brake: {firstRunLimit: 8}\n"));
        fx.env().put("RECLAIM_CONFIG", config.toString());

        RunReport report = run();
        assertThat(mocPurge(report).fannedOut().limit()).isEqualTo(8);
        assertThat(work(new StringWriter())).isZero();

        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(30 - 8);
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(8);
        assertThat(fx.strings("SELECT DISTINCT reason FROM reclaim.shards WHERE status = 'held'")).singleElement()
                .asString().startsWith("firstRuns: the run's limit of 8 deletions across its shards is used up");
        assertThat(TestS3.keys(fx.mocBucket))
                .isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
    }

    @Test
    void shouldParkAShardMadeUnderAnotherConfiguration_andDeleteNothing() throws Exception {
        run();
        fx.env().put("RECLAIM_MOC_RETENTION", "45d"); // the sweep changed between the run and its workers
        Map<String, Long> before = ReferenceData.rowCounts(fx.db);

        assertThat(work(new StringWriter())).isZero();

        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(before);
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("parked");
        assertThat(fx.strings("SELECT DISTINCT reason FROM reclaim.shards"))
                .singleElement().asString().contains("was configured otherwise");
        List<Message> parked = TestSqs.drain(work.deadLetterQueueUrl(), 7, Duration.ofSeconds(10));
        assertThat(parked).hasSize(7);
        assertThat(parked.get(0).messageAttributes().get("reason").stringValue()).contains("configured otherwise");
    }

    @Test
    void shouldParkAMalformedWorkMessage_withoutFailingItsNeighbour() throws Exception {
        run();
        List<Message> queued = TestSqs.drain(work.queueUrl(), 7, Duration.ofSeconds(10));
        SQSEvent event = new SQSEvent();
        List<SQSEvent.SQSMessage> records = new ArrayList<>();
        String first = queued.stream().map(Message::body).filter(b -> b.contains("\"shard\":0")).findFirst().orElseThrow();
        for (String body : List.of("{\"runId\": \"not-a-uuid\"}", first, "null")) {
            SQSEvent.SQSMessage m = new SQSEvent.SQSMessage();
            m.setMessageId("m" + records.size());
            m.setBody(body);
            m.setAttributes(Map.of("ApproximateReceiveCount", "1"));
            records.add(m);
        }
        event.setRecords(records);

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            response = new WorkerHandler(reclaim.shardWork(), Duration.ofSeconds(60)).handleRequest(event, null);
        }

        assertThat(response.getBatchItemFailures()).isEmpty();
        assertThat(fx.count("SELECT count(*) FROM reclaim.shards WHERE status = 'done'")).isEqualTo(1);
        assertThat(fx.count("SELECT purged FROM reclaim.shards WHERE status = 'done'")).isEqualTo(5);
        List<Message> parked = TestSqs.drain(work.deadLetterQueueUrl(), 2, Duration.ofSeconds(10));
        assertThat(parked).extracting(m -> m.messageAttributes().get("reason").stringValue())
                .allMatch(r -> r.startsWith("not a Reclaim work message"));
    }

    @Test
    void shouldPurgeOnOneWorker_andSaySo_whenTheWorkQueueIsUnreachable() throws Exception {
        fx.env().put("RECLAIM_WORK_QUEUE_URL", TestSqs.endpoint() + "/000000000000/no-such-queue");

        RunReport report = run();

        SweepReport sweep = mocPurge(report);
        assertThat(sweep.fannedOut().sent()).isZero();
        assertThat(sweep.fannedOut().warning()).contains("the work queue refused 7 of 7 shards")
                .contains("this run purges the sweep itself");
        assertThat(sweep.purged()).isEqualTo(30);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("unsent");
        assertThat(TestS3.keys(fx.mocBucket))
                .isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
    }

    @Test
    void shouldNotFanOutAgain_whileAnEarlierRunsShardsAreOpen() throws Exception {
        run();
        RunReport second = run();
        assertThat(mocPurge(second).stoppedBy()).isEqualTo("shardsInProgress");
        assertThat(fx.count("SELECT count(DISTINCT run_id) FROM reclaim.shards")).isEqualTo(1);
    }

    @Test
    void shouldRefuseAnUnknownFanOutMode_beforeAnythingRuns() {
        fx.env().put("RECLAIM_MOC_FAN_OUT", "sometimes");
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(new String[] {"run"}, fx.env(), new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true));
        assertThat(code).isEqualTo(ReclaimCli.USAGE);
        assertThat(err.toString()).contains("sweeps.moc-purge.fanOut: expected never, auto or always, got 'sometimes'")
                .contains("nothing was deleted");
    }
}
