package dev.reclaim.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How hard the reliability suite tried in this JVM: trials, runs by outcome, faults injected by kind, items written,
 * bad inputs refused, violations found. Written to {@code target/reliability-record.txt} (and printed) when a suite
 * class ends, so docs/RELIABILITY.md can quote the figures of a run with the command that made them.
 */
final class ReliabilityRecord {
    static final ReliabilityRecord SHARED = new ReliabilityRecord();
    private static final Path FILE = Path.of("target", "reliability-record.txt");

    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final Instant started = Instant.now();

    void add(String what, long n) {
        counts.computeIfAbsent(what, k -> new AtomicLong()).addAndGet(n);
    }

    void fault(Fault kind) {
        add("faults injected: " + kind.name(), 1);
        add("faults injected (all kinds)", 1);
    }

    void run(String outcome) {
        add("runs", 1);
        add("runs " + outcome.toLowerCase(java.util.Locale.ROOT), 1);
    }

    long get(String what) {
        AtomicLong n = counts.get(what);
        return n == null ? 0 : n.get();
    }

    synchronized String text(String command) {
        StringBuilder b = new StringBuilder("Reliability record (").append(started).append(" to ").append(Instant.now())
                .append(")\ncommand: ").append(command).append('\n');
        new TreeMap<>(Map.copyOf(counts)).forEach((k, v) -> b.append(k).append(": ").append(v.get()).append('\n'));
        b.append("violations found: ").append(get("violations")).append('\n');
        return b.toString();
    }

    /**
     * The soak: every suite class in one JVM (so one record), more tries, larger worlds, random kill chains. The fast
     * part runs in the test command, in whichever of its JVMs (each writes its own classes' record).
     */
    static final String SOAK = "mvn -B -ntp verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false"
            + " -Dit.test='RandomWorldsIT,ProcessKillIT,BadInputIT,WorkQueueFaultsIT,RegressionSeedsIT' -Dit.forks=1"
            + " -Djqwik.tries.default=100 -Dreliability.scale=3";

    /** Writes the record, naming the command that made it ({@code -Dreliability.command}; default the soak's). */
    synchronized void write() {
        String text = text(System.getProperty("reliability.command", Integer.getInteger("reliability.scale", 1) > 1
                ? SOAK : "the test command (README), its reliability classes in one of its JVMs"));
        System.out.println(text);
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
