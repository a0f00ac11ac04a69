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

    public static RunRequest all(String trigger) {
        return new RunRequest(trigger, false, List.of(), Deadline.none());
    }
}
