package dev.reclaim.local;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.db.Database;
import dev.reclaim.run.Outcome;
import dev.reclaim.run.Reports;
import dev.reclaim.run.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestPostgres;
import dev.reclaim.testing.TestS3;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The README's local run: embedded PostgreSQL with the reference schemas and generated sample data, an in-process
 * S3 server holding the files those rows own, then a dry run and a real run through the same engine the Lambda
 * uses, and the before/after counts. {@code mvn -q test-compile exec:java} (options: -Dexec.args="--mocs 2000 --render-jobs 600").
 */
public final class LocalRun {
    private LocalRun() {
    }

    public static void main(String[] args) throws Exception {
        int mocs = intArg(args, "--mocs", 500);
        int renderJobs = intArg(args, "--render-jobs", 150);
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
        env.put("AWS_ACCESS_KEY_ID", "local");
        env.put("AWS_SECRET_ACCESS_KEY", "local");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        env.put("RECLAIM_MOC_BUCKET", mocBucket);
        env.put("RECLAIM_RENDER_BUCKET", renderBucket);

        System.out.printf("Generating %d MOCs and %d render jobs, uploading their files ...%n", mocs, renderJobs);
        Map<String, Long> before;
        Map<String, Long> after;
        try (HikariDataSource db = Database.pool(Map.of("RECLAIM_DB_URL", jdbcUrl))) {
            ReferenceData.generateMocs(db, mocs, 5);
            ReferenceData.generateRenderJobs(db, renderJobs);
            Map<String, List<String>> keys = ReferenceData.ownedKeys(db);
            TestS3.putAll(mocBucket, keys.get("moc-files"));
            TestS3.putAll(renderBucket, keys.get("render-outputs"));
            before = counts(db, mocBucket, renderBucket);
            System.out.printf("Ready in %.1f s.%n%n", (System.nanoTime() - t0) / 1e9);

            RunReport dry;
            RunReport real;
            try (Reclaim reclaim = Reclaim.fromEnvironment(env)) {
                dry = reclaim.run(new RunRequest("local", true, List.of(), null));
                System.out.println(Reports.summary(dry));
                real = reclaim.run(new RunRequest("local", false, List.of(), null));
                System.out.println(Reports.summary(real));
            }
            after = counts(db, mocBucket, renderBucket);
            printTable(before, after);
            if (real.outcome() == Outcome.FAILED) {
                System.exit(1);
            }
        }
        System.exit(0);
    }

    private static Map<String, Long> counts(HikariDataSource db, String mocBucket, String renderBucket) throws Exception {
        Map<String, Long> out = new LinkedHashMap<>(ReferenceData.rowCounts(db));
        out.put("  of which expired MOCs", ReferenceData.count(db,
                "SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"));
        out.put("  of which available bricks", ReferenceData.count(db, "SELECT count(*) FROM moc_parts WHERE status = 'available'"));
        out.put("s3://" + mocBucket, (long) TestS3.keys(mocBucket).size());
        out.put("s3://" + renderBucket, (long) TestS3.keys(renderBucket).size());
        return out;
    }

    private static void printTable(Map<String, Long> before, Map<String, Long> after) {
        System.out.printf("%-34s %10s %10s%n", "rows / objects", "before", "after");
        before.forEach((k, v) -> System.out.printf("%-34s %10d %10d%n", k, v, after.get(k)));
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
