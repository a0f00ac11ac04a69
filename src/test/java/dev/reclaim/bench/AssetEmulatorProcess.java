package dev.reclaim.bench;

import dev.reclaim.testing.cloudinary.CloudinaryEmulator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Cloudinary emulator ({@link CloudinaryEmulator}, unchanged) in a JVM of its own, seeded with
 * {@link AssetDataset#cloudinaryAssets}. Keeping its million assets (and the garbage of serving them) out of the
 * benchmark JVM means the benchmark's heap figures are Reclaim's alone. The parent talks to it over stdin/stdout:
 * {@code stats}, {@code verify N PERCENT}; end of stdin stops it.
 */
final class AssetEmulatorProcess implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final String cloudinaryUrl;

    /** Emulator-side call counters (every request received on the route, whatever its outcome). */
    record Stats(long listCalls, long deleteCalls, long totalCalls, long assets, long rateLimited) {
    }

    /** Referenced assets still present / missing, orphans still present / gone. */
    record Verify(long referencedPresent, long referencedMissing, long orphansPresent, long orphansGone) {
        boolean ok() {
            return referencedMissing == 0 && orphansPresent == 0;
        }
    }

    private AssetEmulatorProcess(Process process) throws IOException {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        this.cloudinaryUrl = expect("URL ");
    }

    /** Starts an emulator JVM holding {@code n} assets, answering after {@code latency}, with an hourly budget. */
    static AssetEmulatorProcess start(long n, Duration latency, long hourlyLimit) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx3g", "-XX:+UseG1GC", "-cp",
                System.getProperty("java.class.path"), AssetEmulatorProcess.class.getName(),
                Long.toString(n), Long.toString(latency.toMillis()), Long.toString(hourlyLimit)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new AssetEmulatorProcess(p);
    }

    String cloudinaryUrl() {
        return cloudinaryUrl;
    }

    synchronized Stats stats() throws IOException {
        in.println("stats");
        String[] f = expect("STATS ").split(" ");
        return new Stats(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                Long.parseLong(f[4]));
    }

    synchronized Verify verify(long n, int referencedPercent) throws IOException {
        in.println("verify " + n + " " + referencedPercent);
        String[] f = expect("VERIFY ").split(" ");
        return new Verify(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]));
    }

    private String expect(String prefix) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        throw new IOException("emulator process ended (" + (process.isAlive() ? "still running" : "exit " + process.exitValue())
                + ") before answering " + prefix.trim());
    }

    @Override
    public void close() {
        in.close(); // end of stdin: the child closes the emulator and exits
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

    /**
     * A fresh JVM serves its first requests slowly (class loading, interpreter). Before it is handed to the benchmark,
     * the emulator serves 300 listings of 500 assets and 300 deletes of 100 (unknown) ids, under a prefix of its own,
     * without latency; then those assets, the counters and the budget are reset.
     */
    private static void warmUp(CloudinaryEmulator emulator) throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(3));
        List<dev.reclaim.testing.cloudinary.Asset> assets = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            assets.add(dev.reclaim.testing.cloudinary.Asset.image(String.format("warmup/u%03d/temp/p%04d", i / 5, i),
                    old.plusSeconds(i), 1000 + i));
        }
        emulator.seed(assets);
        com.cloudinary.Api api = new com.cloudinary.Cloudinary(emulator.cloudinaryUrl()).api();
        List<String> unknown = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            unknown.add("warmup/none/" + i);
        }
        for (int round = 0; round < 300; round++) {
            Map<String, Object> options = new HashMap<>();
            options.put("type", "upload");
            options.put("prefix", "warmup/");
            options.put("max_results", 500);
            api.resources(options);
            api.deleteResources(unknown, new HashMap<>());
        }
        emulator.clearAssets();
    }

    public static void main(String[] args) throws Exception {
        long n = Long.parseLong(args[0]);
        Duration latency = Duration.ofMillis(Long.parseLong(args[1]));
        long hourlyLimit = Long.parseLong(args[2]);
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (CloudinaryEmulator emulator = CloudinaryEmulator.builder().hourlyLimit(hourlyLimit).start()) {
            warmUp(emulator);
            emulator.setLatency(latency);
            emulator.seed(AssetDataset.cloudinaryAssets(n, Instant.now()));
            emulator.resetCounters();
            emulator.resetBudget();
            System.gc();
            stdout.println("URL " + emulator.cloudinaryUrl());
            BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = commands.readLine()) != null) {
                String[] c = line.trim().split("\\s+");
                switch (c[0]) {
                    case "stats" -> stdout.println("STATS " + emulator.listCalls() + " " + emulator.deleteCalls() + " "
                            + emulator.totalCalls() + " " + emulator.assetCount() + " " + emulator.rateLimitedCalls());
                    case "verify" -> {
                        long count = Long.parseLong(c[1]);
                        int percent = Integer.parseInt(c[2]);
                        long refPresent = 0;
                        long refMissing = 0;
                        long orphanPresent = 0;
                        long orphanGone = 0;
                        for (long i = 0; i < count; i++) {
                            boolean exists = emulator.exists(AssetDataset.publicId(i));
                            if (AssetDataset.referenced(i, percent)) {
                                if (exists) {
                                    refPresent++;
                                } else {
                                    refMissing++;
                                }
                            } else if (exists) {
                                orphanPresent++;
                            } else {
                                orphanGone++;
                            }
                        }
                        stdout.println("VERIFY " + refPresent + " " + refMissing + " " + orphanPresent + " " + orphanGone);
                    }
                    default -> stdout.println("ERROR unknown command " + line);
                }
            }
        }
        System.exit(0);
    }
}
