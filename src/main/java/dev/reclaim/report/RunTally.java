package dev.reclaim.report;

import dev.reclaim.report.RunEvent.Source;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The listener that turns a run's events into its report: one count per sweep, the outbox's keys by store, the
 * failures recorded and sent. Memory is bounded: counts, at most {@value #MAX_FAILURES_LISTED} failures and
 * {@value #SAMPLE} sample ids and keys per sweep.
 */
public final class RunTally implements RunEvents {
    static final int MAX_FAILURES_LISTED = 50;
    static final int SAMPLE = 10;

    private final boolean dryRun;
    private final Map<String, SweepCount> sweeps = new LinkedHashMap<>();
    /** What the outbox did for each sweep's keys (counted apart: the sweep may not be part of this run). */
    private final Map<String, SweepCount> outboxBySweep = new TreeMap<>();
    private final List<String> drainErrors = new ArrayList<>();
    private final Map<String, Long> apiCalls = new TreeMap<>();
    private long failuresRecorded;
    private long failuresSent;

    public RunTally(boolean dryRun) {
        this.dryRun = dryRun;
    }

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.SweepStarted e) {
            sweeps.putIfAbsent(e.sweep(), new SweepCount(e.sweep(), e.kind(), e.cutoff()));
        } else if (event instanceof RunEvent.SweepStopped e) {
            sweep(e.sweep()).stop(e.reason(), e.error(), e.quotaResetsAt());
        } else if (event instanceof RunEvent.SweepFinished e) {
            sweep(e.sweep()).finished = true;
        } else if (event instanceof RunEvent.PageListed e && e.store() != null) {
            SweepCount s = sweep(e.sweep());
            s.scanned = plus(s.scanned, e.listed());
        } else if (event instanceof RunEvent.ItemsEligible e) {
            sweep(e.sweep()).eligible += e.count();
        } else if (event instanceof RunEvent.ItemPurged e) {
            sweep(e.sweep()).purged(e);
        } else if (event instanceof RunEvent.ItemSkipped e) {
            sweep(e.sweep()).skipped++;
        } else if (event instanceof RunEvent.ItemFailed e) {
            sweep(e.sweep()).failed(e.item(), e.step(), e.error());
        } else if (event instanceof RunEvent.KeysDeleted e && e.source() == Source.SWEEP) {
            sweep(e.sweep()).assetsDeleted(e, dryRun);
        } else if (event instanceof RunEvent.KeysDeleted e) {
            add(outbox(e.sweep()).deleted, e.store(), e.keys().size());
        } else if (event instanceof RunEvent.KeysFailed e) {
            SweepCount s = e.source() == Source.OUTBOX ? outbox(e.sweep()) : sweep(e.sweep());
            add(s.keysFailed, e.store(), e.reasons().size());
            if (e.source() == Source.SWEEP) {
                e.reasons().forEach((key, why) -> s.failed(key, "delete", why));
            }
        } else if (event instanceof RunEvent.KeysRefused e) {
            (e.source() == Source.OUTBOX ? outbox(e.sweep()) : sweep(e.sweep())).keysRefused += e.keys().size();
        } else if (event instanceof RunEvent.KeysKept e && e.source() == Source.SWEEP) {
            SweepCount s = sweep(e.sweep());
            s.referenced = plus(s.referenced, e.keys().size());
        } else if (event instanceof RunEvent.KeysKept e) {
            add(outbox(e.sweep()).kept, e.store(), e.keys().size());
        } else if (event instanceof RunEvent.ApiCalls e) {
            if (e.calls() > 0) {
                apiCalls.merge(e.store(), e.calls(), Long::sum);
            }
            if (e.sweep() != null) {
                sweep(e.sweep()).apiCalls.merge(e.store(), e.calls(), Long::sum);
            }
        } else if (event instanceof RunEvent.SweepHeld e) {
            SweepCount s = sweep(e.sweep());
            if (s.brake == null) {
                s.brake = e.detail();
            }
        } else if (event instanceof RunEvent.ListingProgressed e) {
            sweep(e.sweep()).listing = new SweepReport.Listing(e.resumedFrom(), e.stoppedAt(), e.wrapped(), e.passes(),
                    e.restarted(), e.kept());
        } else if (event instanceof RunEvent.SweepFannedOut e) {
            sweep(e.sweep()).fannedOut = new SweepReport.FannedOut(e.shards(), e.sent(), e.limit(), e.why(), e.warning());
        } else if (event instanceof RunEvent.ListingWarned e) {
            sweep(e.sweep()).listingWarning = e.warning();
        } else if (event instanceof RunEvent.DrainStopped e) {
            drainErrors.add(e.error());
        } else if (event instanceof RunEvent.FailureRecorded) {
            failuresRecorded++;
        } else if (event instanceof RunEvent.FailuresSent e) {
            failuresSent += e.count();
        }
        // run, phase, quota and retry events are for other listeners
    }

    /**
     * What hears the failures a run retries before its sweeps: the files they deal with, counted with the outbox's
     * (a record's retry drains the outbox); their items are the failure pipeline's figures, not a sweep's.
     */
    public RunEvents filesOnly() {
        return e -> {
            if (e instanceof RunEvent.KeysDeleted k && k.source() == Source.OUTBOX
                    || e instanceof RunEvent.KeysFailed f && f.source() == Source.OUTBOX
                    || e instanceof RunEvent.KeysKept k && k.source() == Source.OUTBOX
                    || e instanceof RunEvent.KeysRefused r && r.source() == Source.OUTBOX
                    || e instanceof RunEvent.DrainStopped) {
                emit(e);
            }
        };
    }

    /** The sweeps' reports, in the order they started; {@code stopRequested}: the run was asked to stop (SIGTERM). */
    public synchronized List<SweepReport> sweepReports(boolean stopRequested) {
        return sweeps.values().stream().map(s -> s.report(stopRequested, outbox(s.name), dryRun)).toList();
    }

    /** A run that failed: every sweep that had started and not finished stopped because of it. */
    public synchronized void runFailed() {
        sweeps.values().stream().filter(s -> !s.finished).forEach(s -> s.stop("runFailed", null, null));
    }

    /** Every call made to each store's API in the run (set-up, sweeps, outbox), per store; null when none. */
    public synchronized Map<String, Long> apiCalls() {
        return apiCalls.isEmpty() ? null : new TreeMap<>(apiCalls);
    }

    public synchronized RunReport.OutboxReport outboxReport(long pending, Boolean pendingUnknown) {
        return new RunReport.OutboxReport(sum(outboxBySweep.values().stream().map(o -> o.deleted)),
                sum(outboxBySweep.values().stream().map(o -> o.keysFailed)),
                outboxBySweep.values().stream().mapToLong(o -> o.keysRefused).sum(), pending, pendingUnknown,
                sum(outboxBySweep.values().stream().map(o -> o.kept)), List.copyOf(drainErrors));
    }

    public synchronized long failuresRecorded() {
        return failuresRecorded;
    }

    public synchronized long failuresSent() {
        return failuresSent;
    }

    /** Items purged (assets deleted) so far, over every sweep. */
    public synchronized long purged() {
        return sweeps.values().stream().mapToLong(s -> s.purged).sum();
    }

    public synchronized long failed() {
        return sweeps.values().stream().mapToLong(s -> s.failed).sum();
    }

    /** Keys the outbox deleted so far. */
    public synchronized long keysDeleted() {
        return outboxBySweep.values().stream().flatMap(o -> o.deleted.values().stream()).mapToLong(n -> n).sum();
    }

    private SweepCount sweep(String name) {
        return sweeps.computeIfAbsent(name, n -> new SweepCount(n, null, null));
    }

    private SweepCount outbox(String sweep) {
        return outboxBySweep.computeIfAbsent(String.valueOf(sweep), n -> new SweepCount(n, null, null));
    }

    private static Long plus(Long a, long n) {
        return (a == null ? 0 : a) + n;
    }

    private static void add(Map<String, Long> byStore, String store, long n) {
        if (n > 0) {
            byStore.merge(store, n, Long::sum);
        }
    }

    /** Counts by store, added up. */
    private static Map<String, Long> sum(Stream<Map<String, Long>> byStore) {
        Map<String, Long> total = new TreeMap<>();
        byStore.forEach(m -> m.forEach((store, n) -> total.merge(store, n, Long::sum)));
        return total;
    }

    private static final class SweepCount {
        private final String name;
        private final String kind;
        private final Instant cutoff;
        private final long startNanos = System.nanoTime();
        private boolean finished;
        private long eligible;
        private long purged;
        private long skipped;
        private long failed;
        private final List<SweepReport.Failure> failures = new ArrayList<>();
        private final Map<String, Long> figures = new TreeMap<>();
        private final Map<String, Long> keysCollected = new TreeMap<>();
        private final List<String> sampleIds = new ArrayList<>();
        private final Map<String, List<String>> sampleKeys = new TreeMap<>();
        private final Map<String, Long> deleted = new TreeMap<>();
        private final Map<String, Long> keysFailed = new TreeMap<>();
        private final Map<String, Long> kept = new TreeMap<>();
        private long keysRefused;
        private Long scanned;
        private Long referenced;
        private Long bytesReclaimed;
        private final Map<String, Long> apiCalls = new TreeMap<>();
        private String stoppedBy;
        private Instant quotaResetsAt;
        private String error;
        private String listingWarning;
        private SweepReport.Listing listing;
        private SweepReport.FannedOut fannedOut;
        private String brake;

        SweepCount(String name, String kind, Instant cutoff) {
            this.name = name;
            this.kind = kind;
            this.cutoff = cutoff;
        }

        void failed(String item, String step, String why) {
            failed++;
            if (failures.size() < MAX_FAILURES_LISTED) {
                failures.add(new SweepReport.Failure(item, step, why));
            }
        }

        void purged(RunEvent.ItemPurged e) {
            purged++;
            sample(sampleIds, List.of(e.item()));
            e.figures().forEach((k, v) -> figures.merge(k, v, Long::sum));
            e.keys().forEach((store, list) -> {
                keysCollected.merge(store, (long) list.size(), Long::sum);
                sample(sampleKeys.computeIfAbsent(store, s -> new ArrayList<>()), list);
            });
        }

        /** Deleted assets count as purged items; in a dry run they are what would be deleted. */
        void assetsDeleted(RunEvent.KeysDeleted e, boolean dryRun) {
            purged += e.keys().size();
            sample(sampleIds, e.keys());
            bytesReclaimed = plus(bytesReclaimed, e.bytes());
            if (!dryRun) {
                add(deleted, e.store(), e.keys().size());
            }
        }

        /** The first ids, up to {@code SAMPLE} in all. */
        private static void sample(List<String> sample, List<String> ids) {
            ids.stream().limit(Math.max(0, SAMPLE - sample.size())).forEach(sample::add);
        }

        void stop(String reason, String why, Instant resetsAt) {
            if (stoppedBy == null) {
                stoppedBy = reason;
            }
            if (error == null) {
                error = why;
            }
            if (resetsAt != null) {
                quotaResetsAt = resetsAt;
            }
        }

        SweepReport report(boolean stopRequested, SweepCount outbox, boolean dryRun) {
            String stopped = stopRequested && "timeBudget".equals(stoppedBy) ? "stopRequested" : stoppedBy;
            return new SweepReport(name, kind, cutoff == null ? null : cutoff.toString(), eligible, purged, skipped,
                    failed, List.copyOf(failures), new LinkedHashMap<>(figures), new LinkedHashMap<>(keysCollected),
                    sum(Stream.of(deleted, outbox.deleted)), sum(Stream.of(keysFailed, outbox.keysFailed)),
                    keysRefused + outbox.keysRefused, List.copyOf(sampleIds), new LinkedHashMap<>(sampleKeys),
                    stopped == null, stopped, (System.nanoTime() - startNanos) / 1_000_000, scanned, referenced,
                    bytesReclaimed, apiCalls.isEmpty() ? null : new LinkedHashMap<>(apiCalls),
                    quotaResetsAt == null ? null : quotaResetsAt.toString(),
                    outbox.kept.isEmpty() ? null : new TreeMap<>(outbox.kept), error, listingWarning, listing, fannedOut,
                    brake, dryRun);
        }
    }
}
