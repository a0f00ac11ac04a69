package dev.reclaim.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.TestSettings;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.S3Front;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 21's faults out of process: {@code reclaim run} of the packaged jar, in a JVM of its own against the real local
 * services, killed at chosen points, never at a timer's guess: an S3 front ({@link S3Front#hold}) holds the chosen
 * DeleteObjects call to the MOC bucket, and the process is killed while it waits there (the held call is then dropped,
 * never reaching S3). Then fresh runs, and every promise of docs/RELIABILITY.md checked from the database and the
 * stores ({@link Promises}; {@link Census} for the reports of the runs that could write one).
 *
 * <p>The CLI runs every shipped sweep, the assets sweeps first (upload-temp's DeleteObjects is the first call, and
 * lets through). The fixed chain, on one random {@link World} (seed {@value #SEED}), each process taking over what the
 * one before left:
 * <ol>
 * <li>SIGKILL while moc-purge's first drain is held: items committed, none of their files deleted;</li>
 * <li>SIGKILL in the middle of the drains: the first DeleteObjects (the killed run's keys, drained as the run starts)
 * answered and settled, the second (the drain after the first MOC, its batch locked in an open transaction) held;</li>
 * <li>SIGTERM at the same point, then the held call let through: the run finishes the item and the drain in hand,
 * records {@code interrupted}, prints its summary and exits 143; its report equals what it changed;</li>
 * <li>SIGTERM at the same point, the held call never answered: the drain's call is cut when the grace period ends,
 * its keys stay pending, and the run records {@code interrupted} and prints its summary all the same;</li>
 * </ol>
 * then runs in process until nothing is left: promises 1 to 5, the fresh runs' reports equal to what they changed. A
 * worker killed mid-shard is {@code WorkerKillIT}'s. With {@code -Dreliability.scale=S} (the soak), S - 1 more chains
 * follow on random worlds, each of 2 to 4 processes ended at a random one of their first three DeleteObjects calls
 * (the assets sweep's included) by SIGKILL or SIGTERM, the held call let through or held past the grace period.
 */
class ProcessKillIT {
    private static final Path JAR = Path.of("target/reclaim.jar");
    private static final int SCALE = Integer.getInteger("reliability.scale", 1);
    /** A world with old temp uploads (upload-temp deletes) and enough expired MOCs for four processes. */
    private static final long SEED = 25L;
    private static final Duration KILL_POINT_WAIT = Duration.ofSeconds(90);
    private static final Outbox.Policy BETWEEN_RUNS = new Outbox.Policy(Duration.ZERO, Duration.ZERO, Duration.ofHours(24));

    private final ReliabilityRecord record = ReliabilityRecord.SHARED;

    /** The processes' stdout and stderr, kept for a failure's diagnosis. */
    private static final Path LOGS = Path.of("target", "process-kill-logs");

    /** How a process ends at its kill point. */
    enum Stop {
        /** SIGKILL: no hook, nothing more; the held call never reaches S3. */
        KILL,
        /** SIGTERM, then the held call goes through: the drain in hand finishes within the grace period. */
        TERM_RELEASED,
        /** SIGTERM, the held call never answered: the drain gives up when the grace period (5 s) ends. */
        TERM_HELD
    }

    @Test
    void everyPromiseHolds_whenTheCliIsKilledAtChosenPoints_andFreshRunsFollow() throws Exception {
        List<String> violations = chain(SEED, List.of(
                new KillPoint(2, Stop.KILL), new KillPoint(2, Stop.KILL), new KillPoint(2, Stop.TERM_RELEASED),
                new KillPoint(2, Stop.TERM_HELD)), true);
        Random random = new Random();
        for (int round = 1; round < SCALE; round++) {
            long seed = random.nextLong();
            List<KillPoint> points = new ArrayList<>();
            for (int i = 2 + random.nextInt(3); i > 0; i--) {
                int nth = 1 + random.nextInt(3);
                points.add(new KillPoint(nth, Stop.values()[random.nextInt(Stop.values().length)]));
            }
            List<String> found = chain(seed, points, false);
            found.replaceAll(v -> "seed " + seed + ", " + points + ": " + v);
            violations.addAll(found);
        }
        assertThat(violations).isEmpty();
    }

    /** The {@code nth} DeleteObjects call to the MOC bucket of one process, and how that process is ended there. */
    record KillPoint(int nth, Stop stop) {
    }

    /**
     * One world, a CLI process per kill point, then runs in process until nothing is left; returns the violations. {@code strict}: every kill point must be reached (the fixed chain).
     */
    private List<String> chain(long seed, List<KillPoint> points, boolean strict) throws Exception {
        List<String> violations = new ArrayList<>();
        long t0 = System.nanoTime();
        try (ReclaimFixture fx = ReclaimFixture.create();
             S3Front front = S3Front.before(TestS3.endpoint(), fx.env().get("AWS_ACCESS_KEY_ID"))) {
            World world = World.generate(seed, 24, 4, 10, 1);
            Trial trial = new Trial(fx, world, Set.of(), seed, record);
            fx.env().put("RECLAIM_MOC_PAGE_SIZE", "1"); // a drain after every MOC: a DeleteObjects call each
            lap("services", t0);
            trial.setUp();
            record.add("trials", 1);
            record.add("items written", world.items());
            if (strict) {
                assertThat(world.uploadTempOld).as("the world has old temp uploads for upload-temp to delete").isTrue();
                assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"))
                        .as("expired MOCs").isGreaterThanOrEqualTo(8);
            }
            Cli cli = new Cli(fx, front, LOGS.resolve(Long.toString(seed)));
            lap("set-up", t0);
            for (int i = 0; i < points.size(); i++) {
                KillPoint point = points.get(i);
                String where = "process " + (i + 1) + " " + point;
                // What is there before a run that will report (the fixed chain's SIGKILLs never do).
                Census before = strict && point.stop() == Stop.KILL ? null : Census.of(trial);
                Set<String> runsBefore = runIds(fx);
                Set<String> pendingBefore = pendingRows(fx);
                lap(where + " starts", t0);
                Cli.Ended ended = cli.runUntil(point);
                lap(where + " ended", t0);
                if (!ended.reached()) {
                    assertThat(strict).as("%s: the process ended (exit %d) before its kill point; stderr:%n%s", where,
                            ended.code(), tail(ended.err())).isFalse();
                    record.add("processes that finished before their kill point", 1);
                } else {
                    record.add(point.stop() == Stop.KILL ? "processes killed (SIGKILL)" : "processes stopped (SIGTERM)", 1);
                }
                awaitItsBackends(fx);
                if (ended.reached() && point.stop() == Stop.KILL) {
                    record.run("killed");
                    violations.addAll(killedRunLeftItsRow(fx, runsBefore, where));
                    if (strict) {
                        violations.addAll(heldCallReachedNothing(fx, pendingBefore, point, where));
                    }
                } else {
                    violations.addAll(reportedRun(fx, trial, before, runsBefore, ended, where));
                }
                for (String v : Promises.check(trial, false)) { // 1 to 3 hold right after the kill
                    violations.add(where + ": " + v);
                }
                lap(where + (ended.reached() ? "" : " (finished first)"), t0);
            }
            // Fresh runs in process until nothing is left (keys a store refused wait for their backoff, which passes
            // between these runs); the promises hold, and their reports tell what they changed.
            Census before = Census.of(trial);
            Set<String> runsBefore = runIds(fx);
            int fresh = 0;
            do {
                runInProcess(fx);
            } while (++fresh < Trial.MAX_CONVERGENCE_RUNS && Promises.workLeft(trial) > 0);
            for (String v : Promises.check(trial, false)) {
                violations.add("after the fresh runs: " + v);
            }
            violations.addAll(converged(trial));
            violations.addAll(before.compare(Census.of(trial), reports(fx, runsBefore), "the fresh runs in process"));
            lap("checks", t0);
        }
        record.add("violations", violations.size());
        return violations;
    }

    /** A SIGKILLed run's ledger row: left running by it, marked interrupted by the next run that takes the lock. */
    private static List<String> killedRunLeftItsRow(ReclaimFixture fx, Set<String> runsBefore, String where) throws Exception {
        List<String> rows = fx.strings("SELECT id::text || ' ' || outcome FROM reclaim.runs");
        rows.removeIf(r -> runsBefore.contains(r.substring(0, r.indexOf(' '))));
        return rows.size() == 1 && rows.get(0).endsWith(" running") ? List.of()
                : List.of(where + ": the killed run's ledger rows are " + rows + ", expected one left running");
    }

    /**
     * A SIGKILL at a held call: items were committed whose files wait in the outbox, none of them deleted (the held
     * call never reached S3); from the second call on, the keys an earlier run left were settled by the calls before.
     */
    private static List<String> heldCallReachedNothing(ReclaimFixture fx, Set<String> pendingBefore, KillPoint point,
                                                      String where) throws Exception {
        List<String> out = new ArrayList<>();
        Set<String> pending = pendingRows(fx);
        if (pending.isEmpty()) {
            out.add(where + ": no key waits in the outbox; expected the committed items' files");
        }
        if (point.nth() > 1 && pending.stream().anyMatch(pendingBefore::contains)) {
            out.add(where + ": outbox rows the earlier run left still wait, though the calls before the held one were answered");
        }
        for (String key : fx.strings("SELECT key FROM reclaim.pending_deletions WHERE store = 'moc-files'")) {
            if (!TestS3.exists(fx.mocBucket, key)) {
                out.add(where + ": pending key " + key + " is gone from S3, though no DeleteObjects call reached it");
            }
        }
        return out;
    }

    /**
     * A run that wrote its report (SIGTERM, or the CLI to its end): exit code, outcome and summary as the CLI promises
     * them (docs/COMMANDS.md), and its report equal to what changed in the database and stores (promise 5).
     */
    private List<String> reportedRun(ReclaimFixture fx, Trial trial, Census before, Set<String> runsBefore,
                                     Cli.Ended ended, String where) throws Exception {
        List<String> out = new ArrayList<>();
        boolean stopped = ended.reached() && ended.point().stop() != Stop.KILL;
        int expectedCode = stopped ? 143 : 0;
        String expectedOutcome = stopped ? "interrupted" : "completed";
        if (ended.code() != expectedCode) {
            out.add(where + ": exit " + ended.code() + ", expected " + expectedCode + "; stderr: " + tail(ended.err()));
        }
        if (!ended.out().contains("outcome: " + expectedOutcome)) {
            out.add(where + ": the summary does not say 'outcome: " + expectedOutcome + "': " + ended.out());
        }
        Map<String, JsonNode> runs = reports(fx, runsBefore);
        List<String> outcomes = runs.values().stream().map(r -> r.path("outcome").asText()).toList();
        if (!outcomes.equals(List.of(expectedOutcome))) {
            out.add(where + ": the ledger holds " + outcomes + " for it, expected [" + expectedOutcome + "]");
        }
        if (stopped && ended.took().compareTo(Duration.ofSeconds(25)) > 0) {
            out.add(where + ": it took " + ended.took() + " to exit after SIGTERM (it waits 20 s at most)");
        }
        outcomes.forEach(record::run);
        out.addAll(before.compare(Census.of(trial), runs, where));
        return out;
    }

    /** Promise 4: no eligible item nor pending key a store can take, and no old unreferenced temp photo or upload. */
    private static List<String> converged(Trial t) throws Exception {
        List<String> out = new ArrayList<>();
        long left = Promises.workLeft(t);
        if (left != 0) {
            out.add("4 runs converge: " + left + " eligible items or pending keys left after the fresh runs");
        }
        Instant old = Instant.now().minus(Duration.ofHours(24));
        for (World.Photo p : t.world.photos) {
            if (p.createdAt().isBefore(old) && !p.referenced() && t.fx.cloudinary.exists(p.publicId())
                    && !t.world.undeletable.contains(p.publicId())) {
                out.add("4 runs converge: old unreferenced temp photo " + p.publicId() + " is still there");
            }
        }
        if (t.world.uploadTempOld) {
            Set<String> held = new HashSet<>(t.fx.strings("SELECT s3_key FROM moc_files"));
            for (String key : t.world.tempUploads.keySet()) {
                if (!held.contains(key) && TestS3.exists(t.fx.mocBucket, key) && !t.world.undeletable.contains(key)) {
                    out.add("4 runs converge: old unreferenced temp upload " + key + " is still there");
                }
            }
        }
        return out;
    }

    /** The outbox's rows for moc-files, by id (a key settled, then collected again from another item, is a new row). */
    private static Set<String> pendingRows(ReclaimFixture fx) throws Exception {
        if (fx.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'reclaim' AND tablename = 'pending_deletions'") == 0) {
            return Set.of();
        }
        return new HashSet<>(fx.strings("SELECT id::text FROM reclaim.pending_deletions WHERE store = 'moc-files'"));
    }

    /** A run in this JVM, time having passed since the last (a failed key's backoff is over), as a trial's runs. */
    private void runInProcess(ReclaimFixture fx) throws Exception {
        ReclaimConfig config = fx.config();
        Stores stores = ReclaimFixture.stores(config, fx.env());
        HikariDataSource pool = Database.pool(TestSettings.of(fx.env()).database());
        try (Reclaim reclaim = new Reclaim(config, pool, stores, null, BETWEEN_RUNS, pool, stores)) {
            RunReport report = reclaim.run(new RunRequest("fresh", false, List.of(), Deadline.none()));
            record.run(report.outcome().toString());
        }
    }

    private static Set<String> runIds(ReclaimFixture fx) throws Exception {
        if (fx.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'reclaim' AND tablename = 'runs'") == 0) {
            return Set.of(); // before the first run creates Reclaim's schema
        }
        return new HashSet<>(fx.strings("SELECT id::text FROM reclaim.runs"));
    }

    /** The reports in the ledger of the runs not in {@code before}, by run id (a killed run has none). */
    private static Map<String, JsonNode> reports(ReclaimFixture fx, Set<String> before) throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        for (String row : fx.strings("SELECT id::text || ' ' || coalesce(report::text, '{}') FROM reclaim.runs")) {
            String id = row.substring(0, row.indexOf(' '));
            if (!before.contains(id)) {
                out.put(id, Reports.JSON.readTree(row.substring(row.indexOf(' ') + 1)));
            }
        }
        return out;
    }

    /**
     * A killed process's connections close with it, but PostgreSQL ends their backends (the run lock, a drain's open
     * transaction) only when it notices: the next run waits for that, or it would be skipped for the lock.
     */
    private static void awaitItsBackends(ReclaimFixture fx) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (fx.count("""
                SELECT (SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                         WHERE l.locktype = 'advisory' AND d.datname = current_database())
                     + (SELECT count(*) FROM pg_stat_activity
                         WHERE datname = current_database() AND state LIKE 'idle in transaction%')""") > 0) {
            assertThat(System.nanoTime()).as("the killed run's backends ended").isLessThan(until);
            Thread.sleep(50);
        }
    }

    private static void lap(String what, long t0) {
        System.out.printf("PROCESS KILLS %s: %d ms%n", what, (System.nanoTime() - t0) / 1_000_000);
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : s.substring(s.length() - 2000);
    }

    @AfterAll
    static void writeRecord() {
        ReliabilityRecord.SHARED.write();
    }

    /** {@code reclaim run} of the packaged jar in a JVM of its own, its S3 calls through the front. */
    private static final class Cli {
        private final ReclaimFixture fx;
        private final S3Front front;
        private final Path dir;
        private int started;

        /** How a process ended: whether its kill point was reached, its exit code, streams and time after the signal. */
        record Ended(KillPoint point, boolean reached, int code, String out, String err, Duration took) {
        }

        Cli(ReclaimFixture fx, S3Front front, Path dir) throws Exception {
            this.fx = fx;
            this.front = front;
            this.dir = Files.createDirectories(dir);
        }

        /** Runs the CLI and ends it at {@code point} (null: lets it finish). */
        Ended runUntil(KillPoint point) throws Exception {
            String bucket = "/" + fx.mocBucket;
            S3Front.Hold hold = point == null ? null : front.hold(s -> s.is("POST", "delete")
                    && (s.path().equals(bucket) || s.path().equals(bucket + "/")), point.nth());
            int n = ++started;
            Path out = dir.resolve("out-" + n + ".txt");
            Path err = dir.resolve("err-" + n + ".txt");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-jar", JAR.toAbsolutePath().toString(), "run",
                    // every shipped sweep, the assets sweeps first: the CLI runs them before its kill point in moc-purge
                    "--sweep", "upload-temp", "--sweep", "bobblehead-temp-photos", "--sweep", "moc-purge",
                    "--sweep", "render-outputs")
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            Map<String, String> env = pb.environment();
            env.keySet().removeIf(k -> k.startsWith("RECLAIM_") || k.startsWith("AWS_") || k.equals("SENTRY_DSN")
                    || k.equals("CLOUDINARY_URL"));
            env.putAll(fx.env());
            env.put("AWS_ENDPOINT_URL_S3", front.endpoint().toString());
            env.put("RECLAIM_LOG_FORMAT", "text");
            Process p = pb.start();
            boolean reached = false;
            Duration took = Duration.ZERO;
            try {
                if (hold != null) {
                    long until = System.nanoTime() + KILL_POINT_WAIT.toNanos();
                    while (!(reached = hold.arrived(Duration.ofMillis(100))) && p.isAlive()) {
                        assertThat(System.nanoTime()).as("process %d reached its kill point %s", n, point).isLessThan(until);
                    }
                }
                if (reached) {
                    long signalled = System.nanoTime();
                    if (point.stop() == Stop.KILL) {
                        p.destroyForcibly(); // SIGKILL
                        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                        hold.drop(); // a dead client's call never reaches S3
                    } else {
                        p.destroy(); // SIGTERM: the shutdown hook asks the run to stop
                        if (point.stop() == Stop.TERM_RELEASED) {
                            Thread.sleep(300); // the signal handled first, so the run stops after this call
                            hold.release();
                        }
                        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("process %d exited after SIGTERM", n).isTrue();
                        hold.drop();
                    }
                    took = Duration.ofNanos(System.nanoTime() - signalled);
                } else {
                    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("process %d finished", n).isTrue();
                }
            } finally {
                p.destroyForcibly();
                if (hold != null) {
                    hold.drop();
                }
            }
            return new Ended(point, reached, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), took);
        }
    }
}
