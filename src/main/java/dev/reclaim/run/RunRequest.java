package dev.reclaim.run;

import java.util.List;

/**
 * What one run should do: who triggered it, whether it only reports, which sweeps (empty: all configured), and when
 * it must stop taking new work.
 */
public record RunRequest(String trigger, boolean dryRun, List<String> sweeps, Deadline deadline) {

    public RunRequest {
        sweeps = sweeps == null ? List.of() : List.copyOf(sweeps);
        deadline = deadline == null ? Deadline.none() : deadline;
    }

    /** {@code RECLAIM_DRY_RUN=true} forces dry runs (and dry retries), whatever the input or flags say. */
    public static boolean dryRunForced(java.util.Map<String, String> env) {
        return "true".equalsIgnoreCase(env.getOrDefault("RECLAIM_DRY_RUN", "false").trim());
    }

    public static RunRequest all(String trigger) {
        return new RunRequest(trigger, false, List.of(), Deadline.none());
    }
}
