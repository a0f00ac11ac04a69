package dev.reclaim.sweep;

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
    /** Listing more than this many assets per eligible one is worth a warning ... */
    static final long LISTING_WARNING_RATIO = 10;
    /**
     * ... from this many listed: 2 Cloudinary list calls (500 a call), 1 S3 call (1,000 a call). Below it the waste is
     * a call or two a run, and a small or test folder would warn for nothing.
     */
    static final long LISTING_WARNING_MIN_SCANNED = 1_000;

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
    private final Map<String, Long> keysDeleted = new TreeMap<>();
    private final Map<String, Long> keysFailed = new TreeMap<>();
    private long keysRefused;
    private Long scanned;
    private Long referenced;
    private Long bytesReclaimed;
    private Map<String, Long> apiCalls;
    private Instant quotaResetsAt;
    private String error;
    private String listingWarning;

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

    /** Asset sweeps: listed, referenced (kept), bytes of what was deleted, API calls, keys deleted or failed. */
    public void scanned(long n) {
        scanned = (scanned == null ? 0 : scanned) + n;
    }

    public void referenced(long n) {
        referenced = (referenced == null ? 0 : referenced) + n;
    }

    public void bytesReclaimed(long n) {
        bytesReclaimed = (bytesReclaimed == null ? 0 : bytesReclaimed) + n;
    }

    public void apiCalls(String store, long n) {
        if (apiCalls == null) {
            apiCalls = new TreeMap<>();
        }
        apiCalls.merge(store, n, Long::sum);
    }

    public void keysDeleted(String store, long n) {
        if (n > 0) {
            keysDeleted.merge(store, n, Long::sum);
        }
    }

    public void keysFailed(String store, long n) {
        if (n > 0) {
            keysFailed.merge(store, n, Long::sum);
        }
    }

    public void keysRefused(long n) {
        keysRefused += n;
    }

    /** Deleted assets count as purged items. */
    public void purgedAssets(List<String> keys) {
        purged += keys.size();
        for (String k : keys) {
            if (sampleIds.size() >= SAMPLE) {
                break;
            }
            sampleIds.add(k);
        }
    }

    public void failedAssets(String store, Map<String, String> failures) {
        failures.forEach((key, why) -> failed(key, "delete", why));
        keysFailed(store, failures.size());
    }

    public void rateLimited(Instant resetsAt) {
        stop("rateLimited");
        quotaResetsAt = resetsAt;
    }

    /** A reference query answered with values it was not asked about: the sweep stops, deleting nothing more. */
    public void referenceCheckFailed(String message) {
        stop("referenceCheckFailed");
        if (error == null) {
            error = message;
        }
    }

    /**
     * Asset sweeps, once the listing is over: a warning when it listed more than {@value #LISTING_WARNING_RATIO} times
     * what was eligible and at least {@value #LISTING_WARNING_MIN_SCANNED} assets, else null. The report carries it.
     */
    public String listingWarning(String store, String prefix) {
        long listed = scanned == null ? 0 : scanned;
        if (listed < LISTING_WARNING_MIN_SCANNED || listed <= LISTING_WARNING_RATIO * eligible) {
            return null;
        }
        String ratio = eligible == 0 ? "none of them eligible"
                : String.format(java.util.Locale.ROOT, "%.1f listed per eligible one", (double) listed / eligible);
        listingWarning = "listing inefficient: listed " + listed + " assets of store " + store + " under prefix '"
                + prefix + "' to find " + eligible + " eligible (" + ratio + "; warned above "
                + LISTING_WARNING_RATIO + " from " + LISTING_WARNING_MIN_SCANNED + " listed); every listing call spends "
                + "the store's quota (Cloudinary: 1 Admin API call per 500 assets). Remedies: a narrower prefix; a "
                + "top-level temp folder (upload to temp/users/{userId}/... so the sweep lists only temp/); on "
                + "Cloudinary, a search expression on the temp folder";
        return listingWarning;
    }

    public void figure(String name, long n) {
        figures.merge(name, n, Long::sum);
    }

    public void stop(String reason) {
        if (stoppedBy == null) {
            stoppedBy = reason;
        }
    }

    /** The deadline passed because the run was asked to stop (SIGTERM), not for want of time. */
    public void stopRequested() {
        if ("timeBudget".equals(stoppedBy)) {
            stoppedBy = "stopRequested";
        }
    }

    public String name() {
        return name;
    }

    public long purged() {
        return purged;
    }

    public long skippedCount() {
        return skipped;
    }

    public long failedCount() {
        return failed;
    }

    /** The first failure's error, or null. */
    public String firstError() {
        return failures.isEmpty() ? null : failures.get(0).error();
    }

    public String stoppedBy() {
        return stoppedBy;
    }

    /** The report, with what the outbox deleted for this sweep added to what the sweep deleted itself. */
    public SweepReport report(Map<String, Long> outboxDeleted, Map<String, Long> outboxFailed, long outboxRefused,
                              Map<String, Long> outboxKept) {
        Map<String, Long> deleted = new TreeMap<>(keysDeleted);
        outboxDeleted.forEach((k, v) -> deleted.merge(k, v, Long::sum));
        Map<String, Long> failedKeys = new TreeMap<>(keysFailed);
        outboxFailed.forEach((k, v) -> failedKeys.merge(k, v, Long::sum));
        return new SweepReport(name, kind, cutoff == null ? null : cutoff.toString(), eligible, purged, skipped, failed,
                List.copyOf(failures), new LinkedHashMap<>(figures), new LinkedHashMap<>(keysCollected),
                deleted, failedKeys, keysRefused + outboxRefused, List.copyOf(sampleIds),
                new LinkedHashMap<>(sampleKeys), stoppedBy == null, stoppedBy,
                (System.nanoTime() - startNanos) / 1_000_000, scanned, referenced, bytesReclaimed,
                apiCalls == null ? null : new LinkedHashMap<>(apiCalls),
                quotaResetsAt == null ? null : quotaResetsAt.toString(),
                outboxKept.isEmpty() ? null : new java.util.TreeMap<>(outboxKept), error, listingWarning);
    }
}
