package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.ShardWork;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code reclaim work} process (the packaged jar, a JVM of its own) killed with SIGKILL in the middle of a shard:
 * the shard comes back to the queue, a fresh worker finishes it from where it stopped, and no item is half-purged, no
 * file lost, nothing in use deleted.
 */
class WorkerKillIT {
    private static final Path JAR = Path.of("target/reclaim.jar");
    private static final String EXPIRED = "deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'";

    @TempDir
    Path dir;
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(100, 0);

    @Test
    void shouldFinishAShardWhoseWorkerWasKilledMidShard_withThePromisesIntact() throws Exception {
        TestSqs.QueuePair work = TestSqs.createQueuePair("reclaim-work", ShardWork.MAX_RECEIVES);
        TestSqs.client().setQueueAttributes(b -> b.queueUrl(work.queueUrl())
                .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "60")));
        fx.env().putAll(TestSqs.environment());
        fx.env().put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
        fx.env().put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
        fx.env().put("RECLAIM_MOC_FAN_OUT", "always");
        fx.env().put("RECLAIM_MOC_SHARD_SIZE", "30"); // one shard of all 30 expired MOCs, and the open last one
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        long live = fx.count("SELECT count(*) FROM moc_instructions WHERE NOT (" + EXPIRED + ")");
        try (Reclaim reclaim = Reclaim.from(dev.reclaim.run.RunRequest.settings(fx.env()))) {
            reclaim.run(new RunRequest("schedule:test", false, List.of("moc-purge"), Deadline.none()));
        }
        // Each MOC's delete takes 200 ms: the worker is mid-shard for seconds.
        fx.execute("""
                CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(0.2); RETURN OLD; END $$;
                CREATE TRIGGER slow_delete BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION slow_delete();
                """);

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString(), "work", "--hide", "3s", "--wait", "1s"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("RECLAIM_") || k.startsWith("AWS_")
                || k.equals("SENTRY_DSN") || k.equals("CLOUDINARY_URL"));
        pb.environment().putAll(fx.env());
        Process worker = pb.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (fx.count("SELECT coalesce(max(purged), 0) FROM reclaim.shards WHERE status = 'running'") < 4) {
            assertThat(worker.isAlive()).as("the worker is still on its first shard").isTrue();
            assertThat(System.nanoTime()).as("the worker purged some of its shard").isLessThan(until);
            Thread.sleep(50);
        }
        worker.destroyForcibly(); // SIGKILL: no shutdown hook, no last page, no message deleted
        assertThat(worker.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long purgedBeforeTheKill = fx.count("SELECT purged FROM reclaim.shards WHERE status = 'running'");
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isPositive();

        fx.execute("DROP TRIGGER slow_delete ON moc_instructions");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Thread.sleep(3_500); // the killed worker's message comes back once its --hide has passed
        int code = ReclaimCli.execute(new String[] {"work", "--wait", "2s"}, fx.env(), new PrintWriter(out, true),
                new PrintWriter(err, true));

        assertThat(code).as(err.toString()).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isEqualTo(live);
        assertThat(fx.strings("SELECT DISTINCT status FROM reclaim.shards")).containsExactly("done");
        assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(30);
        assertThat(fx.count("SELECT max(attempts) FROM reclaim.shards")).isEqualTo(2);
        assertThat(purgedBeforeTheKill).isBetween(4L, 29L);
        // No item half-purged: a MOC is gone with its files' rows and parts lists, or all of them are there.
        assertThat(fx.count("SELECT count(*) FROM moc_files f WHERE NOT EXISTS "
                + "(SELECT 1 FROM moc_instructions m WHERE m.id = f.moc_id)")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_parts WHERE status = 'allocated' AND parts_list_id IS NULL")).isZero();
        // No file lost: a batch the killed worker's drain held is free once its connection is gone.
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files")));
    }
}
