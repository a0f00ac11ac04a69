package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.S3StandIn;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code reclaim work} process (the packaged jar, a JVM of its own) killed with SIGKILL in the middle of a shard:
 * the shard comes back to the queue, a fresh worker finishes it from where it stopped, and no item is half-purged, no
 * file lost, nothing in use deleted. A trigger slows the worker (a records shard) or holds it (an S3 assets shard), and
 * the test kills it once the shard's row or the worker's waiting session shows it at the chosen point.
 */
class WorkerKillIT {
    private static final Path JAR = Path.of("target/reclaim.jar");
    private static final String EXPIRED = "deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'";

    @TempDir
    Path dir;
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private TestSqs.QueuePair work;

    @BeforeEach
    void workQueue() {
        work = TestSqs.workQueues(fx.env(), "reclaim-work");
    }

    /** {@code reclaim work} of the packaged jar with the fixture's environment only. */
    private Process startWorker(String hide) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString(), "work", "--hide", hide, "--wait", "1s"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("RECLAIM_") || k.startsWith("AWS_")
                || k.equals("SENTRY_DSN") || k.equals("CLOUDINARY_URL"));
        pb.environment().putAll(fx.env());
        return pb.start();
    }

    /** A second {@code reclaim work}, in this JVM, once the killed worker's message is visible again. */
    private void workAfter(Duration hide) throws Exception {
        Thread.sleep(hide.toMillis() + 500); // the killed worker's message comes back once its --hide has passed
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(new String[] {"work", "--wait", "2s"}, fx.env(),
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
    }

    @Test
    void shouldFinishAShardWhoseWorkerWasKilledMidShard_withThePromisesIntact() throws Exception {
        fx.sampleData(100, 0);
        fx.env().put("RECLAIM_MOC_FAN_OUT", "always");
        fx.env().put("RECLAIM_MOC_SHARD_SIZE", "30"); // one shard of all 30 expired MOCs, and the open last one
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
        long live = fx.count("SELECT count(*) FROM moc_instructions WHERE NOT (" + EXPIRED + ")");
        try (Reclaim reclaim = Reclaim.from(RunRequest.settings(fx.env()))) {
            reclaim.run(new RunRequest("schedule:test", false, List.of("moc-purge"), Deadline.none()));
        }
        // Each MOC's delete takes 200 ms: the worker is mid-shard for seconds.
        fx.execute("""
                CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(0.2); RETURN OLD; END $$;
                CREATE TRIGGER slow_delete BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION slow_delete();
                """);

        Process worker = startWorker("3s");
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
        workAfter(Duration.ofSeconds(3));

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

    /** Two user folders a shard, so the first shard (u0/, u1/: 1,404 keys) is two S3 pages of 1,000. */
    private static final String ASSET_CONFIG = """
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
                match: uploads/tmp/**
                olderThan: 1d
                maxDeletesPerRun: 100000
                fanOut: always
                shardSize: 2
                referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)
                brake: off
            """;
    /** The advisory lock the test holds and the trigger waits for. */
    private static final String HOLD = "hashtext('WorkerKillIT'), 2";

    /**
     * The same for an S3 assets fan-out: the worker is killed while page 2 of its shard is listed and checked but not
     * deleted (page 1 deleted, journaled, its last key the shard's position). The S3 stand-in ({@link S3StandIn}) holds
     * the 1,400 keys two pages need, dated as the test says (S3Mock takes about a minute to upload them).
     */
    @Test
    void shouldFinishAnAssetShardWhoseWorkerWasKilledMidShard_deletingEveryOrphanOnce_andNothingElse() throws Exception {
        try (S3StandIn s3 = S3StandIn.start()) {
            Path config = dir.resolve("assets.yaml");
            Files.writeString(config, ASSET_CONFIG);
            fx.env().put("RECLAIM_CONFIG", config.toString());
            fx.env().put("AWS_ENDPOINT_URL_S3", s3.endpoint().toString());
            List<String> orphans = new ArrayList<>();
            for (String user : List.of("u0", "u1")) {
                for (int i = 0; i < 700; i++) {
                    orphans.add(String.format("uploads/tmp/%s/o%04d.pdf", user, i));
                }
            }
            orphans.addAll(List.of("uploads/tmp/u2/o.pdf", "uploads/tmp/u3/o.pdf")); // the second shard
            List<String> referenced = List.of("uploads/tmp/u0/ref.pdf", "uploads/tmp/u1/ref.pdf", "uploads/tmp/u3/ref.pdf");
            List<String> young = List.of("uploads/tmp/u0/young/y.pdf", "uploads/tmp/u1/young/y.pdf",
                    "uploads/tmp/u2/young/y.pdf");
            List<String> outside = List.of("uploads/final/f.pdf", "mocs/m1/instructions.pdf");
            Instant old = Instant.now().minus(Duration.ofDays(3));
            s3.load(fx.mocBucket, orphans, old, 10);
            s3.load(fx.mocBucket, referenced, old, 10);
            s3.load(fx.mocBucket, outside, old, 10);
            s3.load(fx.mocBucket, young, Instant.now(), 10);
            fx.execute("INSERT INTO moc_instructions (id, user_id, title) VALUES"
                    + " ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'M')");
            for (String k : referenced) {
                fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES"
                        + " ('00000000-0000-0000-0000-000000000001', 'instructions', '" + k + "')");
            }
            RunReport report;
            try (Reclaim reclaim = Reclaim.from(RunRequest.settings(fx.env()))) {
                report = reclaim.run(new RunRequest("schedule:test", false, List.of("temp-uploads"), Deadline.none()));
            }
            assertThat(report.sweeps().get(0).fannedOut().shards()).isEqualTo(2); // u0/ u1/ | u2/ u3/
            // A delete batch's take from the run's limit, once a running shard has settled a page, waits for the test.
            fx.execute("""
                    CREATE FUNCTION hold_page_2() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF NEW.used > OLD.used AND EXISTS (SELECT 1 FROM reclaim.shards WHERE status = 'running' AND purged > 0)
                      THEN PERFORM pg_advisory_xact_lock(%s); END IF;
                      RETURN NEW;
                    END $$;
                    CREATE TRIGGER hold_page_2 BEFORE UPDATE ON reclaim.fanouts FOR EACH ROW EXECUTE FUNCTION hold_page_2();
                    """.formatted(HOLD));

            long purgedBeforeTheKill;
            try (Connection hold = fx.db.getConnection(); Statement st = hold.createStatement()) {
                st.execute("SELECT pg_advisory_lock(" + HOLD + ")");
                Process worker = startWorker("2s");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (fx.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND wait_event = 'advisory'") == 0) {
                    assertThat(worker.isAlive()).as("the worker is still on its shard").isTrue();
                    assertThat(System.nanoTime()).as("the worker reached page 2 of its shard").isLessThan(until);
                    Thread.sleep(50);
                }
                worker.destroyForcibly(); // SIGKILL: no shutdown hook, no last page, no message deleted
                assertThat(worker.waitFor(30, TimeUnit.SECONDS)).isTrue();
                purgedBeforeTheKill = fx.count("SELECT purged FROM reclaim.shards WHERE status = 'running'");
                assertThat(fx.strings("SELECT after_id FROM reclaim.shards WHERE status = 'running'"))
                        .containsExactly("uploads/tmp/u1/o0297.pdf"); // page 1's last key
                // Released: the dead worker's session ends its statement and goes; its take is never given back.
                st.execute("SELECT pg_advisory_unlock(" + HOLD + ")");
            }
            assertThat(purgedBeforeTheKill).isEqualTo(998); // page 1: 1,000 keys, one referenced, one young
            assertThat(s3.objects(fx.mocBucket).keySet()).containsAll(orphans.subList(998, 1400)); // page 2's

            fx.execute("DROP TRIGGER hold_page_2 ON reclaim.fanouts");
            workAfter(Duration.ofSeconds(2));

            TreeSet<String> kept = new TreeSet<>(referenced);
            kept.addAll(young);
            kept.addAll(outside);
            assertThat(new TreeSet<>(s3.objects(fx.mocBucket).keySet())).isEqualTo(kept);
            // Exactly once: every orphan is journaled once, and the shards' counts add up to them.
            assertThat(fx.strings("SELECT key FROM reclaim.deleted_keys")).containsExactlyInAnyOrderElementsOf(orphans);
            assertThat(fx.count("SELECT sum(purged) FROM reclaim.shards")).isEqualTo(orphans.size());
            assertThat(fx.strings("SELECT shard || ' ' || status || ' ' || attempts FROM reclaim.shards ORDER BY shard"))
                    .containsExactly("0 done 2", "1 done 1");
        }
    }
}
