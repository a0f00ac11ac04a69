package dev.reclaim.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.ShardWork;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.TestSettings;
import dev.reclaim.testing.TestSqs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Load at scale (issue 20 item 4, issue 21 item 5; docs/PERFORMANCE.md, "Load at scale"). A main class, not a test:
 *
 * <pre>
 * mvn -q test-compile exec:exec@bench -Dbench.class=dev.reclaim.bench.LoadBenchmark -Dbench.args="--phase=... ..."
 * </pre>
 *
 * Phases (one per invocation):
 * <ul>
 * <li>{@code mocs}: {@code --mocs=100000} expired MOCs (the records benchmark's data, their files in the S3 stand-in),
 * fanned out ({@code fanOut: always}, shards of {@code --shard=5000} on ElasticMQ) and purged by {@code --workers=1}
 * (or {@code 1+2+4}: one fresh copy of the data each, generated once) {@code reclaim work} processes of the packaged jar ({@code target/reclaim.jar}; {@code mvn -o -q package -DskipTests}
 * first). MOCs/s, and the CPU of the workers, PostgreSQL, the stand-in, this JVM (ElasticMQ) and everything else.</li>
 * <li>{@code s3} / {@code cloudinary}: {@code --assets=1000000} temp assets (70% orphans) in the S3 stand-in
 * ({@link S3StandInProcess}) or the Cloudinary emulator ({@link AssetEmulatorProcess}): one run of the whole listing
 * against the call floor, peak retained heap against a {@code --small=10000} run, then on fresh data runs with
 * {@code maxListPagesPerRun: --pages} until every orphan is gone, against the README's bound ceil(P / k) + 1.</li>
 * <li>{@code budget}: {@code --mocs} expired MOCs and {@code --assets} S3 temp keys; runs of moc-purge and upload-temp
 * with a time budget of {@code --budget=120s} until nothing is left: each run's overshoot past its budget, its peak
 * retained heap against an unbudgeted run over {@code --small-mocs=1000} and {@code --small} keys, and the runs.</li>
 * </ul>
 * Exit status 1 when a target is missed, 2 on an error.
 */
public final class LoadBenchmark {
    static final String CONFIG = "config/reclaim.yaml";
    static final int PCT = AssetDataset.REFERENCED_PERCENT;
    static final Path JAR = Path.of("target/reclaim.jar");
    private static final String OWNED_KEYS = "SELECT s3_key FROM moc_files UNION ALL SELECT thumbnail_key FROM "
            + "moc_instructions WHERE thumbnail_key IS NOT NULL UNION ALL SELECT s3_key FROM gallery_images UNION ALL "
            + "SELECT thumbnail_key FROM gallery_images WHERE thumbnail_key IS NOT NULL";
    private static final String EXPIRED = "SELECT count(*) FROM moc_instructions WHERE deleted_at IS NOT NULL "
            + "AND deleted_at < now() - interval '30 days'";

    private static final List<String[]> ROWS = new ArrayList<>();
    private static Map<String, String> opts;

    private LoadBenchmark() {
    }

    public static void main(String[] args) {
        int status;
        try {
            opts = new HashMap<>();
            for (String a : String.join(" ", args).split("[\\s,]+")) {
                if (!a.isBlank()) {
                    if (!a.startsWith("--") || !a.contains("=")) {
                        throw new IllegalArgumentException("unknown argument '" + a + "' (use --name=value)");
                    }
                    opts.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
                }
            }
            java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
            log("LoadBenchmark %s, %d CPUs, max heap %d MiB, load average %s; args %s", LocalDate.now(),
                    Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20, loadAverage(), opts);
            String phase = opts.getOrDefault("phase", "");
            switch (phase) {
                case "mocs" -> mocs();
                case "s3", "cloudinary" -> assets(phase);
                case "budget" -> budget();
                default -> throw new IllegalArgumentException("--phase= mocs, s3, cloudinary or budget");
            }
            status = table() ? 0 : 1;
        } catch (Throwable e) {
            e.printStackTrace();
            status = 2;
        }
        System.exit(status);
    }

    private static long num(String k, long def) {
        String v = opts.get(k);
        return v == null ? def : Long.parseLong(v.replace("_", ""));
    }

    // ------------------------------------------------------------------------------------------ 1. fanned-out MOCs

    private static void mocs() throws Exception {
        int n = (int) num("mocs", 100_000);
        int shard = (int) num("shard", 5_000);
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run mvn -o -q package -DskipTests first");
        }
        EmbeddedPostgres pg = TestPostgres.server();
        TestSqs.endpoint();
        log("mocs: generating %,d expired MOCs", n);
        try (RecordPurgeBenchmark.Dataset d = RecordPurgeBenchmark.Dataset.generate(pg, n)) {
            for (String w : opts.getOrDefault("workers", "1").split("\\+")) {
                try (S3StandInProcess s3 = S3StandInProcess.start()) {
                    mocs(pg, d, n, Integer.parseInt(w), shard, s3);
                }
            }
        }
    }

    /** One fanned-out run over a fresh copy of the data, purged by {@code workers} processes. */
    private static void mocs(EmbeddedPostgres pg, RecordPurgeBenchmark.Dataset d, int n, int workers, int shard,
                             S3StandInProcess s3) throws Exception {
        {
            String db = d.copy(pg, "w" + workers);
            String bucket = "moc-instructions";
            long t0 = System.nanoTime();
            long loaded = s3.sql(bucket, db, OWNED_KEYS);
            log("mocs: %,d keys of the MOCs' files loaded in the S3 stand-in in %.1f s", loaded, (System.nanoTime() - t0) / 1e9);
            TestSqs.QueuePair work = TestSqs.createQueuePair("load-work", ShardWork.MAX_RECEIVES);
            TestSqs.client().setQueueAttributes(b -> b.queueUrl(work.queueUrl())
                    .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "120")));
            Map<String, String> env = env(db, s3.endpoint(), bucket);
            env.putAll(TestSqs.environment());
            env.put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
            env.put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
            env.put("RECLAIM_MOC_FAN_OUT", "always");
            env.put("RECLAIM_MOC_SHARD_SIZE", Integer.toString(shard));
            env.put("RECLAIM_MOC_MAX_DELETES", "1000000000");
            try (HikariDataSource pool = Database.pool(TestSettings.of(env).database())) {
                RecordPurgeBenchmark.approveOneRun(pool, "moc-purge");
            }
            long tf = System.nanoTime();
            RunReport fan;
            try (Reclaim reclaim = Reclaim.from(RunRequest.settings(env))) {
                fan = reclaim.run(new RunRequest("benchmark", false, List.of("moc-purge"), Deadline.none()));
            }
            SweepReport sr = fan.sweeps().get(0);
            if (sr.fannedOut() == null || sr.fannedOut().sent() == 0) {
                throw new IllegalStateException("the run did not fan out: " + fan);
            }
            log("mocs: the run cut %d shards and sent %d in %.1f s", sr.fannedOut().shards(), sr.fannedOut().sent(),
                    (System.nanoTime() - tf) / 1e9);
            s3.reset();

            CpuMeter cpu = new CpuMeter(d.pgPort);
            long children0 = ProcCpu.childrenNanos();
            long s30 = ProcCpu.pidNanos(s3.pid());
            List<Process> ps = new ArrayList<>();
            Path logs = Files.createTempDirectory("load-workers");
            cpu.start();
            PgCpu pgCpu = new PgCpu(d.pgPort);
            long w0 = System.nanoTime();
            for (int i = 0; i < workers; i++) {
                List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                        "-XX:+UseG1GC", "-jar", JAR.toAbsolutePath().toString(), "work", "--wait", "3s");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(logs.resolve("out" + i + ".txt").toFile())
                        .redirectError(logs.resolve("err" + i + ".txt").toFile());
                pb.environment().keySet().removeIf(k -> k.startsWith("RECLAIM_") || k.startsWith("AWS_")
                        || k.equals("SENTRY_DSN") || k.equals("CLOUDINARY_URL"));
                pb.environment().putAll(env);
                ps.add(pb.start());
            }
            int failed = 0;
            for (Process p : ps) {
                if (!p.waitFor(30, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("a worker did not finish in 30 minutes");
                }
                failed += p.exitValue() == 0 ? 0 : 1;
            }
            long nanos = System.nanoTime() - w0;
            cpu.stop(nanos);
            pgCpu.close();
            double pgCores = pgCpu.cores(nanos);
            double workerCores = (ProcCpu.childrenNanos() - children0) / (double) nanos;
            double s3Cores = (ProcCpu.pidNanos(s3.pid()) - s30) / (double) nanos;
            double other = Math.max(0, cpu.machineBusyCores - cpu.jvmCores - pgCores - workerCores - s3Cores);
            S3StandInProcess.Stats st = s3.stats();

            long purged;
            String statuses;
            long pending;
            long left;
            try (HikariDataSource check = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", db)).database())) {
                purged = dev.reclaim.testing.ReferenceData.count(check, "SELECT coalesce(sum(purged), 0) FROM reclaim.shards");
                statuses = String.join(",", dev.reclaim.testing.ReferenceData.strings(check,
                        "SELECT status || ':' || count(*) FROM reclaim.shards GROUP BY status ORDER BY 1"));
                pending = dev.reclaim.testing.ReferenceData.count(check, "SELECT count(*) FROM reclaim.pending_deletions");
                left = dev.reclaim.testing.ReferenceData.count(check, EXPIRED);
            }
            d.checkPurged(db); // every other row as it should be, every brick returned
            String same = s3.same(bucket, db, OWNED_KEYS);
            for (int i = 0; i < workers; i++) {
                String out = Files.readString(logs.resolve("out" + i + ".txt")).trim();
                log("mocs: worker %d: %s", i, out.lines().reduce((a, b) -> b).orElse("(no output)"));
            }
            double secs = nanos / 1e9;
            log("mocs: %d workers: %,d MOCs in %.1f s = %,.0f MOCs/s; shards %s; S3 DeleteObjects %,d (%,d keys, largest %d);"
                            + " pending deletions %d; expired left %d; bucket = owned keys: %s", workers, purged, secs,
                    purged / secs, statuses, st.deletes(), st.keysDeleted(), st.largestDelete(), pending, left, same);
            log("mocs: CPU cores used (of 2): machine %.2f = workers %.2f + PostgreSQL %.2f + S3 stand-in %.2f + this JVM"
                            + " (ElasticMQ) %.2f + other %.2f", cpu.machineBusyCores, workerCores, pgCores, s3Cores,
                    cpu.jvmCores, other);
            boolean ok = purged == n && left == 0 && pending == 0 && failed == 0 && same.startsWith("true");
            row(String.format(Locale.ROOT, "%,d MOCs, %d worker(s), shards of %,d", n, workers, shard),
                    String.format(Locale.ROOT, "%,.0f MOCs/s (%.1f s); CPU machine %.2f: workers %.2f, PostgreSQL %.2f,"
                                    + " stand-in %.2f, ElasticMQ JVM %.2f, other %.2f", purged / secs, secs,
                            cpu.machineBusyCores, workerCores, pgCores, s3Cores, cpu.jvmCores, other),
                    "every MOC once, no file lost", ok);
            d.dropCopy(pg, db);
        }
    }

    // ------------------------------------------------------------------------------------------ 2, 3. assets

    /** One environment's stores and a way to check them. */
    interface Target extends AutoCloseable {
        Map<String, String> env(String jdbcUrl);

        String sweep();

        String store();

        int pageSize();

        int batch();

        long[] wireCalls() throws Exception; // {lists, deletes}

        AssetEmulatorProcess.Verify verify() throws Exception;

        @Override
        void close();
    }

    static Target target(String kind, long n) throws Exception {
        if (kind.equals("s3")) {
            S3StandInProcess s3 = S3StandInProcess.start();
            String bucket = "moc-instructions";
            long t0 = System.nanoTime();
            s3.gen(bucket, n, PCT, 10);
            log("s3: %,d keys loaded in the stand-in in %.1f s", n, (System.nanoTime() - t0) / 1e9);
            s3.reset();
            return new Target() {
                public Map<String, String> env(String jdbcUrl) {
                    Map<String, String> env = LoadBenchmark.env(jdbcUrl, s3.endpoint(), bucket);
                            env.put("RECLAIM_UPLOAD_TEMP_MAX_DELETES", "1000000000");
                    return env;
                }

                public String sweep() {
                    return "upload-temp";
                }

                public String store() {
                    return "moc-files";
                }

                public int pageSize() {
                    return 1000;
                }

                public int batch() {
                    return 1000;
                }

                public long[] wireCalls() throws Exception {
                    S3StandInProcess.Stats st = s3.stats();
                    return new long[] {st.lists(), st.deletes()};
                }

                public AssetEmulatorProcess.Verify verify() throws Exception {
                    return s3.verify(bucket, n, PCT);
                }

                public void close() {
                    s3.close();
                }
            };
        }
        AssetEmulatorProcess cl = AssetEmulatorProcess.start(n, Duration.ZERO, AssetSweepBenchmark.HOURLY_LIMIT);
        return new Target() {
            public Map<String, String> env(String jdbcUrl) {
                Map<String, String> env = LoadBenchmark.env(jdbcUrl, "http://127.0.0.1:1", "moc-instructions");
                env.put("CLOUDINARY_URL", cl.cloudinaryUrl());
                env.put("RECLAIM_BOBBLEHEAD_MAX_DELETES", "1000000000");
                return env;
            }

            public String sweep() {
                return "bobblehead-temp-photos";
            }

            public String store() {
                return "bobblehead-photos";
            }

            public int pageSize() {
                return 500;
            }

            public int batch() {
                return 100;
            }

            public long[] wireCalls() throws Exception {
                AssetEmulatorProcess.Stats st = cl.stats();
                return new long[] {st.listCalls(), st.deleteCalls()};
            }

            public AssetEmulatorProcess.Verify verify() throws Exception {
                return cl.verify(n, PCT);
            }

            public void close() {
                cl.close();
            }
        };
    }

    /** A fresh database with the sweep's referenced rows (30%), Reclaim's schema migrated. */
    static String assetDatabase(String kind, long n) throws Exception {
        String jdbcUrl = TestPostgres.freshDatabase();
        try (HikariDataSource seed = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
            if (kind.equals("s3")) {
                AssetDataset.seedMocFiles(seed, n, PCT);
            } else {
                AssetDataset.seedBobbleheads(seed, n, PCT);
            }
            Database.migrate(seed);
        }
        return jdbcUrl;
    }

    private static void assets(String kind) throws Exception {
        long n = num("assets", 1_000_000);
        long small = num("small", 10_000);
        int k = (int) num("pages", kind.equals("s3") ? 100 : 200);
        TestPostgres.server();
        long orphans = n - AssetDataset.referencedCount(n, PCT);

        Measured warm = sweepOnce(kind, 2_000, true, null);
        log("%s: warm-up %s", kind, warm);
        Measured s = sweepOnce(kind, small, true, null);
        log("%s: small %s", kind, s);
        Measured l = sweepOnce(kind, n, true, null);
        log("%s: large %s", kind, l);
        int page = kind.equals("s3") ? 1000 : 500;
        int batch = kind.equals("s3") ? 1000 : 100;
        long pages = ceil(n, page);
        row(String.format(Locale.ROOT, "%s: list calls, %,d assets in one run", kind, n),
                String.format(Locale.ROOT, "%,d (server) / %,d (engine), %.1f s", l.wireLists, l.engineLists, l.seconds),
                "= ceil(" + n + "/" + page + ") = " + pages, l.wireLists == pages && l.engineLists == pages);
        row(String.format(Locale.ROOT, "%s: delete calls, %,d orphans", kind, orphans),
                String.format(Locale.ROOT, "%,d (server) / %,d (engine)", l.wireDeletes, l.engineDeletes),
                "= ceil(" + orphans + "/" + batch + ") = " + ceil(orphans, batch),
                l.wireDeletes == ceil(orphans, batch) && l.engineDeletes == ceil(orphans, batch));
        double ratio = (double) l.heap / s.heap;
        row(String.format(Locale.ROOT, "%s: peak retained heap, %,d vs %,d assets", kind, n, small),
                String.format(Locale.ROOT, "%,d KB vs %,d KB = %.2fx (%d and %d forced samples)", l.heap >> 10, s.heap >> 10,
                        ratio, l.samples, s.samples), "<= 1.2x", s.heap > 0 && ratio <= 1.2);
        row(kind + ": every orphan gone, every referenced asset kept", l.verify + "; " + s.verify, "all", l.ok && s.ok);

        // Resumption: maxListPagesPerRun k, fresh data; runs until every orphan is gone and the listing wrapped.
        Path config = Files.createTempFile("reclaim-pages", ".yaml");
        String shipped = Files.readString(Path.of(CONFIG));
        String match = kind.equals("s3") ? "    match: uploads/tmp/**\n" : "    match: users/*/temp/**\n";
        if (!shipped.contains(match)) {
            throw new IllegalStateException("the shipped configuration changed: no '" + match.trim() + "'");
        }
        Files.writeString(config, shipped.replace(match, match + "    maxListPagesPerRun: " + k + "\n"));
        long bound = ceil(pages, k) + 1;
        String jdbcUrl = assetDatabase(kind, n);
        int runs = 0;
        long lists = 0;
        long deletes = 0;
        boolean wrapped = false;
        List<String> perRun = new ArrayList<>();
        try (Target t = target(kind, n)) {
            Map<String, String> env = t.env(jdbcUrl);
            env.put("RECLAIM_CONFIG", config.toString());
            AssetEmulatorProcess.Verify v = t.verify();
            while (runs < bound + 5 && (v.orphansPresent() > 0 || !wrapped)) {
                runs++;
                Ran r = run(env, jdbcUrl, List.of(t.sweep()), t.store(), Deadline.none(), false, 0);
                SweepReport sr = r.report.sweeps().get(0);
                wrapped |= sr.listing() != null && sr.listing().wrapped();
                lists += r.probe.lists();
                deletes += r.probe.deletes();
                v = t.verify();
                perRun.add(String.format(Locale.ROOT, "%d: %,d listed, %,d purged, stoppedBy %s, %.1f s", runs,
                        sr.scanned(), sr.purged(), sr.stoppedBy(), r.seconds));
                log("%s: resumption run %s; orphans left %,d", kind, perRun.get(perRun.size() - 1), v.orphansPresent());
            }
            long[] wire = t.wireCalls();
            row(String.format(Locale.ROOT, "%s: runs to reach every orphan, maxListPagesPerRun %d, P = %,d pages", kind,
                            k, pages), String.format(Locale.ROOT, "%d runs (list calls %,d, delete calls %,d); %s",
                            runs, wire[0], wire[1], v.orphansPresent() == 0 && v.referencedMissing() == 0 ? "all orphans gone,"
                                    + " all referenced kept" : "NOT CLEAN: " + v),
                    "<= ceil(P/k)+1 = " + bound, runs <= bound && v.ok());
        }
    }

    /** One unbudgeted run of the asset sweep over {@code n} fresh assets; with forced heap samples. */
    private static Measured sweepOnce(String kind, long n, boolean heap, Path config) throws Exception {
        String jdbcUrl = assetDatabase(kind, n);
        try (Target t = target(kind, n)) {
            Map<String, String> env = t.env(jdbcUrl);
            if (config != null) {
                env.put("RECLAIM_CONFIG", config.toString());
            }
            Ran r = run(env, jdbcUrl, List.of(t.sweep()), t.store(), Deadline.none(), heap,
                    (int) Math.max(1, ceil(n, t.pageSize()) / 25));
            long[] wire = t.wireCalls();
            AssetEmulatorProcess.Verify v = t.verify();
            SweepReport sr = r.report.sweeps().get(0);
            boolean ok = v.ok() && sr.failed() == 0 && sr.stoppedBy() == null;
            return new Measured(n, r.seconds, wire[0], wire[1], r.probe.lists(), r.probe.deletes(), r.heap.forcedPeak(),
                    r.heap.forcedGcs(), ok, String.format(Locale.ROOT, "%,d: referenced kept %,d, orphans gone %,d, left %,d",
                    n, v.referencedPresent(), v.orphansGone(), v.orphansPresent()));
        } finally {
            TestPostgres.drop(jdbcUrl);
        }
    }

    record Measured(long n, double seconds, long wireLists, long wireDeletes, long engineLists, long engineDeletes,
                    long heap, int samples, boolean ok, String verify) {
    }

    record Ran(RunReport report, double seconds, AssetProbeStore probe, HeapMeter heap) {
    }

    /**
     * One real run of {@code sweeps} on the engine wired like a deployment's, the store {@code storeName} wrapped by
     * the probe; with {@code heap}, forced full GCs every {@code samplePages}-th listed page and on the delete after it
     * (as AssetSweepBenchmark: pages/25, so small and large runs get as many samples), or with {@code samplePages} 0
     * every 2 s from a timer (records sweeps list nothing); the peak of what stays live is the run's retained heap.
     */
    static Ran run(Map<String, String> env, String jdbcUrl, List<String> sweeps, String storeName, Deadline deadline,
                   boolean heap, int samplePages) throws Exception {
        ReclaimConfig config = ConfigLoader.load(Path.of(env.get("RECLAIM_CONFIG")), env);
        Stores real = ReclaimFixture.stores(config, env);
        AssetProbeStore probe = new AssetProbeStore(real.get(storeName));
        Map<String, Store> byName = new LinkedHashMap<>(real.all());
        byName.put(storeName, probe);
        Stores stores = new Stores(byName, real);
        try (HikariDataSource pool = Database.pool(TestSettings.of(env).database())) {
            for (String s : sweeps) {
                RecordPurgeBenchmark.approveOneRun(pool, s);
            }
            try (Reclaim reclaim = new Reclaim(config, pool, stores, null, Outbox.Policy.DEFAULT, stores)) {
                HeapMeter meter = HeapMeter.start();
                java.util.concurrent.ScheduledExecutorService timer = null;
                if (heap && samplePages > 0) {
                    probe.sampleHeap(meter, samplePages);
                } else if (heap) {
                    timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                        Thread th = new Thread(r, "heap-timer");
                        th.setDaemon(true);
                        return th;
                    });
                    timer.scheduleAtFixedRate(meter::forcedSample, 2, 2, TimeUnit.SECONDS);
                }
                long t0 = System.nanoTime();
                RunRequest request = new RunRequest("benchmark", false, sweeps, deadline);
                RunReport report = reclaim.run(request);
                long nanos = System.nanoTime() - t0;
                if (timer != null) {
                    timer.shutdownNow();
                    timer.awaitTermination(5, TimeUnit.SECONDS);
                }
                meter.close();
                probe.sampleHeap(null, 1);
                return new Ran(report, nanos / 1e9, probe, meter);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ 4. budget

    private static void budget() throws Exception {
        int mocs = (int) num("mocs", 100_000);
        long n = num("assets", 1_000_000);
        int smallMocs = (int) num("small-mocs", 1_000);
        long small = num("small", 10_000);
        Duration budget = Duration.ofSeconds(num("budget", 120));
        EmbeddedPostgres pg = TestPostgres.server();

        long smallHeap;
        try (Both b = Both.make(pg, smallMocs, small)) {
            Ran r = run(b.env, b.db, List.of("moc-purge", "upload-temp"), "moc-files", Deadline.none(), true, 0);
            smallHeap = r.heap.forcedPeak();
            log("budget: small run (%,d MOCs, %,d keys, no budget): %.1f s, retained heap peak %,d KB (%d samples);"
                    + " clean: %s", smallMocs, small, r.seconds, smallHeap >> 10, r.heap.forcedGcs(), b.clean());
        }
        try (Both b = Both.make(pg, mocs, n)) {
            int runs = 0;
            double worstOver = Double.NEGATIVE_INFINITY;
            long peak = 0;
            int samples = 0;
            List<String> lines = new ArrayList<>();
            String clean = b.clean();
            while (runs < 30 && !clean.startsWith("true")) {
                runs++;
                Ran r = run(b.env, b.db, List.of("moc-purge", "upload-temp"), "moc-files", Deadline.after(budget), true, 0);
                double over = r.seconds - budget.toMillis() / 1000.0;
                boolean stopped = r.report.sweeps().stream().anyMatch(s -> "timeBudget".equals(s.stoppedBy()));
                if (stopped) {
                    worstOver = Math.max(worstOver, over);
                }
                peak = Math.max(peak, r.heap.forcedPeak());
                samples += r.heap.forcedGcs();
                clean = b.clean();
                StringBuilder what = new StringBuilder();
                for (SweepReport s : r.report.sweeps()) {
                    what.append(String.format(Locale.ROOT, " %s purged %,d%s;", s.name(), s.purged(),
                            s.stoppedBy() == null ? "" : " (stopped by " + s.stoppedBy() + ")"));
                }
                lines.add(String.format(Locale.ROOT, "run %d: %.1f s (%+.1f s past the budget)%s retained heap %,d KB",
                        runs, r.seconds, over, what, r.heap.forcedPeak() >> 10));
                log("budget: %s; left: %s", lines.get(lines.size() - 1), clean);
            }
            row(String.format(Locale.ROOT, "budget %d s, %,d MOCs + %,d S3 keys: overshoot of runs stopped by the budget",
                    budget.toSeconds(), mocs, n), String.format(Locale.ROOT, "at most %+.1f s", worstOver), "<= 5 s",
                    worstOver <= 5);
            row("  peak retained heap vs the small run", String.format(Locale.ROOT, "%,d KB vs %,d KB = %.2fx (%d samples)",
                    peak >> 10, smallHeap >> 10, (double) peak / smallHeap, samples), "<= 1.2x",
                    smallHeap > 0 && (double) peak / smallHeap <= 1.2);
            row("  runs until nothing is left", runs + " runs; " + clean, "work finished", clean.startsWith("true"));
            lines.forEach(l -> System.out.println("  " + l));
        }
    }

    /** A database of MOCs plus temp uploads, and the S3 stand-in holding the MOCs' files and the temp keys. */
    static final class Both implements AutoCloseable {
        final RecordPurgeBenchmark.Dataset data;
        final S3StandInProcess s3;
        final String db;
        final Map<String, String> env;
        final long n;

        private Both(RecordPurgeBenchmark.Dataset data, S3StandInProcess s3, String db, Map<String, String> env, long n) {
            this.data = data;
            this.s3 = s3;
            this.db = db;
            this.env = env;
            this.n = n;
        }

        static Both make(EmbeddedPostgres pg, int mocs, long n) throws Exception {
            RecordPurgeBenchmark.Dataset d = RecordPurgeBenchmark.Dataset.generate(pg, mocs);
            String db = d.copy(pg, "budget");
            try (HikariDataSource seed = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", db)).database())) {
                AssetDataset.seedMocFiles(seed, n, PCT);
            }
            S3StandInProcess s3 = S3StandInProcess.start();
            s3.gen("moc-instructions", n, PCT, 10);
            long all = s3.sql("moc-instructions", db, OWNED_KEYS);
            log("budget: %,d expired MOCs and %,d temp keys (%,d keys in the bucket)", mocs, n, all);
            Map<String, String> env = env(db, s3.endpoint(), "moc-instructions");
            env.put("RECLAIM_MOC_MAX_DELETES", "1000000000"); // the budget, not the caps, is what ends these runs
            env.put("RECLAIM_UPLOAD_TEMP_MAX_DELETES", "1000000000");
            return new Both(d, s3, db, env, n);
        }

        /** "true ..." once no expired MOC, no pending deletion and no orphan is left and the bucket holds exactly what rows own. */
        String clean() throws Exception {
            long expired;
            long pending;
            try (HikariDataSource c = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", db)).database())) {
                expired = dev.reclaim.testing.ReferenceData.count(c, EXPIRED);
                pending = dev.reclaim.testing.ReferenceData.count(c, "SELECT count(*) FROM reclaim.pending_deletions");
            }
            AssetEmulatorProcess.Verify v = s3.verify("moc-instructions", n, PCT);
            // The whole bucket against every key the rows own (3.5 million) takes minutes here: once the rest is done.
            String same = expired == 0 && pending == 0 && v.ok() ? s3.same("moc-instructions", db, OWNED_KEYS) : "not yet";
            boolean ok = expired == 0 && pending == 0 && v.ok() && same.startsWith("true");
            return String.format(Locale.ROOT, "%s expired MOCs %,d, pending deletions %,d, orphans %,d, referenced "
                    + "missing %,d, bucket = owned keys: %s", ok, expired, pending, v.orphansPresent(), v.referencedMissing(), same);
        }

        @Override
        public void close() throws Exception {
            s3.close();
            data.close();
        }
    }

    // ------------------------------------------------------------------------------------------ shared

    static Map<String, String> env(String jdbcUrl, String s3Endpoint, String bucket) {
        Map<String, String> env = new HashMap<>();
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", CONFIG);
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        env.put("AWS_ENDPOINT_URL_S3", s3Endpoint);
        env.put("RECLAIM_MOC_BUCKET", bucket);
        // Nothing leaves the machine: no CloudWatch; the Cloudinary store (asked how it is set up by every run) answers.
        env.put("RECLAIM_METRICS", "false");
        env.put("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:1");
        env.put("CLOUDINARY_URL", idleCloudinary().cloudinaryUrl());
        return env;
    }

    private static dev.reclaim.testing.cloudinary.CloudinaryEmulator idle;

    /** An empty Cloudinary emulator in this JVM, for runs that never list Cloudinary. */
    private static synchronized dev.reclaim.testing.cloudinary.CloudinaryEmulator idleCloudinary() {
        if (idle == null) {
            idle = dev.reclaim.testing.cloudinary.CloudinaryEmulator.start();
        }
        return idle;
    }

    /**
     * PostgreSQL's CPU over a window, backends that exit during it included (CpuMeter reads it once at the end, so it
     * misses the backends of workers that have exited): the postmaster on {@code port} and its children, read every
     * 250 ms, each process's last reading kept.
     */
    static final class PgCpu implements AutoCloseable {
        private final Map<Long, Long> first = new HashMap<>();
        private final Map<Long, Long> last = new HashMap<>();
        private final Thread thread;
        private volatile boolean running = true;
        private final long postmaster;

        PgCpu(int port) throws Exception {
            long pm = -1;
            try (var procs = Files.newDirectoryStream(Path.of("/proc"), q -> q.getFileName().toString().matches("\\d+"))) {
                for (Path q : procs) {
                    try {
                        String cmd = Files.readString(q.resolve("cmdline"));
                        if (cmd.contains("postgres") && cmd.contains("\0-p\0" + port + "\0")) {
                            pm = Long.parseLong(q.getFileName().toString());
                        }
                    } catch (Exception ignored) {
                        // gone
                    }
                }
            }
            postmaster = pm;
            read(true);
            thread = new Thread(() -> {
                while (running) {
                    read(false);
                    try {
                        Thread.sleep(250);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "pg-cpu");
            thread.setDaemon(true);
            thread.start();
        }

        private synchronized void read(boolean initial) {
            try (var procs = Files.newDirectoryStream(Path.of("/proc"), q -> q.getFileName().toString().matches("\\d+"))) {
                for (Path q : procs) {
                    try {
                        String st = Files.readString(q.resolve("stat"));
                        String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
                        long pid = Long.parseLong(q.getFileName().toString());
                        if (pid == postmaster || Long.parseLong(f[1]) == postmaster) {
                            long ns = (long) ((Long.parseLong(f[11]) + Long.parseLong(f[12])) * ProcCpu.TICK);
                            if (initial) {
                                first.put(pid, ns);
                            }
                            last.put(pid, ns);
                        }
                    } catch (Exception ignored) {
                        // gone
                    }
                }
            } catch (Exception ignored) {
                // no /proc
            }
        }

        /** Cores used since the start, over {@code nanos}. */
        synchronized double cores(long nanos) {
            long sum = 0;
            for (Map.Entry<Long, Long> e : last.entrySet()) {
                sum += e.getValue() - first.getOrDefault(e.getKey(), 0L);
            }
            return sum / (double) nanos;
        }

        @Override
        public void close() {
            running = false;
            read(false);
        }
    }

    /** CPU time of processes from /proc (Linux), in nanoseconds. */
    static final class ProcCpu {
        private static final double TICK = 1e9 / 100;

        /** utime + stime of a live process. */
        static long pidNanos(long pid) {
            return field(Path.of("/proc/" + pid + "/stat"), 11, 12);
        }

        /** cutime + cstime of this JVM: the CPU of its children that have exited and been waited for. */
        static long childrenNanos() {
            return field(Path.of("/proc/self/stat"), 13, 14);
        }

        private static long field(Path stat, int a, int b) {
            try {
                String s = Files.readString(stat);
                String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                return (long) ((Long.parseLong(f[a]) + Long.parseLong(f[b])) * TICK);
            } catch (Exception e) {
                return 0;
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (Exception e) {
            return "?";
        }
    }

    static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }

    private static void row(String target, String measured, String goal, boolean pass) {
        ROWS.add(new String[] {target, measured, goal, pass ? "PASS" : "FAIL"});
    }

    private static boolean table() {
        System.out.println();
        System.out.println("| Target | Measured | Goal | Result |");
        System.out.println("| --- | --- | --- | --- |");
        boolean all = true;
        for (String[] r : ROWS) {
            System.out.println("| " + String.join(" | ", r) + " |");
            all &= r[3].equals("PASS");
        }
        System.out.println("load average at the end: " + loadAverage());
        return all;
    }

    static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[%tT] " + format + "%n", prepend(java.time.LocalTime.now(), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
