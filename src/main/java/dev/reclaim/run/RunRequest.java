package dev.reclaim.run;

import dev.reclaim.config.Settings;
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

    /**
     * {@link Settings#from} of {@code env}; when only {@code RECLAIM_DRY_RUN} is unreadable, a {@link UsageException}:
     * a value meant as "yes" but not understood must stop Reclaim, never let it run for real.
     */
    public static Settings settings(java.util.Map<String, String> env) {
        try {
            return Settings.from(env);
        } catch (Settings.DryRunUnreadable e) {
            throw new UsageException(e.getMessage());
        }
    }
}
