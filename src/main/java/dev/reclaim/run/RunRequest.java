package dev.reclaim.run;

import dev.reclaim.sweep.PlanScope;

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

    public static RunRequest all(String trigger) {
        return new RunRequest(trigger, false, List.of(), Deadline.none());
    }
}
