package dev.reclaim.bench;

import dev.reclaim.testing.TestSettings;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.db.Database;
import dev.reclaim.report.PlanFile;
import dev.reclaim.report.PlanWriter;
import dev.reclaim.report.RunEvent;
import dev.reclaim.run.AppliedPlan;
import dev.reclaim.testing.TestPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A plan of N keys (default 1,000,000) through every step whose cost grows with the plan: written from a dry run's
 * events a page at a time ({@link PlanWriter}), checked whole ({@link PlanFile#check}), loaded into
 * {@code reclaim.plan_entries} ({@link AppliedPlan#load}), and every key looked up a page at a time as an applying
 * sweep does ({@link AppliedPlan#admit}). Run it with a small heap ({@code -Dbench.heap=64m}): memory must not grow
 * with N. Prints each phase's time and the heap it retained (after GC) and sampled.
 */
public final class PlanApplyBenchmark {
    private static final int PAGE = 1_000;

    private PlanApplyBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long n = args.length > 0 && !args[0].isBlank() ? Long.parseLong(args[0].trim()) : 1_000_000;
        Path dir = Files.createTempDirectory("reclaim-plan-bench");
        Path file = dir.resolve("plan.jsonl");
        System.out.printf("plan of %,d keys, max heap %d MiB%n", n, Runtime.getRuntime().maxMemory() >> 20);
        try (HikariDataSource ds = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", TestPostgres.freshDatabase(),
                "RECLAIM_DB_POOL_SIZE", "2")).database())) {
            Database.migrate(ds);

            PlanFile.Summary[] plan = new PlanFile.Summary[1];
            phase("write", () -> {
                PlanWriter writer = new PlanWriter(file, "reclaim@bench", "sha256:bench");
                writer.emit(new RunEvent.RunStarted(UUID.randomUUID(), "bench", true, List.of("upload-temp")));
                writer.emit(new RunEvent.SweepStarted("upload-temp", "assets", Instant.now()));
                for (long first = 0; first < n; first += PAGE) {
                    Map<String, Long> sizes = new LinkedHashMap<>();
                    for (long i = first; i < Math.min(n, first + PAGE); i++) {
                        sizes.put(key(i), 1_000 + i % 1_000);
                    }
                    writer.emit(new RunEvent.KeysDeleted("upload-temp", "moc-files", List.copyOf(sizes.keySet()),
                            0, RunEvent.Source.SWEEP, sizes));
                }
                writer.finish(Instant.now(), UUID.randomUUID().toString());
            });
            System.out.printf("  plan file: %,d bytes%n", Files.size(file));
            phase("check", () -> plan[0] = PlanFile.check(file));
            AppliedPlan[] applied = new AppliedPlan[1];
            phase("load", () -> applied[0] = AppliedPlan.load(ds, plan[0]));
            long[] held = new long[1];
            phase("admit", () -> {
                try (Connection c = ds.getConnection()) {
                    for (long first = 0; first < n; first += PAGE) {
                        List<String> page = new ArrayList<>(PAGE);
                        for (long i = first; i < Math.min(n, first + PAGE); i++) {
                            page.add(key(i));
                        }
                        held[0] += applied[0].admit(c, "upload-temp", "moc-files", page).size();
                    }
                }
            });
            if (held[0] != n) {
                throw new IllegalStateException("the plan held " + held[0] + " of " + n + " keys");
            }
            phase("remove", () -> applied[0].close());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static String key(long i) {
        return String.format("uploads/tmp/u%06d/f%08d.pdf", i / 5, i);
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void phase(String name, Step step) throws Exception {
        long started = System.nanoTime();
        HeapMeter heap = HeapMeter.start();
        try (heap) {
            step.run();
        }
        System.out.printf("  %-7s %8.1f s   heap retained after GC %5.1f MiB (max), sampled %5.1f MiB (max)%n", name,
                (System.nanoTime() - started) / 1e9, heap.maxAfterGc() / 1048576.0, heap.maxSampled() / 1048576.0);
    }
}
