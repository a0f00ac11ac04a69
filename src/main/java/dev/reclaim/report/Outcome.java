package dev.reclaim.report;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * How a run ended. Failed items do not fail a run; only the run itself failing does. {@code INTERRUPTED}: asked to
 * stop (SIGTERM), or found still {@code running} in the ledger by a later run, so killed without a word. {@code HELD}:
 * a sweep's brake stopped it (an alert, not an error: the other sweeps went on).
 */
public enum Outcome {
    RUNNING, COMPLETED, INCOMPLETE, FAILED, SKIPPED, INTERRUPTED, HELD;

    @JsonValue
    public String label() {
        return name().toLowerCase();
    }
}
