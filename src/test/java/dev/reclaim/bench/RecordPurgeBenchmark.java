package dev.reclaim.bench;

import dev.reclaim.testing.TestSettings;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.PrefixGuard;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Performance benchmark of the records sweep {@code moc-purge} (not a unit test; see docs/PERFORMANCE.md).
 *
 * <p>For each N: generates the reference data set with exactly N expired MOCs (each with two files and a thumbnail,
 * a parts list with 5 allocated bricks, two own gallery images, and some images shared with the next MOC; 30% of
 * MOCs are expired, so 10N/3 MOCs in all) into a template database; every measured run purges a copy of it, so the
 * engine (the real {@link Reclaim} wiring, shipped config/reclaim.yaml, sweep moc-purge only, outbox and S3
 * DeleteObjects included) and {@link FloorLoop} (the hand-written JDBC floor) purge identical rows. Reports
 * MOCs/second, database round trips per MOC (JDBC level, audited once on the wire), peak heap, the CPU other
 * processes took, where the time went, and PASS/FAIL per target. Figures and analysis: docs/PERFORMANCE.md.
 *
 * <pre>
 * mvn -q test-compile exec:exec@bench -Dbench.class=dev.reclaim.bench.RecordPurgeBenchmark -Dbench.args="--rounds=2 --stub-s3 10000,100000"
 * </pre>
 * Arguments (separated by commas or spaces): the sizes N (default 10000,100000); {@code --rounds=R} (default 1;
 * odd rounds run the engine first, even rounds the floor); {@code --stub-s3} (adds a diagnostic engine run per
 * round whose stores answer without calling S3); {@code --warmup=2000} (MOCs purged by engine and floor before
 * measuring; 0 skips); {@code --audit=2000} (MOCs of the wire-level round-trip audit; 0 skips);
 * {@code --floor-first}; {@code --config=PATH} (default the shipped config/reclaim.yaml).
 */
public final class RecordPurgeBenchmark {
    private static final String SWEEP = "moc-purge";
    /** The configuration the engine and the floor read ({@code --config=PATH}; default the shipped one). */
    private static String CONFIG = "config/reclaim.yaml";
    private static final int PARTS_PER_MOC = 5;
    /** Issue 20's target (the first records issue asked for 50%). */
    private static final double RATE_TARGET = 0.9;
    private static final double HEAP_TARGET = 1.2;
    private static final String S3 = "s3-delete";
    private static CloudinaryEmulator cloudinary;
    /**
     * {@code --s3=standin}: S3 is the listing-faithful stand-in (a sorted map behind an HTTP server) rather than S3Mock,
     * whose work per DeleteObjects (it keeps a bucket index on disk) takes the engine's cores where S3's would not.
     */
    private static dev.reclaim.testing.S3StandIn standIn;
    /** {@code --floor-outbox}: the floor also writes each item's keys to the outbox in its transaction (FloorLoop). */
    private static boolean floorOutbox;
    private static final java.util.concurrent.atomic.AtomicInteger BUCKETS = new java.util.concurrent.atomic.AtomicInteger();
    /** Categories whose time is followed through each tenth of a run. */
    private static final List<String> PROFILED = List.of("outbox-drain", S3, "outbox-add", "page");
    /** A run during which other processes used more than this many cores is marked as disturbed. */
    private static final double DISTURBED = 0.25;

    private RecordPurgeBenchmark() {
    }

    /** One measured purge. */
    record Measured(String who, int round, long n, long nanos, long sweepMs, JdbcMeter.Tally tally, long baseline,
                    long peakSampled, long peakAfterGc, int gcs, long keys, long bricks, long images,
                    Map<String, Long> rowsAfter, CpuMeter cpu) {
        double seconds() {
            return nanos / 1e9;
        }

        double rate() {
            return n / seconds();
        }

        long dbCalls() {
            return tally.calls() - tally.calls(S3);
        }

        boolean disturbed() {
            return cpu.otherCores > DISTURBED;
        }

        /** Time outside the outbox drain: the run minus the drain's SQL and its store calls. */
        double secondsWithoutDrain() {
            return (nanos - tally.nanos("outbox-drain") - tally.nanos(S3)) / 1e9;
        }
    }

