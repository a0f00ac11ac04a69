package dev.reclaim.run;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a run ended. Failed items do not fail a run; only the run itself failing does. */
public enum Outcome {
    RUNNING, COMPLETED, INCOMPLETE, FAILED, SKIPPED;

    @JsonValue
    public String label() {
        return name().toLowerCase();
    }
}
