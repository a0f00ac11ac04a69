package dev.reclaim.sweep;

import java.sql.SQLException;

/** One kind of cleanup over one configured target. Item failures are reported; an SQLException ends the run. */
public interface Sweep {
    String name();

    /** Reports what it does as events to {@link SweepContext#events()}. */
    void run(SweepContext ctx) throws SQLException;

    /**
     * For a sweep the run did not start (its time budget was spent): reports what is left to do, where a sweep can
     * count it cheaply (a records sweep's backlog); nothing else.
     */
    default void notStarted(SweepContext ctx) throws SQLException {
    }
}