    public static void main(String[] args) {
        int status = 0;
        try {
            run(args);
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        // S3Mock's server threads would keep the JVM alive; the shutdown hooks stop it and PostgreSQL.
        System.exit(status);
    }

    private static void run(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        int warmup = 2000;
        int audit = 2000;
        int rounds = 1;
        boolean floorFirst = false;
        boolean stubS3 = false;
        for (String a : String.join(" ", args).split("[\\s,]+")) {
            if (a.isBlank()) {
                continue;
            }
            if (a.startsWith("--config=")) {
                CONFIG = a.substring(9);
            } else if (a.startsWith("--warmup=")) {
                warmup = Integer.parseInt(a.substring(9).replace("_", ""));
            } else if (a.startsWith("--audit=")) {
                audit = Integer.parseInt(a.substring(8).replace("_", ""));
            } else if (a.startsWith("--rounds=")) {
                rounds = Math.max(1, Integer.parseInt(a.substring(9)));
            } else if (a.equals("--floor-first")) {
                floorFirst = true;
            } else if (a.equals("--stub-s3")) {
                stubS3 = true;
            } else if (a.equals("--floor-outbox")) {
                floorOutbox = true;
            } else if (a.equals("--s3=standin")) {
                standIn = dev.reclaim.testing.S3StandIn.start();
            } else if (a.equals("--s3=s3mock")) {
                standIn = null;
            } else if (a.matches("[0-9_]+")) {
                sizes.add(Integer.parseInt(a.replace("_", "")));
            } else {
                throw new IllegalArgumentException("unknown argument '" + a + "'; expected sizes (10000,100000),"
                        + " --warmup=N, --audit=N, --rounds=R, --floor-first, --stub-s3, --s3=s3mock|standin, --floor-outbox");
            }
        }
        if (sizes.isEmpty()) {
            sizes = List.of(10_000, 100_000);
        }

        // S3Mock's Tomcat logs through java.util.logging; keep stdout and stderr for the figures.
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        for (var h : java.util.logging.Logger.getLogger("").getHandlers()) {
            h.setLevel(java.util.logging.Level.WARNING);
        }
        EmbeddedPostgres pg = TestPostgres.server();
        TestS3.endpoint();
        printEnvironment(pg, args);

        if (warmup > 0) {
            log("warm-up: %,d MOCs, engine and floor (not reported)", warmup);
            try (Dataset d = Dataset.generate(pg, warmup)) {
                engine(d, d.copy(pg, "engine"), 0);
                floor(d, d.copy(pg, "floor"), 0);
            }
        }

        if (audit > 0) {
            log("round-trip audit on the wire: %,d MOCs, engine and floor", audit);
            audit(pg, audit);
        }

        List<Group> groups = new ArrayList<>();
        for (int n : sizes) {
            log("N = %,d: generating data", n);
            Group g = new Group(n, new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            try (Dataset d = Dataset.generate(pg, n)) {
                for (int round = 1; round <= rounds; round++) {
                    boolean engineFirst = (round % 2 == 1) != floorFirst;
                    List<String> order = new ArrayList<>(engineFirst ? List.of("engine", "floor") : List.of("floor", "engine"));
                    if (stubS3) {
                        order.add("stub");
                    }
                    for (String who : order) {
                        String db = d.copy(pg, who + round);
                        log("N = %,d, round %d: %s", n, round, who);
                        Measured m = switch (who) {
                            case "engine" -> engine(d, db, round);
                            case "floor" -> floor(d, db, round);
                            default -> engine(d, db, round, true);
                        };
                        d.dropCopy(pg, db);
                        (switch (who) {
                            case "engine" -> g.engine();
                            case "floor" -> g.floor();
                            default -> g.stub();
                        }).add(m);
                        log("  %.1f s, %,.0f MOCs/s", m.seconds(), m.rate());
                    }
                    Measured e = g.engine().get(g.engine().size() - 1);
                    Measured f = g.floor().get(g.floor().size() - 1);
                    if (!e.rowsAfter().equals(f.rowsAfter()) || e.keys() != f.keys() || e.bricks() != f.bricks()
                            || e.images() != f.images()) {
                        throw new IllegalStateException("engine and floor did different work: " + e + " vs " + f);
                    }
                }
            }
            groups.add(g);
        }
        printResults(groups);
    }

    /** All runs of one size. */
    record Group(int n, List<Measured> engine, List<Measured> floor, List<Measured> stub) {
        static double rate(List<Measured> runs) {
            return runs.stream().mapToLong(Measured::n).sum() / runs.stream().mapToDouble(Measured::seconds).sum();
        }

        static double rateWithoutDrain(List<Measured> runs) {
            return runs.stream().mapToLong(Measured::n).sum()
                    / runs.stream().mapToDouble(Measured::secondsWithoutDrain).sum();
        }

        static List<Measured> quiet(List<Measured> runs) {
            return runs.stream().filter(m -> !m.disturbed()).toList();
        }

        static long peakAfterGc(List<Measured> runs) {
            return runs.stream().mapToLong(Measured::peakAfterGc).max().orElse(-1);
        }

        static long peakSampled(List<Measured> runs) {
            return runs.stream().mapToLong(Measured::peakSampled).max().orElse(-1);
        }
    }

    private static void audit(EmbeddedPostgres pg, int n) throws Exception {
        try (Dataset d = Dataset.generate(pg, n); WireCounter wire = new WireCounter(pg.getPort())) {
            String engineDb = d.copy(pg, "engine");
            String floorDb = d.copy(pg, "floor");
            long w0 = wire.roundTrips();
            Map<Character, Long> m0 = wire.messages();
            Measured e = engine(d, viaRelay(engineDb, pg, wire), 0);
            long w1 = wire.roundTrips();
            Map<Character, Long> m1 = wire.messages();
            Measured f = floor(d, viaRelay(floorDb, pg, wire), 0);
            long w2 = wire.roundTrips();
            Map<Character, Long> m2 = wire.messages();
            System.out.println();
            System.out.println("Round-trip audit (" + fmt(n) + " MOCs through a counting TCP relay; not timed):"
                    + " JDBC-counted vs wire-counted round trips, and the client's protocol messages per MOC");
            System.out.printf(Locale.ROOT, "  %-7s %12s %12s %10s %10s   %s%n", "run", "JDBC calls", "wire",
                    "JDBC/MOC", "wire/MOC", "messages/MOC (P parse, B bind, D describe, E execute, S sync, Q query)");
            System.out.printf(Locale.ROOT, "  %-7s %12d %12d %10.3f %10.3f   %s%n", "engine", e.dbCalls(), w1 - w0,
                    e.dbCalls() / (double) n, (w1 - w0) / (double) n, perMoc(m0, m1, n));
            System.out.printf(Locale.ROOT, "  %-7s %12d %12d %10.3f %10.3f   %s%n", "floor", f.dbCalls(), w2 - w1,
                    f.dbCalls() / (double) n, (w2 - w1) / (double) n, perMoc(m1, m2, n));
            System.out.println("  (wire counts also include connection set-up and the pool's validation queries)");
            System.out.println();
        }
    }

    // ---------------------------------------------------------------------------------------------------- runs

    private static Measured engine(Dataset d, String jdbcUrl, int round) throws Exception {
        return engine(d, jdbcUrl, round, false);
    }

    /** A fresh bucket on the S3 the engine is given. */
    private static String bucket(String prefix) {
        if (standIn == null) {
            return TestS3.freshBucket(prefix);
        }
        String name = prefix + "-" + BUCKETS.incrementAndGet();
        standIn.createBucket(name);
        return name;
    }

    /** The engine; with {@code stubS3} its stores answer "deleted" without calling S3 (a diagnostic). */
    private static Measured engine(Dataset d, String jdbcUrl, int round, boolean stubS3) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", CONFIG);
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ENDPOINT_URL_S3", (standIn == null ? TestS3.endpoint() : standIn.endpoint()).toString());
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        env.put("RECLAIM_MOC_BUCKET", bucket("bench-moc"));
        env.put("RECLAIM_RENDER_BUCKET", bucket("bench-render"));
        env.put("RECLAIM_MOC_MAX_DELETES", "1000000000");
        // The shipped configuration also declares a Cloudinary store; moc-purge never calls it.
        env.put("CLOUDINARY_URL", cloudinary().cloudinaryUrl());
        ReclaimConfig config = ConfigLoader.load(Path.of(CONFIG), env);
        SweepConfig.Records sweep = (SweepConfig.Records) config.sweeps().get(SWEEP);
        JdbcMeter.Tally tally = new JdbcMeter.Tally();
        Stores real = ReclaimFixture.stores(config, env);
        Map<String, Store> timed = new LinkedHashMap<>();
        real.all().forEach((name, store) -> timed.put(name, new TimedStore(store, tally, stubS3)));
        Stores stores = new Stores(timed, real);
        HikariDataSource pool = Database.pool(TestSettings.of(env).database());
        DataSource ds = JdbcMeter.wrap(pool, tally, classifier(sweep));
        RunReport report;
        long nanos;
        HeapMeter heap;
        CpuMeter cpu = new CpuMeter(d.pgPort);
        approveOneRun(pool, SWEEP);
        try (Reclaim reclaim = new Reclaim(config, ds, stores, null, Outbox.Policy.DEFAULT, pool, stores)) {
            heap = HeapMeter.start();
            cpu.start();
            tally.markEvery(Math.max(1, d.expired / 10), PROFILED);
            long t0 = System.nanoTime();
            report = reclaim.run(new RunRequest("benchmark", false, List.of(SWEEP), null));
            nanos = System.nanoTime() - t0;
            cpu.stop(nanos);
            heap.close();
        }
        SweepReport s = report.sweeps().get(0);
        long keys = s.keysCollected().getOrDefault("moc-files", 0L);
        if (report.outcome() != Outcome.COMPLETED || s.purged() != d.expired || s.failed() != 0
                || report.outbox().pending() != 0 || report.keysDeleted() != keys) {
            throw new IllegalStateException("engine run did not purge everything cleanly: " + report);
        }
        Map<String, Long> rows = d.checkPurged(jdbcUrl);
        return new Measured(stubS3 ? "eng-s3stub" : "engine", round, d.expired, nanos, s.durationMs(), tally, heap.baseline(), heap.maxSampled(),
                heap.maxAfterGc(), heap.gcs(), keys, s.figures().getOrDefault("bricksReturned", 0L),
                s.figures().getOrDefault("imagesOrphaned", 0L), rows, cpu);
    }

    private static synchronized CloudinaryEmulator cloudinary() {
        if (cloudinary == null) {
            cloudinary = CloudinaryEmulator.start();
        }
        return cloudinary;
    }

    private static Measured floor(Dataset d, String jdbcUrl, int round) throws Exception {
        Map<String, String> env = Map.of("RECLAIM_DB_URL", jdbcUrl, "RECLAIM_CONFIG", CONFIG);
        ReclaimConfig config = ConfigLoader.load(Path.of(CONFIG), env);
        SweepConfig.Records sweep = (SweepConfig.Records) config.sweeps().get(SWEEP);
        JdbcMeter.Tally tally = new JdbcMeter.Tally();
        FloorLoop.Result r;
        long nanos;
        HeapMeter heap;
        CpuMeter cpu = new CpuMeter(d.pgPort);
        try (HikariDataSource pool = Database.pool(TestSettings.of(env).database())) {
            DataSource ds = JdbcMeter.wrap(pool, tally, classifier(sweep));
            if (floorOutbox) {
                Database.migrate(pool); // the outbox table as the engine has it, indexes included
            }
            heap = HeapMeter.start();
            cpu.start();
            tally.markEvery(Math.max(1, d.expired / 10), PROFILED);
            long t0 = System.nanoTime();
            r = FloorLoop.run(sweep, ds, floorOutbox);
            nanos = System.nanoTime() - t0;
            cpu.stop(nanos);
            heap.close();
        }
        if (r.purged() != d.expired || r.skipped() != 0) {
            throw new IllegalStateException("floor purged " + r.purged() + " of " + d.expired + ", skipped " + r.skipped());
        }
        Map<String, Long> rows = d.checkPurged(jdbcUrl);
        return new Measured("floor", round, d.expired, nanos, nanos / 1_000_000, tally, heap.baseline(), heap.maxSampled(),
                heap.maxAfterGc(), heap.gcs(), r.keys(), r.bricksReturned(), r.imagesOrphaned(), rows, cpu);
    }

    /** The category of a statement, by its exact SQL: paging, claim, a step's name, outbox, or run bookkeeping. */
    private static Function<String, String> classifier(SweepConfig.Records sweep) {
        Map<String, String> known = new HashMap<>();
        known.put(RecordSweep.firstPage(sweep.eligible()), "page");
        known.put(RecordSweep.nextPage(sweep.eligible()), "page");
        known.put(sweep.claim().jdbcSql(), "claim");
        for (SweepConfig.Step s : sweep.steps()) {
            known.put(s.sql().jdbcSql(), s.name());
        }
        return sql -> {
            String k = known.get(sql);
            if (k != null) {
                return k;
            }
            if (sql.contains("INSERT INTO reclaim.pending_deletions")) {
                return "outbox-add";
            }
            if (sql.contains("reclaim.pending_deletions")) {
                return "outbox-drain";
            }
            if (sql.contains("NOT EXISTS (SELECT 1 FROM reclaim.failures f")) {
                return "page"; // the page query that leaves out items waiting in the failure pipeline
            }
            if (sql.contains("reclaim.deleted_keys") || sql.contains("reclaim.protected_keys")) {
                return "journal";
            }
            if (!sql.contains("reclaim.")) {
                return "reference-check"; // the only application query outside the sweep's own: the store's check
            }
            return "run-bookkeeping";
        };
    }

    private static String viaRelay(String jdbcUrl, EmbeddedPostgres pg, WireCounter wire) {
        String hostPort = "localhost:" + pg.getPort() + "/";
        if (!jdbcUrl.contains(hostPort)) {
            throw new IllegalStateException("unexpected JDBC URL " + jdbcUrl);
        }
        return jdbcUrl.replace(hostPort, "127.0.0.1:" + wire.port() + "/");
    }

    /** A store that times its delete calls into the run's tally (category s3-delete). */
    private record TimedStore(Store target, JdbcMeter.Tally tally, boolean stub) implements Store {
        @Override
        public String name() {
            return target.name();
        }

        @Override
        public int maxBatch() {
            return target.maxBatch();
        }

        @Override
        public PrefixGuard guard() {
            return target.guard();
        }

        @Override
        public BatchResult delete(List<String> keys, java.time.Instant deadline) {
            long t0 = System.nanoTime();
            try {
                return stub ? new BatchResult(List.copyOf(keys), Map.of()) : target.delete(keys, deadline);
            } finally {
                tally.external(S3, 1, System.nanoTime() - t0);
            }
        }

        @Override
        public dev.reclaim.store.Listing list(String prefix, java.time.Instant createdBefore, String cursor, java.time.Instant deadline) {
            return target.list(prefix, createdBefore, cursor, deadline);
        }

        @Override
        public long apiCalls() {
            return target.apiCalls();
        }
    }

    // ---------------------------------------------------------------------------------------------------- data

    /**
     * The reference data with exactly {@code expired} expired MOCs, generated once into a template database (with
     * Reclaim's schema already migrated) and copied for each run, so engine and floor purge identical rows.
     */
    static final class Dataset implements AutoCloseable {
        final int expired;
        final int mocs;
        final String template;
        final int pgPort;
        private final EmbeddedPostgres pg;
        private final List<String> copies = new ArrayList<>();
        private Map<String, Long> expectedRows;

        private Dataset(EmbeddedPostgres pg, int expired, int mocs, String template) {
            this.pg = pg;
            this.pgPort = pg.getPort();
            this.expired = expired;
            this.mocs = mocs;
            this.template = template;
        }

        static Dataset generate(EmbeddedPostgres pg, int expired) throws Exception {
            int mocs = mocsFor(expired);
            String url = TestPostgres.freshDatabase();
            String name = url.substring(url.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
            long t0 = System.nanoTime();
            try (HikariDataSource ds = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", url)).database())) {
                ReferenceData.generateMocs(ds, mocs, PARTS_PER_MOC);
                Database.migrate(ds);
                long found = ReferenceData.count(ds, "SELECT count(*) FROM moc_instructions "
                        + "WHERE deleted_at IS NOT NULL AND deleted_at < now() - interval '30 days'");
                if (found != expired) {
                    throw new IllegalStateException("generated " + found + " expired MOCs, wanted " + expired);
                }
                try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                    st.execute("VACUUM ANALYZE");
                }
            }
            log("  generated %,d MOCs (%,d expired) in %.1f s", mocs, expired, (System.nanoTime() - t0) / 1e9);
            Dataset d = new Dataset(pg, expired, mocs, name);
            d.expectedRows = expectedAfterPurge(pg, name);
            return d;
        }

        /** The smallest number of reference MOCs of which exactly {@code expired} are expired (i % 10 < 3). */
        static int mocsFor(int expired) {
            int count = 0;
            int i = 0;
            while (count < expired) {
                i++;
                if (i % 10 < 3) {
                    count++;
                }
            }
            return i;
        }

        /** A copy of the template; returns its JDBC URL. */
        String copy(EmbeddedPostgres pg, String role) throws Exception {
            String name = template + "_" + role;
            admin(pg, "CREATE DATABASE " + name + " TEMPLATE " + template);
            copies.add(name);
            return pg.getJdbcUrl("postgres", name);
        }

        void dropCopy(EmbeddedPostgres pg, String jdbcUrl) throws Exception {
            String name = jdbcUrl.substring(jdbcUrl.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
            admin(pg, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            admin(pg, "CHECKPOINT");
            copies.remove(name);
        }

        /** Checks that no expired MOC is left and the other tables look as expected; returns the row counts. */
        Map<String, Long> checkPurged(String jdbcUrl) throws Exception {
            try (HikariDataSource ds = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl)).database())) {
                Map<String, Long> rows = ReferenceData.rowCounts(ds);
                if (!rows.equals(expectedRows)) {
                    throw new IllegalStateException("after the purge, rows are " + rows + "; expected " + expectedRows);
                }
                long available = ReferenceData.count(ds, "SELECT count(*) FROM moc_parts WHERE status = 'available'");
                if (available != (long) expired * PARTS_PER_MOC) {
                    throw new IllegalStateException(available + " bricks available; expected " + expired * PARTS_PER_MOC);
                }
                return rows;
            }
        }

        /** Row counts once every expired MOC is gone, computed from the template by set-based queries. */
        private static Map<String, Long> expectedAfterPurge(EmbeddedPostgres pg, String template) throws Exception {
            try (HikariDataSource ds = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", pg.getJdbcUrl("postgres", template))).database())) {
                String expired = "(SELECT id FROM moc_instructions WHERE deleted_at < now() - interval '30 days')";
                Map<String, Long> rows = ReferenceData.rowCounts(ds);
                rows.put("moc_instructions", rows.get("moc_instructions") - ReferenceData.count(ds, "SELECT count(*) FROM " + expired + " e"));
                rows.put("moc_files", ReferenceData.count(ds, "SELECT count(*) FROM moc_files WHERE moc_id NOT IN " + expired));
                rows.put("moc_parts_lists", ReferenceData.count(ds, "SELECT count(*) FROM moc_parts_lists WHERE moc_id NOT IN " + expired));
                rows.put("moc_gallery_images", ReferenceData.count(ds, "SELECT count(*) FROM moc_gallery_images WHERE moc_id NOT IN " + expired));
                rows.put("gallery_images", ReferenceData.count(ds, "SELECT count(*) FROM gallery_images g WHERE EXISTS "
                        + "(SELECT 1 FROM moc_gallery_images l WHERE l.gallery_image_id = g.id AND l.moc_id NOT IN " + expired + ")"));
                return rows;
            }
        }

        @Override
        public void close() throws Exception {
            for (String c : new ArrayList<>(copies)) {
                admin(pg, "DROP DATABASE IF EXISTS " + c + " WITH (FORCE)");
            }
            admin(pg, "DROP DATABASE IF EXISTS " + template + " WITH (FORCE)");
            admin(pg, "CHECKPOINT");
        }

        private static void admin(EmbeddedPostgres pg, String sql) throws Exception {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
                st.execute(sql);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------- output

    private static void printEnvironment(EmbeddedPostgres pg, String[] args) throws Exception {
        String pgVersion;
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement();
             var rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            pgVersion = rs.getString(1);
        }
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse(cpu);
        } catch (Exception ignored) {
            // not Linux
        }
        System.out.println("Reclaim records sweep benchmark (moc-purge), " + LocalDate.now()
                + ", arguments: " + String.join(" ", args));
        System.out.printf(Locale.ROOT, "  machine: %d cores (%s), %s %s; Java %s, max heap %d MiB, %s%n",
                Runtime.getRuntime().availableProcessors(), cpu, System.getProperty("os.name"),
                System.getProperty("os.arch"), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20,
                String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
        System.out.println("  database: embedded PostgreSQL " + pgVersion
                + " on the same machine (fsync, synchronous_commit and full_page_writes off); S3: S3Mock in this JVM");
        System.out.println("  config: " + CONFIG + ", sweep " + SWEEP + ", page size 100; data: reference MOCs,"
                + " 30% expired, each with 2 files + thumbnail, 5 bricks, 2 own images, every 4th shares one more");
    }

    private static void printResults(List<Group> groups) {
        System.out.println();
        System.out.println("Runs (N = expired MOCs purged; heap in MiB; CPU in cores used during the run)");
        String head = "  %-8s %2s %-10s %8s %8s %9s %8s %8s %8s %8s %8s %4s %6s %6s %6s%n";
        System.out.printf(Locale.ROOT, head, "N", "#", "run", "seconds", "MOCs/s", "DB RT/MOC", "S3 calls",
                "heap", "peak", "peak", "retained", "GCs", "CPU", "CPU", "CPU");
        System.out.printf(Locale.ROOT, head, "", "", "", "", "", "", "", "baseline", "sampled", "after GC",
                "-baseline", "", "jvm", "pg", "other");
        for (Group g : groups) {
            List<Measured> all = new ArrayList<>(g.engine());
            all.addAll(g.floor());
            all.addAll(g.stub());
            all.sort(java.util.Comparator.comparingInt(Measured::round).thenComparing(Measured::who));
            for (Measured m : all) {
                System.out.printf(Locale.ROOT, "  %-8s %2d %-10s %8.1f %8.0f %9.3f %8d %8.1f %8.1f %8s %8s %4d %6.2f %6.2f %6.2f%s%n",
                        fmt(m.n()), m.round(), m.who(), m.seconds(), m.rate(), m.dbCalls() / (double) m.n(),
                        m.tally().calls(S3), mib(m.baseline()), mib(m.peakSampled()),
                        m.peakAfterGc() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", mib(m.peakAfterGc())),
                        m.peakAfterGc() < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", mib(m.peakAfterGc() - m.baseline())),
                        m.gcs(), m.cpu().jvmCores, m.cpu().pgCores, m.cpu().otherCores,
                        m.disturbed() ? "  disturbed" : "");
            }
        }
        System.out.printf(Locale.ROOT, "  (disturbed: other processes used more than %.2f cores during the run)%n", DISTURBED);

        System.out.println();
        System.out.println("Summary: MOCs/s over all runs of a size, and over the undisturbed runs only");
        System.out.printf(Locale.ROOT, "  %-8s %-18s %14s %14s %9s %22s %9s %18s %9s%n", "N", "runs", "engine MOCs/s",
                "floor MOCs/s", "of floor", "engine without drain", "of floor", "engine, S3 stubbed", "of floor");
        for (Group g : groups) {
            summaryLine(g.n(), "all", g.engine(), g.floor(), g.stub());
            summaryLine(g.n(), "undisturbed", Group.quiet(g.engine()), Group.quiet(g.floor()), Group.quiet(g.stub()));
        }
        System.out.println("  (without drain: the run's time minus the outbox drain's SQL and its S3 DeleteObjects calls;"
                + " S3 stubbed: a diagnostic run whose stores answer without calling S3, drain SQL kept)");

        System.out.println();
        System.out.println("Through each tenth of a run: MOCs/s, and the outbox drain's SQL in microseconds per MOC");
        for (Group g : groups) {
            List<Measured> all = new ArrayList<>(g.engine());
            all.addAll(g.floor());
            all.addAll(g.stub());
            for (Measured m : all) {
                List<long[]> marks = m.tally().marks;
                StringBuilder rate = new StringBuilder();
                StringBuilder drain = new StringBuilder();
                double per = m.n() / 10.0;
                for (int i = 1; i < marks.size(); i++) {
                    double secs = (marks.get(i)[0] - marks.get(i - 1)[0]) / 1e9;
                    rate.append(String.format(Locale.ROOT, " %6.0f", per / secs));
                    drain.append(String.format(Locale.ROOT, " %6.0f", (marks.get(i)[1] - marks.get(i - 1)[1]) / 1e3 / per));
                }
                System.out.printf(Locale.ROOT, "  %-8s %2d %-10s MOCs/s%s%n", fmt(m.n()), m.round(), m.who(), rate);
                if (!m.who().equals("floor")) {
                    System.out.printf(Locale.ROOT, "  %-8s %2s %-10s drain %s%n", "", "", "", drain);
                }
            }
        }

        System.out.println();
        System.out.println("Where the time went (microseconds per MOC, all rounds; calls per MOC in brackets)");
        List<String> categories = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        List<JdbcMeter.Tally> tallies = new ArrayList<>();
        List<long[]> totals = new ArrayList<>(); // {n, nanos}
        for (Group g : groups) {
            for (List<Measured> runs : List.of(g.engine(), g.floor(), g.stub())) {
                if (runs.isEmpty()) {
                    continue;
                }
                JdbcMeter.Tally sum = new JdbcMeter.Tally();
                long n = 0;
                long nanos = 0;
                for (Measured m : runs) {
                    m.tally().snapshot().forEach((k, v) -> {
                        sum.external(k, v[0], v[1]);
                        if (!categories.contains(k)) {
                            categories.add(k);
                        }
                    });
                    n += m.n();
                    nanos += m.nanos();
                }
                columns.add(runs.get(0).who() + " " + fmt(g.n()));
                tallies.add(sum);
                totals.add(new long[]{n, nanos});
            }
        }
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "  %-24s", "category"));
        columns.forEach(c -> h.append(String.format(Locale.ROOT, " %20s", c)));
        System.out.println(h);
        for (String cat : categories) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-24s", cat));
            for (int i = 0; i < tallies.size(); i++) {
                double n = totals.get(i)[0];
                line.append(String.format(Locale.ROOT, " %11.1f [%6.3f]", tallies.get(i).nanos(cat) / 1e3 / n,
                        tallies.get(i).calls(cat) / n));
            }
            System.out.println(line);
        }
        for (String total : List.of("all calls timed", "outside calls (Java)", "total")) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-24s", total));
            for (int i = 0; i < tallies.size(); i++) {
                double n = totals.get(i)[0];
                long wall = totals.get(i)[1];
                long timed = tallies.get(i).nanos();
                double us = switch (total) {
                    case "all calls timed" -> timed / 1e3 / n;
                    case "outside calls (Java)" -> (wall - timed) / 1e3 / n;
                    default -> wall / 1e3 / n;
                };
                line.append(String.format(Locale.ROOT, " %20.1f", us));
            }
            System.out.println(line);
        }

        System.out.println();
        System.out.println("Same work (checked): keys collected / bricks returned / images orphaned per run");
        for (Group g : groups) {
            Measured e = g.engine().get(0);
            System.out.printf(Locale.ROOT, "  %-8s %,12d %,12d %,12d%n", fmt(g.n()), e.keys(), e.bricks(), e.images());
        }

        System.out.println();
        System.out.println("Targets");
        for (Group g : groups) {
            List<Measured> engine = Group.quiet(g.engine());
            List<Measured> floor = Group.quiet(g.floor());
            String basis = "undisturbed runs";
            if (engine.isEmpty() || floor.isEmpty()) {
                engine = g.engine();
                floor = g.floor();
                basis = "all runs, none undisturbed";
            }
            double e = Group.rate(engine);
            double f = Group.rate(floor);
            double eDb = Group.rateWithoutDrain(engine);
            System.out.printf(Locale.ROOT, "  N=%-8s engine rate >= %.0f%% of the floor's: %s (%.0f / %.0f MOCs/s = %.0f%%,"
                            + " %s; without the outbox drain %.0f%%)%n", fmt(g.n()), RATE_TARGET * 100,
                    e / f >= RATE_TARGET ? "PASS" : "FAIL", e, f, 100 * e / f, basis, 100 * eDb / f);
        }
        if (groups.size() >= 2) {
            Group small = groups.get(0);
            Group large = groups.get(groups.size() - 1);
            long s = Group.peakAfterGc(small.engine());
            long l = Group.peakAfterGc(large.engine());
            if (s > 0 && l > 0) {
                System.out.printf(Locale.ROOT, "  engine peak heap after GC at N=%s <= %.1fx N=%s: %s (%.1f / %.1f MiB = %.2fx)%n",
                        fmt(large.n()), HEAP_TARGET, fmt(small.n()), l <= HEAP_TARGET * s ? "PASS" : "FAIL",
                        mib(l), mib(s), l / (double) s);
            } else {
                System.out.println("  engine peak heap after GC: n/a (no collection during a run)");
            }
            long ss = Group.peakSampled(small.engine());
            long ls = Group.peakSampled(large.engine());
            System.out.printf(Locale.ROOT, "  (sampled peak, uncollected garbage included: %.1f / %.1f MiB = %.2fx: %s)%n",
                    mib(ls), mib(ss), ls / (double) ss, ls <= HEAP_TARGET * ss ? "within 1.2x" : "not within 1.2x");
        }
    }

    private static void summaryLine(int n, String label, List<Measured> engine, List<Measured> floor,
                                    List<Measured> stub) {
        if (engine.isEmpty() || floor.isEmpty()) {
            System.out.printf(Locale.ROOT, "  %-8s %-18s (no undisturbed pair of engine and floor runs)%n", fmt(n), label);
            return;
        }
        double e = Group.rate(engine);
        double f = Group.rate(floor);
        double eDb = Group.rateWithoutDrain(engine);
        String st = stub.isEmpty() ? String.format(Locale.ROOT, "%18s %9s", "-", "-")
                : String.format(Locale.ROOT, "%18.0f %8.0f%%", Group.rate(stub), 100 * Group.rate(stub) / f);
        System.out.printf(Locale.ROOT, "  %-8s %-18s %14.0f %14.0f %8.0f%% %22.0f %8.0f%% %s%n", fmt(n),
                label + " (" + engine.size() + "+" + floor.size() + ")", e, f, 100 * e / f, eDb, 100 * eDb / f, st);
    }

    private static String perMoc(Map<Character, Long> before, Map<Character, Long> after, int n) {
        StringBuilder out = new StringBuilder();
        after.forEach((type, count) -> {
            double v = (count - before.getOrDefault(type, 0L)) / (double) n;
            if (v >= 0.0005) {
                out.append(String.format(Locale.ROOT, "%s %.2f  ", type, v));
            }
        });
        return out.toString().strip();
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[%tT] %s%n", System.currentTimeMillis(), String.format(Locale.ROOT, format, args));
    }

    /**
     * Each measured run purges far past a first run's brake: approved once, as an operator would, on the pool itself
     * so the round-trip count is the run's alone.
     */
    static void approveOneRun(DataSource pool, String sweep) throws java.sql.SQLException {
        try (java.sql.Connection c = pool.getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO reclaim.approvals (sweep) VALUES (?)")) {
            ps.setString(1, sweep);
            ps.executeUpdate();
        }
    }
}
