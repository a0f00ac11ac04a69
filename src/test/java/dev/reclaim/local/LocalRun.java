package dev.reclaim.local;

import dev.reclaim.testing.TestSettings;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.db.Database;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestCloudWatch;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;

import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The README's local run: embedded PostgreSQL with the reference schemas and generated sample data, an in-process
 * S3 server holding the files those rows own, then a dry run and a real run through the same engine the Lambda
 * uses, and the before/after counts. {@code mvn -q test-compile exec:java} (options: -Dexec.args="--mocs 2000 --render-jobs 600
 * --faults --fan-out"; with --faults two MOCs fail, their failures go to the retry queue (ElasticMQ), and {@code reclaim retry}
 * purges them once the fault is cured).
 */
public final class LocalRun {
    private LocalRun() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            // exec:java would otherwise wait forever on the local services' threads
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        logAsDeployed();
        int mocs = intArg(args, "--mocs", 500);
        int renderJobs = intArg(args, "--render-jobs", 150);
        boolean faults = List.of(args).contains("--faults");
        boolean fanOut = List.of(args).contains("--fan-out");
        long t0 = System.nanoTime();
        System.out.println("Starting embedded PostgreSQL and S3 (S3Mock) ...");
        String jdbcUrl = TestPostgres.freshDatabase();
        String mocBucket = TestS3.freshBucket("moc-instructions");
        String renderBucket = TestS3.freshBucket("render-outputs");

        Map<String, String> env = new LinkedHashMap<>();
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", "config/reclaim.yaml");
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ENDPOINT_URL_S3", TestS3.endpoint().toString());
        env.put("AWS_ENDPOINT_URL_CLOUDWATCH", TestCloudWatch.shared().endpoint().toString());
        env.put("AWS_ACCESS_KEY_ID", "local");
        env.put("AWS_SECRET_ACCESS_KEY", "local");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        env.put("RECLAIM_MOC_BUCKET", mocBucket);
        env.put("RECLAIM_RENDER_BUCKET", renderBucket);
        env.put("RECLAIM_UPLOAD_TEMP_RETENTION", "1s"); // S3 dates uploads "now": let the demo's uploads count as old
        CloudinaryEmulator cloudinary = CloudinaryEmulator.builder().hourlyLimit(2000).start();
        env.put("CLOUDINARY_URL", cloudinary.cloudinaryUrl());
        TestSqs.QueuePair queues = TestSqs.retryQueues(env, "reclaim-retry", 3);
        if (fanOut) { // moc-purge goes to two workers in shards of 100 (its page size), as the worker function would
            TestSqs.QueuePair work = TestSqs.createQueuePair("reclaim-work", dev.reclaim.run.ShardWork.MAX_RECEIVES);
            env.put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
            env.put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
            env.put("RECLAIM_MOC_FAN_OUT", "always");
            env.put("RECLAIM_MOC_SHARD_SIZE", "100");
        }

