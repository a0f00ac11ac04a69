package dev.reclaim.bench;

import dev.reclaim.testing.S3StandIn;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The S3 stand-in ({@link S3StandIn}) in a JVM of its own, as {@link AssetEmulatorProcess} runs the Cloudinary emulator:
 * its million keys, and the garbage of serving them, stay out of the heap being measured, and its CPU is its own
 * process's. The parent talks to it over stdin/stdout, one command a line: {@code gen BUCKET N PERCENT DAYS} (the
 * upload-temp keys of {@link AssetDataset#s3Key}, last modified DAYS ago), {@code sql BUCKET JDBC_URL} then the query
 * on the next line (its first column's values become keys), {@code same BUCKET JDBC_URL} then a query (does the bucket
 * hold exactly its values?), {@code verify BUCKET N PERCENT}, {@code stats}, {@code reset}; end of stdin stops it.
 */
final class S3StandInProcess implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final String endpoint;

    record Stats(long lists, long deletes, long keysDeleted, long other, long largestDelete) {
    }

    private S3StandInProcess(Process process) throws IOException {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        this.endpoint = expect("URL ");
    }

    static S3StandInProcess start() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx4g", "-XX:+UseG1GC", "-cp",
                System.getProperty("java.class.path"), S3StandInProcess.class.getName()));
        return new S3StandInProcess(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    String endpoint() {
        return endpoint;
    }

    long pid() {
        return process.pid();
    }

    synchronized long gen(String bucket, long n, int percent, int days) throws IOException {
        in.println("gen " + bucket + " " + n + " " + percent + " " + days);
        return Long.parseLong(expect("LOADED "));
    }

    synchronized long sql(String bucket, String jdbcUrl, String sql) throws IOException {
        in.println("sql " + bucket + " " + jdbcUrl);
        in.println(sql.replace('\n', ' '));
        return Long.parseLong(expect("LOADED "));
    }

    /** "true size" when the bucket holds exactly the query's values; else "false size missing extra". */
    synchronized String same(String bucket, String jdbcUrl, String sql) throws IOException {
        in.println("same " + bucket + " " + jdbcUrl);
        in.println(sql.replace('\n', ' '));
        return expect("SAME ");
    }

    synchronized AssetEmulatorProcess.Verify verify(String bucket, long n, int percent) throws IOException {
        in.println("verify " + bucket + " " + n + " " + percent);
        String[] f = expect("VERIFY ").split(" ");
        return new AssetEmulatorProcess.Verify(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                Long.parseLong(f[3]));
    }

    synchronized Stats stats() throws IOException {
        in.println("stats");
        String[] f = expect("STATS ").split(" ");
        return new Stats(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]));
    }

    synchronized void reset() throws IOException {
        in.println("reset");
        expect("OK");
    }

    private String expect(String prefix) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
            if (line.startsWith("ERROR")) {
                throw new IOException("S3 stand-in: " + line);
            }
        }
        throw new IOException("S3 stand-in process ended before answering " + prefix.trim());
    }

    @Override
    public void close() {
        in.close();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroy();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroy();
        }
    }

    // ------------------------------------------------------------------ the child JVM

    public static void main(String[] args) throws Exception {
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (S3StandIn s3 = S3StandIn.start()) {
            stdout.println("URL " + s3.endpoint());
            BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = commands.readLine()) != null) {
                String[] c = line.trim().split("\\s+");
                try {
                    switch (c[0]) {
                        case "gen" -> {
                            long n = Long.parseLong(c[2]);
                            Instant when = Instant.now().minus(Duration.ofDays(Integer.parseInt(c[4])));
                            List<String> keys = new ArrayList<>();
                            for (long i = 0; i < n; i++) {
                                keys.add(AssetDataset.s3Key(i));
                                if (keys.size() == 100_000) {
                                    s3.load(c[1], keys, when, 150_000);
                                    keys.clear();
                                }
                            }
                            s3.load(c[1], keys, when, 150_000);
                            stdout.println("LOADED " + s3.objects(c[1]).size());
                        }
                        case "sql" -> {
                            String sql = commands.readLine();
                            List<String> keys = new ArrayList<>();
                            Instant when = Instant.now().minus(Duration.ofDays(40));
                            s3.createBucket(c[1]);
                            try (Connection db = DriverManager.getConnection(c[2]); Statement st = db.createStatement()) {
                                db.setAutoCommit(false);
                                st.setFetchSize(10_000);
                                try (ResultSet rs = st.executeQuery(sql)) {
                                    while (rs.next()) {
                                        keys.add(rs.getString(1));
                                        if (keys.size() == 100_000) {
                                            s3.load(c[1], keys, when, 100_000);
                                            keys.clear();
                                        }
                                    }
                                }
                            }
                            s3.load(c[1], keys, when, 100_000);
                            stdout.println("LOADED " + s3.objects(c[1]).size());
                        }
                        case "same" -> {
                            String sql = commands.readLine();
                            Set<String> want = new HashSet<>();
                            try (Connection db = DriverManager.getConnection(c[2]); Statement st = db.createStatement()) {
                                db.setAutoCommit(false);
                                st.setFetchSize(10_000);
                                try (ResultSet rs = st.executeQuery(sql)) {
                                    while (rs.next()) {
                                        want.add(rs.getString(1));
                                    }
                                }
                            }
                            NavigableMap<String, S3StandIn.Obj> have = s3.objects(c[1]);
                            long extra = have.keySet().stream().filter(k -> !want.contains(k)).count();
                            long missing = want.stream().filter(k -> !have.containsKey(k)).count();
                            stdout.println("SAME " + (extra == 0 && missing == 0) + " " + have.size() + " " + missing
                                    + " " + extra);
                        }
                        case "verify" -> {
                            long n = Long.parseLong(c[2]);
                            int percent = Integer.parseInt(c[3]);
                            NavigableMap<String, S3StandIn.Obj> have = s3.objects(c[1]);
                            long[] v = new long[4];
                            for (long i = 0; i < n; i++) {
                                boolean exists = have.containsKey(AssetDataset.s3Key(i));
                                v[AssetDataset.referenced(i, percent) ? (exists ? 0 : 1) : (exists ? 2 : 3)]++;
                            }
                            stdout.println("VERIFY " + v[0] + " " + v[1] + " " + v[2] + " " + v[3]);
                        }
                        case "stats" -> stdout.println("STATS " + s3.listCalls() + " " + s3.deleteCalls() + " "
                                + s3.keysDeleted() + " " + s3.otherCalls() + " " + s3.largestDelete());
                        case "reset" -> {
                            s3.resetCounters();
                            System.gc();
                            stdout.println("OK");
                        }
                        default -> stdout.println("ERROR unknown command " + line);
                    }
                } catch (Exception e) {
                    stdout.println("ERROR " + e.toString().replace('\n', ' '));
                }
            }
        }
        System.exit(0);
    }
}
