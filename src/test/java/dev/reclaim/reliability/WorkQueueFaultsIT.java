package dev.reclaim.reliability;

import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.FailingSqs;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 21, item 2: SQS answering {@code Failed} entries to the work queue's SendMessageBatch (FanOutIT has it
 * unreachable, every shard refused). The run purges the sweep itself beside the workers (the refused shards at
 * least), two workers take what is left: every eligible item exactly once, no file lost, nothing in use deleted.
 */
class WorkQueueFaultsIT {
    private static final String EXPIRED = "deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'";
    private static final Pattern REFUSED_SHARDS = Pattern.compile(".*\"shard\":(1|4)[,}].*");

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(100, 0);

    @Test
    void shouldPurgeTheShardsSqsAnsweredFailed_itself_andLeaveTheOthersToWorkers_eachItemOnce() throws Exception {
        TestSqs.QueuePair work = TestSqs.workQueues(fx.env(), "reclaim-work-failed");
        fx.env().put("RECLAIM_MOC_FAN_OUT", "always");
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        fx.env().put("RECLAIM_MOC_SHARD_SIZE", "5");
        long expired = fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        long live = fx.count("SELECT count(*) FROM moc_instructions") - expired;
        // Two of the shards' entries come back under Failed (InternalError) in every answer, resends included.
        FailingSqs sqs = new FailingSqs(TestSqs.client(), e -> REFUSED_SHARDS.matcher(e.messageBody()).matches(),
                Integer.MAX_VALUE, "InternalError", false);

        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            reclaim.workQueue(new RetryQueue(sqs, work.queueUrl(), work.deadLetterQueueUrl()));
            report = reclaim.run(new RunRequest("schedule:test", false, List.of("moc-purge"), Deadline.none()));
        }

        SweepReport sweep = report.sweeps().stream().filter(s -> s.name().equals("moc-purge")).findFirst().orElseThrow();
        assertThat(sqs.entriesFailed()).isGreaterThanOrEqualTo(2);
        assertThat(sweep.fannedOut().shards()).isEqualTo(7);
        assertThat(sweep.fannedOut().sent()).isEqualTo(5);
        assertThat(sweep.fannedOut().warning()).contains("the work queue refused 2 of 7 shards")
                .contains("beside the workers");
        // The run takes the sweep's shards itself, beside the workers: at least the two SQS refused (5 ids each).
        assertThat(sweep.purged()).isBetween(10L, expired);

        for (int i = 0; i < 2; i++) {
            StringWriter err = new StringWriter();
            int code = ReclaimCli.execute(new String[] {"work", "--wait", "1s"}, fx.env(),
                    new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
            assertThat(code).as(err.toString()).isZero();
        }

        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isEqualTo(live);
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).isSubsetOf("done", "unsent"); // none left open
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
        assertThat(fx.count("SELECT count(*) - count(DISTINCT (store, key)) FROM reclaim.deleted_keys")).isZero();
        assertThat(TestSqs.approximateCount(work.deadLetterQueueUrl())).isZero();
    }
}