        System.out.printf("Generating %d MOCs and %d render jobs, uploading their files ...%n", mocs, renderJobs);
        Map<String, Long> before;
        Map<String, Long> after;
        try (HikariDataSource db = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
            ReferenceData.generateMocs(db, mocs, 5);
            ReferenceData.generateRenderJobs(db, renderJobs);
            Map<String, List<String>> keys = ReferenceData.ownedKeys(db);
            TestS3.putAll(mocBucket, keys.get("moc-files"));
            TestS3.putAll(renderBucket, keys.get("render-outputs"));
            int photos = seedBobbleheadPhotos(db, cloudinary, mocs);
            List<String> temp = seedTempUploads(db, mocBucket);
            System.out.printf("Cloudinary (emulator): %d photos; S3: %d temp uploads.%n", photos, temp.size());
            before = counts(db, mocBucket, renderBucket);
            before.put("cloudinary users/*/temp/ photos", cloudinary.publicIds().stream().filter(k -> k.contains("/temp/")).count());
            if (faults) {
                poisonTwoMocs(db);
                System.out.println("--faults: two expired MOCs now refuse to be deleted (a trigger raises).");
            }
            Thread.sleep(1500); // the temp uploads must be older than the demo's 1s retention
            System.out.printf("Ready in %.1f s.%n%n", (System.nanoTime() - t0) / 1e9);

            RunReport dry;
            RunReport real;
            try (Reclaim reclaim = Reclaim.from(RunRequest.settings(env))) {
                dry = reclaim.run(new RunRequest("local", true, List.of(), null));
                System.out.println(Reports.summary(dry));
                for (var sweep : dry.sweeps()) {
                    if (sweep.brake() != null) { // a first run past its limit: read the dry run, then approve it
                        reclaim.approve(sweep.name(), null);
                        System.out.println("reclaim approve --sweep " + sweep.name() + " (the dry run said: " + sweep.brake() + ")");
                    }
                }
                real = reclaim.run(new RunRequest("local", false, List.of(), null));
                System.out.println(Reports.summary(real));
            }
            if (fanOut) {
                System.out.println("--fan-out: two `reclaim work` processes take the shards from the work queue.");
                java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(2);
                List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    done.add(workers.submit(() -> dev.reclaim.cli.ReclaimCli.execute(new String[] {"work"}, env,
                            new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true))));
                }
                for (var d : done) {
                    d.get();
                }
                workers.shutdown();
                dev.reclaim.cli.ReclaimCli.execute(new String[] {"status", "--runs", "2"}, env,
                        new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true));
                System.out.println();
            }
            if (faults) {
                System.out.printf("Retry queue: %d messages. Curing the fault, then: reclaim retry%n",
                        TestSqs.approximateCount(queues.queueUrl()));
                try (var c = db.getConnection(); var st = c.createStatement()) {
                    st.execute("DROP TRIGGER refuse_poison ON moc_instructions");
                }
                dev.reclaim.cli.ReclaimCli.execute(new String[] {"retry"}, env,
                        new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true));
                System.out.println();
            }
            after = counts(db, mocBucket, renderBucket);
            after.put("cloudinary users/*/temp/ photos", cloudinary.publicIds().stream().filter(k -> k.contains("/temp/")).count());
            printTable(before, after);
            TestCloudWatch cloudWatch = TestCloudWatch.shared();
            System.out.printf("CloudWatch (local PutMetricData server): %d metrics received in %d requests "
                    + "(the dry run publishes none).%n", cloudWatch.datums().size(), cloudWatch.requests().size());
            cloudinary.close();
            if (real.outcome() == Outcome.FAILED) {
                System.exit(1);
            }
        }
        System.exit(0);
    }

    private static void poisonTwoMocs(HikariDataSource db) throws Exception {
        try (var c = db.getConnection(); var st = c.createStatement()) {
            st.execute("UPDATE moc_instructions SET title = 'poison' WHERE id IN (SELECT id FROM moc_instructions "
                    + "WHERE deleted_at < now() - interval '30 days' ORDER BY id LIMIT 2)");
            st.execute("CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF OLD.title = 'poison' THEN RAISE EXCEPTION 'refusing to delete poison MOC'; END IF; RETURN OLD; END $$");
            st.execute("CREATE TRIGGER refuse_poison BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
        }
    }

    /**
     * Bobblehead photos in users/{user}/temp/: per user, 4 photos uploaded 3 days ago (users with an even number
     * saved their bobblehead, so those photos are referenced; odd ones abandoned the form), one photo uploaded an hour
     * ago (kept), and an avatar outside temp/ (never touched).
     */
    private static int seedBobbleheadPhotos(HikariDataSource db, CloudinaryEmulator cloudinary, int users) throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(3));
        Instant recent = Instant.now().minus(Duration.ofHours(1));
        List<Asset> assets = new ArrayList<>();
        List<String> saved = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            for (int p = 0; p < 4; p++) {
                String id = "users/user" + u + "/temp/photo" + p;
                assets.add(Asset.image(id, old, 150_000 + p * 1000L));
                if (u % 2 == 0) {
                    saved.add(id);
                }
            }
            assets.add(Asset.image("users/user" + u + "/temp/just-uploaded", recent, 120_000));
            assets.add(Asset.image("users/user" + u + "/avatar", old, 40_000));
        }
        cloudinary.seed(assets);
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "WITH b AS (INSERT INTO bobbleheads (user_id, name) VALUES (gen_random_uuid(), 'Saved') RETURNING id) "
                        + "INSERT INTO bobblehead_photos (bobblehead_id, public_id) SELECT b.id, p FROM b, unnest(?::text[]) p")) {
            ps.setArray(1, c.createArrayOf("text", saved.toArray()));
            ps.executeUpdate();
        }
        return assets.size();
    }

    /** Instruction uploads under uploads/tmp/: half referenced by a MOC file row, half abandoned. */
    private static List<String> seedTempUploads(HikariDataSource db, String bucket) throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            keys.add("uploads/tmp/upload-" + i + ".pdf");
        }
        TestS3.putAll(bucket, keys);
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO moc_files (moc_id, file_type, s3_key) "
                        + "SELECT (SELECT id FROM moc_instructions WHERE deleted_at IS NULL LIMIT 1), 'instructions', k "
                        + "FROM unnest(?::text[]) k")) {
            ps.setArray(1, c.createArrayOf("text", keys.subList(0, 50).toArray()));
            ps.executeUpdate();
        }
        return keys;
    }

    private static Map<String, Long> counts(HikariDataSource db, String mocBucket, String renderBucket) throws Exception {
        Map<String, Long> out = new LinkedHashMap<>(ReferenceData.rowCounts(db));
        out.put("  of which expired MOCs", ReferenceData.count(db,
                "SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"));
        out.put("  of which available bricks", ReferenceData.count(db, "SELECT count(*) FROM moc_parts WHERE status = 'available'"));
        out.put("s3://" + mocBucket, (long) TestS3.keys(mocBucket).size());
        out.put("  of which uploads/tmp/", TestS3.keys(mocBucket).stream().filter(k -> k.startsWith("uploads/tmp/")).count());
        out.put("s3://" + renderBucket, (long) TestS3.keys(renderBucket).size());
        return out;
    }

    private static void printTable(Map<String, Long> before, Map<String, Long> after) {
        System.out.printf("%-34s %10s %10s%n", "rows / objects", "before", "after");
        before.forEach((k, v) -> System.out.printf("%-34s %10d %10d%n", k, v, after.get(k)));
    }

    /**
     * Stderr carries only Reclaim's JSON lines, as in a deployment: the test classpath's logback-test.xml is replaced,
     * and the services' logs, java.util.logging's (Tomcat's) included, go to target/local-run-services.log.
     */
    private static void logAsDeployed() throws Exception {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(LocalRun.class.getResource("logback-local.xml"));
        java.util.logging.LogManager.getLogManager().reset();
        java.util.logging.Logger.getLogger("").addHandler(new java.util.logging.Handler() {
            private final java.util.logging.Formatter format = new java.util.logging.SimpleFormatter();

            @Override
            public void publish(java.util.logging.LogRecord r) {
                String name = r.getLoggerName() == null ? "jul" : r.getLoggerName();
                LoggerFactory.getLogger(name.startsWith("dev.reclaim") ? "jul." + name : name)
                        .info(format.formatMessage(r));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
    }

    private static int intArg(String[] args, String name, int dflt) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        return dflt;
    }
}
