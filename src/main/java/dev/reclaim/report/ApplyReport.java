package dev.reclaim.report;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code reclaim apply} did with a plan, per sweep: what the plan held, what was applied, and what was not and
 * why. Reasons: {@code restoredSince} (no longer eligible when claimed), {@code noLongerEligible} (the eligibility
 * query no longer returns it: restored or gone since the plan), {@code changedSince} (its rows now own a file the plan
 * does not hold), {@code referencedSince}, {@code tooYoung}, {@code outsideGlob}, {@code outsidePrefixes},
 * {@code pendingInOutbox} (a record's file the outbox deletes), {@code deletedMeanwhile} (deleted elsewhere since listed),
 * {@code goneAlready} (a listing that went to its end no longer holds it), {@code recordNotPurged} (a key whose record
 * was not purged), {@code failed} (in the failure pipeline or the outbox), {@code notReached} (the sweep stopped early:
 * apply the plan again, or make a new one).
 */
public record ApplyReport(String file, Instant planCreatedAt, String configHash, Map<String, Sweep> sweeps,
                          RunReport run) {

    /** One sweep's part of the plan. */
    public record Sweep(long heldRecords, long heldKeys, long appliedRecords, long appliedKeys,
                        Map<String, Long> skipped) {
    }

    /** Counts, per sweep, what a run applying a plan did with it (it sees only what the plan holds). */
    public static final class Tally implements RunEvents {
        private final Map<String, long[]> applied = new TreeMap<>(); // records, keys
        private final Map<String, Map<String, long[]>> skipped = new TreeMap<>(); // records, keys per reason

        @Override
        public void emit(RunEvent event) {
            if (event instanceof RunEvent.ItemPurged e) {
                applied(e.sweep())[0]++;
            } else if (event instanceof RunEvent.ItemSkipped e) {
                skip(e.sweep(), "notEligible".equals(e.reason()) ? "restoredSince" : e.reason(), 0, 1);
            } else if (event instanceof RunEvent.ItemFailed e) {
                skip(e.sweep(), "failed", 0, 1);
            } else if (event instanceof RunEvent.KeysDeleted e && e.sweep() != null) {
                applied(e.sweep())[1] += e.keys().size();
            } else if (event instanceof RunEvent.KeysKept e && e.sweep() != null) {
                skip(e.sweep(), "referencedSince", 1, e.keys().size());
            } else if (event instanceof RunEvent.KeysFailed e && e.sweep() != null) {
                skip(e.sweep(), "failed", 1, e.reasons().size());
            } else if (event instanceof RunEvent.KeysRefused e && e.sweep() != null) {
                skip(e.sweep(), "outsidePrefixes", 1, e.keys().size());
            } else if (event instanceof RunEvent.AssetsPassedOver e) {
                skip(e.sweep(), e.reason(), 1, e.keys().size());
            }
        }

        private long[] applied(String sweep) {
            return applied.computeIfAbsent(sweep, s -> new long[2]);
        }

        private void skip(String sweep, String reason, int which, long n) {
            if (n == 0) {
                return;
            }
            skipped.computeIfAbsent(sweep, s -> new TreeMap<>()).computeIfAbsent(reason, r -> new long[2])[which] += n;
        }

        /** The report: what the tally saw, and the rest of what the plan held, said by how each sweep ended. */
        public ApplyReport report(PlanFile.Summary plan, RunReport run) {
            Map<String, Sweep> out = new LinkedHashMap<>();
            for (PlanFile.Sweep ps : plan.sweeps()) {
                String name = ps.name();
                SweepReport sr = run.sweeps().stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
                boolean complete = sr != null && sr.complete();
                long heldRecords = plan.records().getOrDefault(name, 0L);
                long heldKeys = plan.keys().getOrDefault(name, 0L);
                long[] done = applied.getOrDefault(name, new long[2]);
                Map<String, Long> reasons = new TreeMap<>();
                long[] counted = new long[2];
                skipped.getOrDefault(name, Map.of()).forEach((reason, n) -> {
                    counted[0] += n[0];
                    counted[1] += n[1];
                    reasons.merge(reason, n[0] + n[1], Long::sum);
                });
                boolean records = "records".equals(ps.kind());
                long restRecords = heldRecords - done[0] - counted[0];
                long restKeys = heldKeys - done[1] - counted[1];
                if (restRecords > 0) {
                    reasons.merge(complete ? "noLongerEligible" : "notReached", restRecords, Long::sum);
                }
                if (restKeys > 0) {
                    reasons.merge(records ? "recordNotPurged" : complete ? "goneAlready" : "notReached", restKeys, Long::sum);
                }
                out.put(name, new Sweep(heldRecords, heldKeys, done[0], done[1], reasons));
            }
            return new ApplyReport(plan.file().toString(), plan.createdAt(), plan.configHash(), out, run);
        }
    }
}
