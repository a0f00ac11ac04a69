package dev.reclaim.bench;

import dev.reclaim.testing.TestSettings;

import com.cloudinary.Api;
import com.cloudinary.Cloudinary;
import com.cloudinary.api.ApiResponse;
import com.cloudinary.utils.ObjectUtils;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.TestS3;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Performance benchmark of the asset sweeps (not a unit test; see docs/PERFORMANCE.md, "Asset sweeps").
 *
 * <pre>
 * mvn -q test-compile exec:exec@bench -Dbench.class=dev.reclaim.bench.AssetSweepBenchmark -Dbench.args="..."
 * </pre>
 *
 * Every Reclaim run is the real engine: {@link Reclaim} wired from an environment like a deployment's (shipped
 * config/reclaim.yaml, the real CloudinaryStore and S3Store, a Hikari pool on a fresh embedded-PostgreSQL database
 * with the reference schemas, Reclaim's own schema migrated beforehand), one sweep per run. The Cloudinary emulator
 * runs in a JVM of its own ({@link AssetEmulatorProcess}) so that its assets do not count in this JVM's heap.
 * Observation only: the store is wrapped to count calls ({@link AssetProbeStore}), the DataSource to count the
 * referenced query ({@link AssetQueryCounter}); the emulator counts the HTTP calls it receives.
 *
 * <p>Phases, in this order (70% orphans everywhere, all Cloudinary assets older than the 24 h retention):
 * <ol>
 * <li>heap: a warm-up sweep, then sweeps of {@code --heap-small} and {@code --heap-large} assets; peak retained heap
 * from forced full GCs inside the sweep.</li>
 * <li>main: sweep {@code bobblehead-temp-photos} over {@code --assets} assets: API calls, queries per page, wall
 * time, heap (without forced GCs).</li>
 * <li>naive: on {@code --naive} assets with {@code --latency-ms} added per emulator call, Reclaim and then the naive
 * approach ({@link #naive}), each on a fresh emulator and database.</li>
 * <li>s3: sweep {@code upload-temp} over {@code --s3} objects in S3Mock.</li>
 * </ol>
 * Arguments (one string, separated by spaces or commas): {@code --assets=100000 --naive=20000 --latency-ms=5
 * --s3=5000 --heap-small=10000 --heap-large=1000000 --warmup=2000 --phases=heap+main+naive+s3}; and
 * {@code --leak-check=true}, a calibration of the heap measurement only: the probe then keeps every listed page (as
 * a leaking sweep would) and the heap target must come out FAIL. Exit status 1 when a target is missed, 2 on an
 * error.
 */
public final class AssetSweepBenchmark {
    static final String CONFIG = "config/reclaim.yaml";
    static final String CL_SWEEP = "bobblehead-temp-photos";
    static final String CL_STORE = "bobblehead-photos";
    static final String S3_SWEEP = "upload-temp";
    static final String S3_STORE = "moc-files";
    /** Emulator hourly Admin API budget: high, so the quota reserve is not what is measured. */
    static final long HOURLY_LIMIT = 10_000_000;
    static final int PCT = AssetDataset.REFERENCED_PERCENT;
    static final double API_RATIO_TARGET = 50;
    static final double TIME_RATIO_TARGET = 10;
    static final double HEAP_RATIO_TARGET = 1.2;
    static final int HEAP_SAMPLES = 25;

    /** Calibration of the heap measurement (see {@link AssetProbeStore#retainListed}); never on for real figures. */
    private static boolean leakCheck;

    private AssetSweepBenchmark() {
    }

    record Options(long assets, long naive, long latencyMs, long s3, long heapSmall, long heapLarge, long warmup,
                   Set<String> phases, boolean leakCheck) {
        static Options parse(String[] args) {
            Map<String, String> o = new HashMap<>();
            for (String a : String.join(" ", args).split("[\\s,]+")) {
                if (a.isBlank()) {
                    continue;
                }
                if (!a.startsWith("--") || !a.contains("=")) {
                    throw new IllegalArgumentException("unknown argument '" + a + "' (use --name=value)");
                }
                o.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            }
            Set<String> phases = new LinkedHashSet<>(List.of(o.getOrDefault("phases", "heap+main+naive+s3").split("\\+")));
            Options opts = new Options(num(o, "assets", 100_000), num(o, "naive", 20_000), num(o, "latency-ms", 5),
                    num(o, "s3", 5_000), num(o, "heap-small", 10_000), num(o, "heap-large", 1_000_000),
                    num(o, "warmup", 2_000), phases, Boolean.parseBoolean(o.getOrDefault("leak-check", "false")));
            o.keySet().removeAll(List.of("assets", "naive", "latency-ms", "s3", "heap-small", "heap-large", "warmup",
                    "phases", "leak-check"));
            if (!o.isEmpty()) {
                throw new IllegalArgumentException("unknown options " + o.keySet());
            }
            return opts;
        }

        private static long num(Map<String, String> o, String k, long def) {
            String v = o.get(k);
            return v == null ? def : Long.parseLong(v.replace("_", ""));
        }
    }

    /** One Reclaim sweep run and what was observed. */
    record Measured(String label, long n, long orphans, long referenced, double seconds, RunReport report,
                    SweepReport sweep, long wireLists, long wireDeletes, long wireTotal, long engineLists,
                    long engineDeletes, long keysListed, long queries, boolean verified, String verifyText,
                    long heapBaseline, long heapForced, int forcedGcs, long heapNatural, int naturalGcs,
                    long heapSampled) {
    }

    /** The naive approach's run. */
    record Naive(long n, double seconds, double loadSeconds, long referencedLoaded, long calls, long lists,
                 long deletes, long deleted, long failed, long wireTotal, boolean verified, String verifyText) {
    }

    public static void main(String[] args) {
        int status;
        try {
            status = run(Options.parse(args)) ? 0 : 1;
        } catch (Throwable e) {
            e.printStackTrace();
            status = 2;
        }
        // S3Mock's server threads would keep the JVM alive; the shutdown hooks stop it and PostgreSQL.
        System.exit(status);
    }

    private static boolean run(Options o) throws Exception {
        printEnvironment(o);
        TestPostgres.server();
        List<String[]> rows = new ArrayList<>();
        List<String> notes = new ArrayList<>();

        if (o.phases().contains("heap")) {
            if (o.warmup() > 0) {
                log("heap: warm-up sweep of %,d assets (not measured)", o.warmup());
                cloudinary("warm-up", o.warmup(), Duration.ZERO, true);
            }
            leakCheck = o.leakCheck();
            if (leakCheck) {
                log("heap: CALIBRATION (--leak-check=true): the probe keeps every listed page, as a leaking sweep would;"
                        + " the heap target is expected to FAIL");
            }
            Measured small = cloudinary("heap-small", o.heapSmall(), Duration.ZERO, true);
            print(small);
            Measured large = cloudinary("heap-large", o.heapLarge(), Duration.ZERO, true);
            leakCheck = false;
            print(large);
            double ratio = (double) large.heapForced() / small.heapForced();
            rows.add(row(String.format("Peak retained heap, %s vs %s assets listed", fmt(large.n()), fmt(small.n())),
                    String.format(Locale.ROOT, "%s vs %s = %.2fx", kb(large.heapForced()), kb(small.heapForced()), ratio),
                    "<= " + HEAP_RATIO_TARGET + "x", small.heapForced() > 0 && ratio <= HEAP_RATIO_TARGET));
            rows.add(row("  heap runs correct (" + fmt(small.n()) + ", " + fmt(large.n()) + ")",
                    small.verifyText() + "; " + large.verifyText(), "all", small.verified() && large.verified()));
            notes.add(String.format(Locale.ROOT, "heap %s: baseline %s, forced-GC peak +%s (%d samples), natural "
                            + "after-GC max %s (%d GCs), sampled max +%s, %.1f s", fmt(small.n()), mb(small.heapBaseline()),
                    kb(small.heapForced()), small.forcedGcs(), signedKb(small.heapNatural()), small.naturalGcs(),
                    mb(small.heapSampled()), small.seconds()));
            notes.add(String.format(Locale.ROOT, "heap %s: baseline %s, forced-GC peak +%s (%d samples), natural "
                            + "after-GC max %s (%d GCs), sampled max +%s, %.1f s", fmt(large.n()), mb(large.heapBaseline()),
                    kb(large.heapForced()), large.forcedGcs(), signedKb(large.heapNatural()), large.naturalGcs(),
                    mb(large.heapSampled()), large.seconds()));
        }

        if (o.phases().contains("main")) {
            Measured m = cloudinary("main", o.assets(), Duration.ZERO, false);
            print(m);
            long listed = m.sweep().scanned() == null ? 0 : m.sweep().scanned();
            long wantLists = ceil(listed, 500);
            long wantDeletes = ceil(m.orphans(), 100);
            rows.add(row("Cloudinary list calls, " + fmt(m.n()) + " assets",
                    m.wireLists() + " (listed " + fmt(listed) + ")", "= ceil(listed/500) = " + wantLists,
                    m.wireLists() == wantLists));
            rows.add(row("Cloudinary delete calls, " + fmt(m.orphans()) + " orphans",
                    Long.toString(m.wireDeletes()), "= ceil(orphans/100) = " + wantDeletes, m.wireDeletes() == wantDeletes));
            // The sweep's reference query once per page, the store's right before each delete call (Trust issue).
            rows.add(row("Reference queries (Cloudinary)", String.format(Locale.ROOT, "%d for %d pages + %d delete calls",
                    m.queries(), m.engineLists(), m.engineDeletes()), "= pages + delete calls",
                    m.queries() == m.engineLists() + m.engineDeletes()));
            rows.add(row("  main run correct", m.verifyText(), "all", m.verified()));
            rows.add(row("  wall time (info)", String.format(Locale.ROOT, "%.2f s (sweep %d ms)", m.seconds(),
                    m.sweep().durationMs()), "-", null));
            rows.add(row("  peak heap (info, no forced GC)", String.format("after-GC max %s (%d GCs); sampled max +%s",
                    signedKb(m.heapNatural()), m.naturalGcs(), mb(m.heapSampled())), "-", null));
        }

        if (o.phases().contains("naive")) {
            Duration latency = Duration.ofMillis(o.latencyMs());
            Measured r = cloudinary("reclaim@" + o.latencyMs() + "ms", o.naive(), latency, false);
            print(r);
            Naive nv = naive(o.naive(), latency);
            print(nv);
            double callRatio = (double) nv.wireTotal() / r.wireTotal();
            double timeRatio = nv.seconds() / r.seconds();
            rows.add(row(String.format("API calls, naive vs Reclaim (%s assets, +%d ms/call)", fmt(o.naive()), o.latencyMs()),
                    String.format(Locale.ROOT, "%,d vs %,d = %.1fx fewer", nv.wireTotal(), r.wireTotal(), callRatio),
                    ">= " + (int) API_RATIO_TARGET + "x", callRatio >= API_RATIO_TARGET));
            rows.add(row("Wall time, naive vs Reclaim",
                    String.format(Locale.ROOT, "%.2f s vs %.2f s = %.1fx less", nv.seconds(), r.seconds(), timeRatio),
                    ">= " + (int) TIME_RATIO_TARGET + "x", timeRatio >= TIME_RATIO_TARGET));
            rows.add(row("  both correct", "Reclaim: " + r.verifyText() + "; naive: " + nv.verifyText(), "all",
                    r.verified() && nv.verified()));
        }

        if (o.phases().contains("s3")) {
            Measured s = s3(o.s3());
            print(s);
            long listed = s.sweep().scanned() == null ? 0 : s.sweep().scanned();
            long wantLists = ceil(listed, 1000);
            long wantDeletes = ceil(s.orphans(), 1000);
            rows.add(row("S3 list calls, " + fmt(s.n()) + " objects", s.engineLists() + " (listed " + fmt(listed) + ")",
                    "= ceil(listed/1000) = " + wantLists, s.engineLists() == wantLists));
            rows.add(row("S3 delete calls, " + fmt(s.orphans()) + " orphans", Long.toString(s.engineDeletes()),
                    "= ceil(orphans/1000) = " + wantDeletes, s.engineDeletes() == wantDeletes));
            rows.add(row("Reference queries (S3)", String.format(Locale.ROOT, "%d for %d pages + %d delete calls",
                    s.queries(), s.engineLists(), s.engineDeletes()), "= pages + delete calls",
                    s.queries() == s.engineLists() + s.engineDeletes()));
            rows.add(row("  s3 run correct", s.verifyText(), "all", s.verified()));
        }

        return table(rows, notes);
    }

    // ------------------------------------------------------------------ Cloudinary runs

    /** Fresh database and emulator with {@code n} assets; one real run of the Cloudinary sweep. */
    static Measured cloudinary(String label, long n, Duration latency, boolean sampleHeap) throws Exception {
        long referenced = AssetDataset.referencedCount(n, PCT);
        long orphans = n - referenced;
        log("%s: %,d assets (%,d referenced, %,d orphans), emulator latency %d ms: seeding", label, n, referenced,
                orphans, latency.toMillis());
        String jdbcUrl = TestPostgres.freshDatabase();
        try (HikariDataSource seed = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
            AssetDataset.seedBobbleheads(seed, n, PCT);
            Database.migrate(seed); // a deployed Reclaim's schema already exists
        }
        try (AssetEmulatorProcess emulator = AssetEmulatorProcess.start(n, latency, HOURLY_LIMIT)) {
            Map<String, String> env = baseEnv(jdbcUrl);
            env.put("CLOUDINARY_URL", emulator.cloudinaryUrl());
            // The S3 stores are only asked how they are set up in this phase: a closed local port answers them.
            env.put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1");
            env.put("RECLAIM_BOBBLEHEAD_MAX_DELETES", "100000000"); // the shipped cap (50,000) would stop the sweep
            Measured m = runReclaim(label, n, orphans, referenced, env, CL_SWEEP, CL_STORE, sampleHeap, () -> {
                AssetEmulatorProcess.Stats st = emulator.stats();
                AssetEmulatorProcess.Verify v = emulator.verify(n, PCT);
                return new Object[] {st, v.ok(), String.format("referenced kept %,d/%,d, orphans gone %,d/%,d",
                        v.referencedPresent(), referenced, v.orphansGone(), orphans)};
            });
            return m;
        }
    }

    interface After {
        /** {Stats or null, Boolean verified, String verifyText} */
        Object[] observe() throws Exception;
    }

    private static Measured runReclaim(String label, long n, long orphans, long referenced, Map<String, String> env,
                                       String sweep, String storeName, boolean sampleHeap, After after) throws Exception {
        ReclaimConfig config = ConfigLoader.load(Path.of(CONFIG), env);
        Stores real = ReclaimFixture.stores(config, env);
        AssetProbeStore probe = new AssetProbeStore(real.get(storeName));
        Map<String, Store> byName = new LinkedHashMap<>(real.all());
        byName.put(storeName, probe);
        Stores stores = new Stores(byName, real);
        HikariDataSource pool = Database.pool(TestSettings.of(env).database());
        java.util.Set<String> referenceQueries = new java.util.HashSet<>();
        SweepConfig.Assets assets = (SweepConfig.Assets) config.sweeps().get(sweep);
        if (assets.referenced() != null) {
            referenceQueries.add(assets.referenced().jdbcSql());
        }
        if (config.stores().get(storeName).referenced() != null) {
            referenceQueries.add(config.stores().get(storeName).referenced().jdbcSql());
        }
        AssetQueryCounter queries = new AssetQueryCounter(referenceQueries);
        RunReport report;
        long nanos;
        HeapMeter meter;
        RecordPurgeBenchmark.approveOneRun(pool, sweep); // a first run far past its brake: approved once
        try (Reclaim reclaim = new Reclaim(config, queries.wrap(pool), stores, null, Outbox.Policy.DEFAULT, pool, stores)) {
            log("%s: running sweep %s", label, sweep);
            meter = HeapMeter.start();
            if (sampleHeap) {
                probe.sampleHeap(meter, (int) Math.max(1, ceil(n, 500) / HEAP_SAMPLES));
                probe.retainListed(leakCheck);
            }
            long t0 = System.nanoTime();
            report = reclaim.run(new RunRequest("benchmark", false, List.of(sweep), null));
            nanos = System.nanoTime() - t0;
            meter.close();
            probe.sampleHeap(null, 1);
        }
        if (report.outcome() != Outcome.COMPLETED) {
            throw new IllegalStateException(label + ": run " + report.outcome() + ": " + report.reason());
        }
        SweepReport sr = report.sweeps().get(0);
        Object[] seen = after.observe();
        AssetEmulatorProcess.Stats st = (AssetEmulatorProcess.Stats) seen[0];
        boolean verified = (Boolean) seen[1] && sr.purged() == orphans && sr.failed() == 0 && sr.stoppedBy() == null;
        return new Measured(label, n, orphans, referenced, nanos / 1e9, report, sr,
                st == null ? -1 : st.listCalls(), st == null ? -1 : st.deleteCalls(), st == null ? -1 : st.totalCalls(),
                probe.lists(), probe.deletes(), probe.keysListed(), queries.executions(), verified, (String) seen[2],
                meter.baseline(), meter.forcedPeak(), meter.forcedGcs(), meter.naturalAfterGc(), meter.naturalGcs(),
                meter.sampledAboveBaseline());
    }

    private static Map<String, String> baseEnv(String jdbcUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", CONFIG);
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        return env;
    }

    // ------------------------------------------------------------------ the naive approach

    /**
     * What users write first: load every referenced public id into a HashSet, page through the Admin API with the SDK
     * (prefix users/, 500 per call, the most it allows), and delete each orphan with its own deleteResources call.
     * Same filters as the sweep (users/(user)/temp/, older than 24 h). Fresh database and emulator.
     */
    static Naive naive(long n, Duration latency) throws Exception {
        long referenced = AssetDataset.referencedCount(n, PCT);
        long orphans = n - referenced;
        log("naive: %,d assets (%,d orphans), emulator latency %d ms: seeding", n, orphans, latency.toMillis());
        String jdbcUrl = TestPostgres.freshDatabase();
        try (HikariDataSource seed = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
            AssetDataset.seedBobbleheads(seed, n, PCT);
        }
        try (AssetEmulatorProcess emulator = AssetEmulatorProcess.start(n, latency, HOURLY_LIMIT)) {
            log("naive: running");
            long t0 = System.nanoTime();
            Set<String> referencedIds = new HashSet<>();
            try (Connection c = DriverManager.getConnection(jdbcUrl); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT public_id FROM bobblehead_photos")) {
                while (rs.next()) {
                    referencedIds.add(rs.getString(1));
                }
            }
            long tLoaded = System.nanoTime();
            Api api = new Cloudinary(emulator.cloudinaryUrl()).api();
            Instant cutoff = Instant.now().minus(Duration.ofHours(24));
            long lists = 0;
            long deletes = 0;
            long deleted = 0;
            long failed = 0;
            String cursor = null;
            do {
                Map<String, Object> options = new HashMap<>();
                options.put("type", "upload");
                options.put("prefix", "users/");
                options.put("max_results", 500);
                if (cursor != null) {
                    options.put("next_cursor", cursor);
                }
                ApiResponse page = api.resources(options);
                lists++;
                for (Object o : (List<?>) page.get("resources")) {
                    Map<?, ?> r = (Map<?, ?>) o;
                    String id = (String) r.get("public_id");
                    Instant created = OffsetDateTime.parse((String) r.get("created_at")).toInstant();
                    if (!id.matches("users/[^/]+/temp/.+") || !created.isBefore(cutoff) || referencedIds.contains(id)) {
                        continue;
                    }
                    ApiResponse answer = api.deleteResources(List.of(id), ObjectUtils.emptyMap());
                    deletes++;
                    Object outcome = ((Map<?, ?>) answer.get("deleted")).get(id);
                    if ("deleted".equals(outcome) || "not_found".equals(outcome)) {
                        deleted++;
                    } else {
                        failed++;
                    }
                }
                Object next = page.get("next_cursor");
                cursor = next == null ? null : next.toString();
            } while (cursor != null);
            long t1 = System.nanoTime();
            AssetEmulatorProcess.Stats st = emulator.stats();
            AssetEmulatorProcess.Verify v = emulator.verify(n, PCT);
            return new Naive(n, (t1 - t0) / 1e9, (tLoaded - t0) / 1e9, referencedIds.size(), lists + deletes, lists,
                    deletes, deleted, failed, st.totalCalls(), v.ok() && deleted == orphans,
                    String.format("referenced kept %,d/%,d, orphans gone %,d/%,d", v.referencedPresent(), referenced,
                            v.orphansGone(), orphans));
        }
    }

    // ------------------------------------------------------------------ S3

    /** S3Mock bucket with {@code n} objects under uploads/tmp/, 30% referenced by moc_files; sweep upload-temp. */
    static Measured s3(long n) throws Exception {
        long referenced = AssetDataset.referencedCount(n, PCT);
        long orphans = n - referenced;
        log("s3: %,d objects (%,d referenced, %,d orphans): starting S3Mock, uploading", n, referenced, orphans);
        String bucket = TestS3.freshBucket("moc-instructions");
        List<String> keys = new ArrayList<>();
        Set<String> referencedKeys = new TreeSet<>();
        for (long i = 0; i < n; i++) {
            keys.add(AssetDataset.s3Key(i));
            if (AssetDataset.referenced(i, PCT)) {
                referencedKeys.add(AssetDataset.s3Key(i));
            }
        }
        long tUp = System.nanoTime();
        TestS3.putAll(bucket, keys);
        log("s3: uploaded %,d objects in %.1f s", n, (System.nanoTime() - tUp) / 1e9);
        String jdbcUrl = TestPostgres.freshDatabase();
        try (HikariDataSource seed = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
            AssetDataset.seedMocFiles(seed, n, PCT);
            Database.migrate(seed);
        }
        // S3 cannot backdate LastModified: a 1 s retention, and the objects are made older than that.
        Thread.sleep(2_500);
        Map<String, String> env = baseEnv(jdbcUrl);
        env.put("AWS_ENDPOINT_URL_S3", TestS3.endpoint().toString());
        env.put("RECLAIM_MOC_BUCKET", bucket);
        env.put("RECLAIM_UPLOAD_TEMP_RETENTION", "1s");
        env.put("CLOUDINARY_URL", "cloudinary://unused:unused@unused?upload_prefix=http://127.0.0.1:9"); // never called
        return runReclaim("s3", n, orphans, referenced, env, S3_SWEEP, S3_STORE, false, () -> {
            Set<String> left = TestS3.keys(bucket);
            long kept = referencedKeys.stream().filter(left::contains).count();
            long orphansLeft = left.size() - kept;
            return new Object[] {null, left.equals(referencedKeys),
                    String.format("referenced kept %,d/%,d, orphans gone %,d/%,d", kept, referenced, orphans - orphansLeft,
                            orphans)};
        });
    }

    // ------------------------------------------------------------------ output

    private static void print(Measured m) {
        SweepReport s = m.sweep();
        log("%s: %.2f s (sweep %d ms); listed %s, purged %s, referenced %s; engine calls list %d delete %d; "
                        + "emulator calls list %d delete %d total %d; report apiCalls %s; referenced queries %d; %s",
                m.label(), m.seconds(), s.durationMs(), s.scanned(), s.purged(), s.referenced(), m.engineLists(),
                m.engineDeletes(), m.wireLists(), m.wireDeletes(), m.wireTotal(), s.apiCalls(), m.queries(), m.verifyText());
        log("%s: heap baseline %s; forced-GC peak +%s (%d samples); natural after-GC max %s (%d GCs); sampled max +%s",
                m.label(), mb(m.heapBaseline()), m.forcedGcs() == 0 ? "n/a" : kb(m.heapForced()), m.forcedGcs(),
                signedKb(m.heapNatural()), m.naturalGcs(), mb(m.heapSampled()));
    }

    private static void print(Naive nv) {
        log("naive: %.2f s (loading %,d referenced ids %.2f s); calls list %d + delete %d = %d (emulator: %d); "
                        + "deleted %d, failed %d; %s", nv.seconds(), nv.referencedLoaded(), nv.loadSeconds(), nv.lists(),
                nv.deletes(), nv.calls(), nv.wireTotal(), nv.deleted(), nv.failed(), nv.verifyText());
    }

    private static String[] row(String target, String measured, String goal, Boolean pass) {
        return new String[] {target, measured, goal, pass == null ? "" : pass ? "PASS" : "FAIL"};
    }

    private static boolean table(List<String[]> rows, List<String> notes) {
        int[] w = new int[4];
        String[] head = {"Target", "Measured", "Goal", "Result"};
        for (int i = 0; i < 4; i++) {
            w[i] = head[i].length();
            for (String[] r : rows) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        String fmt = "| %-" + w[0] + "s | %-" + w[1] + "s | %-" + w[2] + "s | %-" + w[3] + "s |%n";
        System.out.println();
        System.out.printf(fmt, (Object[]) head);
        System.out.printf(fmt, "-".repeat(w[0]), "-".repeat(w[1]), "-".repeat(w[2]), "-".repeat(w[3]));
        boolean all = true;
        for (String[] r : rows) {
            System.out.printf(fmt, (Object[]) r);
            all &= !r[3].equals("FAIL");
        }
        for (String n : notes) {
            System.out.println("  " + n);
        }
        System.out.println(all ? "All targets met." : "Some targets missed (FAIL above).");
        return all;
    }

    private static void printEnvironment(Options o) {
        Runtime rt = Runtime.getRuntime();
        log("AssetSweepBenchmark %s: %s; Java %s (%s), %d CPUs, max heap %s; args %s", LocalDate.now(),
                System.getProperty("os.name") + " " + System.getProperty("os.arch"), System.getProperty("java.version"),
                ManagementFactory.getRuntimeMXBean().getVmName(), rt.availableProcessors(), mb(rt.maxMemory()), o);
    }

    static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static String kb(long bytes) {
        return String.format(Locale.ROOT, "%,d KB", Math.round(bytes / 1024.0));
    }

    private static String signedKb(long bytes) {
        return bytes == -1 ? "n/a" : (bytes >= 0 ? "+" : "") + kb(bytes);
    }

    private static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[%tT] " + format + "%n", prepend(Instant.now().atZone(java.time.ZoneId.systemDefault()), args));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
