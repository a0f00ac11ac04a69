package dev.reclaim.report;

import dev.reclaim.report.RunEvent.Source;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
    private final Map<String, Long> outboxDeleted = new TreeMap<>();
    private final Map<String, Long> outboxFailed = new TreeMap<>();
    private final Map<String, Long> outboxKept = new TreeMap<>();
    private long outboxRefused;
    private final List<String> drainErrors = new ArrayList<>();
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
        } else if (event instanceof RunEvent.KeysDeleted e) {
            if (e.source() == Source.OUTBOX) {
                SweepCount o = outbox(e.sweep());
                o.add(o.deleted, e.store(), e.keys().size());
                outboxDeleted.merge(e.store(), (long) e.keys().size(), Long::sum);
            } else {
                sweep(e.sweep()).assetsDeleted(e, dryRun);
            }
        } else if (event instanceof RunEvent.KeysFailed e) {
            SweepCount s = e.source() == Source.OUTBOX ? outbox(e.sweep()) : sweep(e.sweep());
            s.add(s.keysFailed, e.store(), e.reasons().size());
            if (e.source() == Source.OUTBOX) {
                outboxFailed.merge(e.store(), (long) e.reasons().size(), Long::sum);
            } else {
                e.reasons().forEach((key, why) -> s.failed(key, "delete", why));
            }
        } else if (event instanceof RunEvent.KeysRefused e) {
            (e.source() == Source.OUTBOX ? outbox(e.sweep()) : sweep(e.sweep())).keysRefused += e.keys().size();
            if (e.source() == Source.OUTBOX) {
                outboxRefused += e.keys().size();
            }
        } else if (event instanceof RunEvent.KeysKept e) {
            if (e.source() == Source.OUTBOX) {
                SweepCount o = outbox(e.sweep());
                o.add(o.kept, e.store(), e.keys().size());
                outboxKept.merge(e.store(), (long) e.keys().size(), Long::sum);
            } else {
                SweepCount s = sweep(e.sweep());
                s.referenced = plus(s.referenced, e.keys().size());
            }
        } else if (event instanceof RunEvent.ApiCalls e && e.sweep() != null) {
            SweepCount s = sweep(e.sweep());
            if (s.apiCalls == null) {
                s.apiCalls = new TreeMap<>();
            }
            s.apiCalls.merge(e.store(), e.calls(), Long::sum);
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

    /** The sweeps' reports, in the order they started; {@code stopRequested}: the run was asked to stop (SIGTERM). */
    public synchronized List<SweepReport> sweepReports(boolean stopRequested) {
        return sweeps.values().stream().map(s -> s.report(stopRequested, outboxBy(s.name))).toList();
    }

    /** A run that failed: every sweep that had started and not finished stopped because of it. */
    public synchronized void runFailed() {
        sweeps.values().stream().filter(s -> !s.finished).forEach(s -> s.stop("runFailed", null, null));
    }

    public synchronized RunReport.OutboxReport outboxReport(long pending, Boolean pendingUnknown) {
        return new RunReport.OutboxReport(new TreeMap<>(outboxDeleted), new TreeMap<>(outboxFailed), outboxRefused,
                pending, pendingUnknown, new TreeMap<>(outboxKept), List.copyOf(drainErrors));
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
        return outboxDeleted.values().stream().mapToLong(Long::longValue).sum();
    }

    private SweepCount sweep(String name) {
        return sweeps.computeIfAbsent(name, n -> new SweepCount(n, null, null));
    }

    private final Map<String, SweepCount> outboxBySweep = new TreeMap<>();

    /** What the outbox did for a sweep's keys (counted apart: the sweep may not be part of this run). */
    private SweepCount outbox(String sweep) {
        return outboxBySweep.computeIfAbsent(String.valueOf(sweep), n -> new SweepCount(n, null, null));
    }

    private SweepCount outboxBy(String sweep) {
        return outboxBySweep.get(sweep);
    }

    private static Long plus(Long a, long n) {
        return (a == null ? 0 : a) + n;
    }

    /** One sweep's counts. */
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
        private Map<String, Long> apiCalls;
        private String stoppedBy;
        private Instant quotaResetsAt;
        private String error;
        private String listingWarning;

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
            sample(List.of(e.item()));
            e.figures().forEach((k, v) -> figures.merge(k, v, Long::sum));
            e.keys().forEach((store, list) -> {
                keysCollected.merge(store, (long) list.size(), Long::sum);
                List<String> sample = sampleKeys.computeIfAbsent(store, s -> new ArrayList<>());
                list.stream().limit(Math.max(0, SAMPLE - sample.size())).forEach(sample::add);
            });
        }

        /** Deleted assets count as purged items; in a dry run they are what would be deleted. */
        void assetsDeleted(RunEvent.KeysDeleted e, boolean dryRun) {
            purged += e.keys().size();
            sample(e.keys());
            bytesReclaimed = plus(bytesReclaimed, e.bytes());
            if (!dryRun) {
                add(deleted, e.store(), e.keys().size());
            }
        }

        private void sample(List<String> ids) {
            ids.stream().limit(Math.max(0, SAMPLE - sampleIds.size())).forEach(sampleIds::add);
        }

        void add(Map<String, Long> m, String store, long n) {
            if (n > 0) {
                m.merge(store, n, Long::sum);
            }
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

        SweepReport report(boolean stopRequested, SweepCount outbox) {
            String stopped = stopRequested && "timeBudget".equals(stoppedBy) ? "stopRequested" : stoppedBy;
            Map<String, Long> allDeleted = new TreeMap<>(deleted);
            Map<String, Long> allFailed = new TreeMap<>(keysFailed);
            long refused = keysRefused;
            Map<String, Long> keptByOutbox = Map.of();
            if (outbox != null) {
                outbox.deleted.forEach((k, v) -> allDeleted.merge(k, v, Long::sum));
                outbox.keysFailed.forEach((k, v) -> allFailed.merge(k, v, Long::sum));
                refused += outbox.keysRefused;
                keptByOutbox = outbox.kept;
            }
            return new SweepReport(name, kind, cutoff == null ? null : cutoff.toString(), eligible, purged, skipped,
                    failed, List.copyOf(failures), new LinkedHashMap<>(figures), new LinkedHashMap<>(keysCollected),
                    allDeleted, allFailed, refused, List.copyOf(sampleIds), new LinkedHashMap<>(sampleKeys),
                    stopped == null, stopped, (System.nanoTime() - startNanos) / 1_000_000, scanned, referenced,
                    bytesReclaimed, apiCalls == null ? null : new LinkedHashMap<>(apiCalls),
                    quotaResetsAt == null ? null : quotaResetsAt.toString(),
                    keptByOutbox.isEmpty() ? null : new TreeMap<>(keptByOutbox), error, listingWarning);
        }
    }
}
