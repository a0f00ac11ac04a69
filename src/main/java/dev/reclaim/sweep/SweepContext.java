package dev.reclaim.sweep;

import dev.reclaim.config.SweepConfig;
import dev.reclaim.failure.Failure;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.Stores;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** What a sweep needs from the run it works in; the run implements it, so sweeps do not depend on the run. */
public interface SweepContext {
    UUID runId();

    boolean dryRun();

    /** The database's clock at the start of the run: cutoffs are computed from it. */
    Instant now();

    /** True once the run's deadline has passed or a stop was requested: no new item is taken. */
    boolean deadlinePassed();

    /** When store calls must be over (null: no deadline). */
    Instant deadlineAt();

    DataSource dataSource();
    Stores stores();
    Outbox outbox();

    /** The plan being applied ({@code reclaim apply}), or null: then the sweep acts on everything eligible. */
    default PlanScope plan() {
        return null;
    }

    /** The sweep's brake for this run (from its history; none for a plan being applied or a retried item). */
    default Brake brake(SweepConfig sweep) throws SQLException {
        return Brake.none(sweep.name(), "not a scheduled run");
    }

    /** Where the sweep reports what happens: the run's report, progress lines, metrics and alerts listen. */
    RunEvents events();

    /** Before each page and each drain: throws when the run no longer holds its lock. */
    void checkRunLock() throws SQLException;

    /** Deletes every pending key now (not in a dry run); checks the lock first. */
    void drainOutbox(Connection c) throws SQLException;

    /**
     * After a page: waits for the drain started after the previous page, then starts one beside the next page (a
     * connection and thread of its own), or drains on {@code c} now when the pool has no connection to spare.
     */
    void drainBeside(Connection c) throws SQLException;

    /** Waits for the drain {@link #drainBeside} started; its error is thrown, or added to {@code failing} if not null. */
    void awaitDrain(Throwable failing) throws SQLException;

    /**
     * Which of the {@code listed} keys of {@code store} (key: when its object was made) an assets sweep leaves to
     * others, with the reason: pending in the outbox, or deleted meanwhile by a drain or retry elsewhere (none before
     * Reclaim's schema exists). So one deletion is deleted and counted once.
     */
    Map<String, String> leftToOthers(Connection c, String store, Map<String, Instant> listed) throws SQLException;

    /** Records a failed item durably ({@code c} in auto-commit); a dry run records nothing. */
    void recordFailure(Connection c, Failure failure) throws SQLException;

    /** Sends recorded failures to the retry queue ({@code c} in auto-commit). */
    void flushFailures(Connection c) throws SQLException;
}
