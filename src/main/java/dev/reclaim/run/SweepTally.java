package dev.reclaim.run;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The running count of one sweep, turned into its {@link SweepReport} at the end. Memory is bounded. */
public final class SweepTally {
    static final int MAX_FAILURES_LISTED = 50;
    static final int SAMPLE = 10;

    private final String name;
    private final String kind;
    private final Instant cutoff;
    private final long startNanos = System.nanoTime();
    private long eligible;
    private long purged;
    private long skipped;
    private long failed;
    private final List<SweepReport.Failure> failures = new ArrayList<>();
    private final Map<String, Long> figures = new TreeMap<>();
    private final Map<String, Long> keysCollected = new TreeMap<>();
    private final List<String> sampleIds = new ArrayList<>();
    private final Map<String, List<String>> sampleKeys = new TreeMap<>();
    private String stoppedBy;

    public SweepTally(String name, String kind, Instant cutoff) {
        this.name = name;
        this.kind = kind;
        this.cutoff = cutoff;
    }

    public void eligible(long n) {
        eligible += n;
    }

    public void skipped() {
        skipped++;
    }

    public void failed(String item, String step, String error) {
        failed++;
        if (failures.size() < MAX_FAILURES_LISTED) {
            failures.add(new SweepReport.Failure(item, step, error));
        }
    }

    /** An item purged (or, in a dry run, that would be): its figures and the keys its rows owned. */
    public void purged(String item, Map<String, Long> itemFigures, Map<String, List<String>> keys) {
        purged++;
        if (sampleIds.size() < SAMPLE) {
            sampleIds.add(item);
        }
        itemFigures.forEach((k, v) -> figures.merge(k, v, Long::sum));
        keys.forEach((store, list) -> {
            keysCollected.merge(store, (long) list.size(), Long::sum);
            List<String> sample = sampleKeys.computeIfAbsent(store, s -> new ArrayList<>());
            for (String k : list) {
                if (sample.size() >= SAMPLE) {
                    break;
                }
                sample.add(k);
            }
        });
    }

    public void figure(String name, long n) {
        figures.merge(name, n, Long::sum);
    }

    public void stop(String reason) {
        if (stoppedBy == null) {
            stoppedBy = reason;
        }
    }

    public String name() {
        return name;
    }

    public long purged() {
        return purged;
    }

    public String stoppedBy() {
        return stoppedBy;
    }

    public SweepReport report(Map<String, Long> keysDeleted, Map<String, Long> keysFailed, long keysRefused) {
        return new SweepReport(name, kind, cutoff == null ? null : cutoff.toString(), eligible, purged, skipped, failed,
                List.copyOf(failures), new LinkedHashMap<>(figures), new LinkedHashMap<>(keysCollected),
                new LinkedHashMap<>(keysDeleted), new LinkedHashMap<>(keysFailed), keysRefused, List.copyOf(sampleIds),
                new LinkedHashMap<>(sampleKeys), stoppedBy == null, stoppedBy,
                (System.nanoTime() - startNanos) / 1_000_000);
    }
}
