package dev.reclaim.bench;

import dev.reclaim.testing.TestSettings;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator.FolderMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 8 item 6: what the bobblehead temp-photo sweep spends of the Cloudinary hourly quota, by folder mode and by
 * upload layout. 1,000 orphaned temp photos among 100,000 saved photos, all older than the 24 h retention, swept by
 * Reclaim's real engine (shipped {@code config/reclaim.yaml} or docs/CLOUDINARY-LAYOUT.md's recommended layout, the
 * real {@code CloudinaryStore}, a fresh database) against an in-process {@link CloudinaryEmulator}, in four cases:
 * fixed / dynamic folder mode, each with the shipped layout ({@code users/u{k}/temp}) and the recommended one
 * ({@code temp/users/u{k}}). Saved photos live in {@code users/u{k}/photos} in every case.
 *
 * <p>What is counted is the emulator's HTTP calls (listing by prefix or search, delete, {@code /config}); the
 * emulator's hourly budget is set far above them so the store's quota reserve never stops a sweep. After each run
 * the emulator must hold every saved photo and no orphan, else the benchmark exits with status 1.
 *
 * <p>Arguments (optional): {@code --saved=N --orphans=N}.
 */
public final class CloudinaryLayoutBenchmark {
    private static final String CONFIG = "config/reclaim.yaml";
    private static final String SWEEP = "bobblehead-temp-photos";
    /** Far above any case's calls: the store's 20% reserve must never stop the run. */
    private static final long HOURLY_LIMIT = 10_000_000;
    private static final int SAVED_PER_USER = 10;
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));
    private static final long[] QUOTAS = {500, 2_000};

    enum Layout {
        SHIPPED("shipped (`users/u{k}/temp`, prefix `users/`)"),
        RECOMMENDED("recommended (`temp/users/u{k}`, prefix `temp/`)");

        final String text;

        Layout(String text) {
            this.text = text;
        }
    }

    record Case(FolderMode mode, Layout layout) {
        String label() {
            return (mode == FolderMode.DYNAMIC ? "dynamic" : "fixed") + ", " + layout.name().toLowerCase(Locale.ROOT);
        }
    }

    record Result(Case c, long scanned, long purged, long lists, long searches, long deletes, long configs, long total,
            long rateLimited, Map<String, Long> reportCalls, String warning, boolean correct, String verify,
            double seconds) {
    }

    private CloudinaryLayoutBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int saved = 100_000;
        int orphans = 1_000;
        for (String a : String.join(" ", args).split("[ ,]+")) {
            if (a.startsWith("--saved=")) {
                saved = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("--orphans=")) {
                orphans = Integer.parseInt(a.substring(10));
            } else if (!a.isBlank()) {
                throw new IllegalArgumentException("unknown argument " + a + " (use --saved=N --orphans=N)");
            }
        }
        log("CloudinaryLayoutBenchmark %s: Java %s, %d CPUs, max heap %d MB; %,d orphaned temp photos, %,d saved photos,"
                        + " emulator hourly limit %,d", LocalDate.now(), System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20, orphans, saved,
                HOURLY_LIMIT);
        List<Result> results = new ArrayList<>();
        for (Layout layout : Layout.values()) {
            for (FolderMode mode : List.of(FolderMode.FIXED, FolderMode.DYNAMIC)) {
                results.add(measure(new Case(mode, layout), saved, orphans));
            }
        }
        boolean allCorrect = print(results, saved, orphans);
        System.exit(allCorrect ? 0 : 1);
    }

    static Result measure(Case c, int saved, int orphans) throws Exception {
        String yaml = yaml(c.layout());
        String jdbcUrl = TestPostgres.freshDatabase();
        try (CloudinaryEmulator emulator = CloudinaryEmulator.start()) {
            emulator.setFolderMode(c.mode());
            emulator.setBudgetLimit(HOURLY_LIMIT);
            List<Asset> assets = new ArrayList<>(saved + orphans);
            List<String> savedIds = new ArrayList<>(saved);
            List<String> orphanIds = new ArrayList<>(orphans);
            int users = Math.max(1, saved / SAVED_PER_USER);
            for (int j = 0; j < saved; j++) {
                Asset a = savedPhoto(c.mode(), j / SAVED_PER_USER, j);
                assets.add(a);
                savedIds.add(a.publicId());
            }
            for (int i = 0; i < orphans; i++) {
                // spread over the users: one abandoned form every (users / orphans) users
                Asset a = orphan(c, (int) ((long) i * users / orphans), i);
                assets.add(a);
                orphanIds.add(a.publicId());
            }
            emulator.seed(assets);
            if (emulator.assetCount() != saved + orphans) {
                throw new IllegalStateException("public ids collided: " + emulator.assetCount() + " assets seeded");
            }
            Map<String, String> env = env(jdbcUrl, emulator.cloudinaryUrl());
            ReclaimConfig config = ConfigLoader.parse(c.layout().name().toLowerCase(Locale.ROOT) + ".yaml", yaml, env);
            Stores stores = ReclaimFixture.stores(config, env);
            HikariDataSource pool = Database.pool(TestSettings.of(env).database());
            emulator.resetCounters();
            log("%s: %,d assets seeded, running sweep %s", c.label(), emulator.assetCount(), SWEEP);
            long t0 = System.nanoTime();
            RunReport report;
            try (Reclaim reclaim = new Reclaim(config, pool, stores, null, Outbox.Policy.DEFAULT, pool, stores)) {
                report = reclaim.run(new RunRequest("benchmark", false, List.of(SWEEP), null));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            SweepReport s = report.sweeps().get(0);
            long savedLeft = savedIds.stream().filter(emulator::exists).count();
            long orphansLeft = orphanIds.stream().filter(emulator::exists).count();
            String found = report.folderModes().get("bobblehead-photos");
            String expectedMode = c.mode() == FolderMode.DYNAMIC ? "dynamic" : "fixed";
            boolean correct = savedLeft == saved && orphansLeft == 0 && emulator.assetCount() == saved
                    && s.purged() == orphans && expectedMode.equals(found) && emulator.rateLimitedCalls() == 0
                    && s.stoppedBy() == null;
            String verify = String.format(Locale.ROOT, "saved kept %,d/%,d, orphans gone %,d/%,d, mode found %s, "
                            + "stoppedBy %s, rate-limited %d", savedLeft, saved, orphans - orphansLeft, orphans, found,
                    s.stoppedBy(), emulator.rateLimitedCalls());
            Result r = new Result(c, s.scanned() == null ? -1 : s.scanned(), s.purged(), emulator.listCalls(),
                    emulator.searchCalls(), emulator.deleteCalls(), emulator.configCalls(), emulator.totalCalls(),
                    emulator.rateLimitedCalls(), s.apiCalls(), s.listingWarning(), correct, verify, seconds);
            log("%s: %.1f s; scanned %,d, purged %,d; emulator calls: list %d (search %d), delete %d, config %d, total %d;"
                            + " report apiCalls %s; %s; listing warning: %s", c.label(), seconds, r.scanned(), r.purged(),
                    r.lists(), r.searches(), r.deletes(), r.configs(), r.total(), r.reportCalls(), verify,
                    r.warning() == null ? "none" : r.warning());
            return r;
        }
    }

    /** A saved photo of user {@code k}: {@code users/u{k}/photos} in every layout. */
    static Asset savedPhoto(FolderMode mode, int k, int j) {
        String folder = String.format(Locale.ROOT, "users/u%05d/photos", k);
        String name = String.format(Locale.ROOT, "p%06d", j);
        return mode == FolderMode.DYNAMIC ? Asset.dynamic(pathless(0, j), folder, name, OLD.minusSeconds(j % 3600), 250_000)
                : Asset.image(folder + "/" + name, OLD.minusSeconds(j % 3600), 250_000);
    }

    /** An orphaned temp photo of user {@code k}, in the case's temp folder. */
    static Asset orphan(Case c, int k, int i) {
        String folder = c.layout() == Layout.SHIPPED ? String.format(Locale.ROOT, "users/u%05d/temp", k)
                : String.format(Locale.ROOT, "temp/users/u%05d", k);
        String name = String.format(Locale.ROOT, "t%04d", i);
        return c.mode() == FolderMode.DYNAMIC ? Asset.dynamic(pathless(1, i), folder, name, OLD.minusSeconds(i), 250_000)
                : Asset.image(folder + "/" + name, OLD.minusSeconds(i), 250_000);
    }

    /** A path-less public id as dynamic-mode uploads get them (e.g. {@code k3x9qz7abc}); distinct for distinct input. */
    static String pathless(int kind, long n) {
        // multiplying by an odd constant is a bijection on 64 bits, so ids never collide
        return Long.toUnsignedString((n * 2 + kind) * 0x9E3779B97F4A7C15L, 36);
    }

    /** The shipped configuration, or docs/CLOUDINARY-LAYOUT.md's recommended layout derived from it. */
    static String yaml(Layout layout) throws Exception {
        String shipped = Files.readString(Path.of(CONFIG));
        if (layout == Layout.SHIPPED) {
            return shipped;
        }
        String yaml = shipped;
        for (String[] r : new String[][] {
                {"    allowedPrefixes: [users/]\n", "    allowedPrefixes: [temp/]\n"},
                {"    prefix: users/\n", "    prefix: temp/\n"},
                {"    match: users/*/temp/**\n", "    match: temp/users/*/**\n"}}) {
            int at = yaml.indexOf(r[0]);
            if (at < 0 || yaml.indexOf(r[0], at + 1) >= 0) {
                throw new IllegalStateException(CONFIG + " must hold exactly one \"" + r[0].strip()
                        + "\" to derive the recommended layout");
            }
            yaml = yaml.replace(r[0], r[1]);
        }
        return yaml;
    }

    private static Map<String, String> env(String jdbcUrl, String cloudinaryUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", CONFIG);
        env.put("CLOUDINARY_URL", cloudinaryUrl);
        // The S3 stores are built but never called by this sweep.
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        return env;
    }

    private static boolean print(List<Result> results, int saved, int orphans) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%,d orphaned temp photos among %,d saved photos, all older than the 24 h retention;"
                + " sweep %s only; emulator hourly limit %,d (never reached).%n%n", orphans, saved, SWEEP, HOURLY_LIMIT);
        System.out.println("| folder mode | layout | listed (scanned) | list calls | delete calls | `/config` calls "
                + "| all calls | share of 500/h | share of 2,000/h | correct |");
        System.out.println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        boolean all = true;
        for (Result r : results) {
            String lists = r.searches() > 0 ? r.lists() + " (search " + r.searches() + ")" : String.valueOf(r.lists());
            System.out.printf(Locale.ROOT, "| %s | %s | %,d | %s | %,d | %,d | %,d | %s | %s | %s |%n",
                    r.c().mode() == FolderMode.DYNAMIC ? "dynamic" : "fixed", r.c().layout().text, r.scanned(), lists,
                    r.deletes(), r.configs(), r.total(), share(r.total(), QUOTAS[0]), share(r.total(), QUOTAS[1]),
                    r.correct() ? "yes" : "**NO**: " + r.verify());
            all &= r.correct();
        }
        System.out.println();
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "- %s: %.1f s; report apiCalls %s; listing warning: %s%n", r.c().label(),
                    r.seconds(), r.reportCalls(), r.warning() == null ? "none" : r.warning());
        }
        System.out.println(all ? "Every orphan deleted, every saved photo kept, in every case."
                : "A case deleted the wrong photos or stopped early (see **NO** above).");
        return all;
    }

    private static String share(long calls, long quota) {
        return String.format(Locale.ROOT, "%.1f%%", 100.0 * calls / quota);
    }

    private static void log(String format, Object... args) {
        Object[] all = new Object[args.length + 1];
        all[0] = Instant.now().atZone(java.time.ZoneId.systemDefault());
        System.arraycopy(args, 0, all, 1, args.length);
        System.out.printf(Locale.ROOT, "[%tT] " + format + "%n", all);
    }
}
