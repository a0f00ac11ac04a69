package dev.reclaim.run;

import dev.reclaim.sweep.PlanScope;
import dev.reclaim.config.Booleans;

import java.util.List;

/**
 * What one run should do; {@code sweeps} empty: every configured sweep. {@code plan}: the reviewed plan it applies
 * (only what it holds may go), or null.
 */
public record RunRequest(String trigger, boolean dryRun, List<String> sweeps, Deadline deadline, PlanScope plan) {

    public RunRequest {
        sweeps = sweeps == null ? List.of() : List.copyOf(sweeps);
        deadline = deadline == null ? Deadline.none() : deadline;
    }

    public RunRequest(String trigger, boolean dryRun, List<String> sweeps, Deadline deadline) {
        this(trigger, dryRun, sweeps, deadline, null);
    }

    /**
     * {@code RECLAIM_DRY_RUN} ({@code true/false/1/0/yes/no}, any case; unset or empty: false) forces dry runs (and dry
     * retries), whatever the input or flags say. Any other value is a {@link UsageException}: a value meant as "yes"
     * but not understood must stop Reclaim, never let it run for real.
     */
    public static boolean dryRunForced(java.util.Map<String, String> env) {
        try {
            return Booleans.parse(env.get("RECLAIM_DRY_RUN"), false);
        } catch (IllegalArgumentException e) {
            throw new UsageException("RECLAIM_DRY_RUN: " + e.getMessage());
        }
    }

    public static RunRequest all(String trigger) {
        return new RunRequest(trigger, false, List.of(), Deadline.none());
    }
}
