package dev.reclaim.run;

import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.failure.Failures;
import dev.reclaim.outbox.DrainState;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.RunTally;
import dev.reclaim.report.SweepReport;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.store.Stores;
import dev.reclaim.failure.Failure;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.sweep.Brake;
import dev.reclaim.sweep.PlanScope;
import dev.reclaim.sweep.Sweep;
import dev.reclaim.sweep.SweepContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * One run, top to bottom: take the run lock, open the ledger row, delete what a crashed run left in the outbox,
 * run the sweeps in order until done or out of time, close the ledger row, and return the report. What happens is told
 * as events to the run's {@link RunTally} (the report) and to the listeners given (progress, metrics, alerts).
 */
public final class Run {
    private static final Logger log = LoggerFactory.getLogger(Run.class);

    private final ReclaimConfig config;
    private final DataSource dataSource;
    private final Stores stores;
    private final Outbox outbox;
    private final Failures failures;
    private final RunLedger ledger = new RunLedger();
    private boolean sqlChecked;
    private boolean migrated;

    private final Retries retries;
    private final RunEvents listeners;
    private final Map<String, Sweep> sweeps;
    /** The work queue's worker and the fan-out of records sweeps onto it; null without a work queue. */
    private ShardWork shardWork;
    private FanOut fanOut;

    /** {@code sweeps}: every configured sweep by name, which retried items go back through. */
    public Run(ReclaimConfig config, DataSource dataSource, Stores stores, Failures failures, Outbox.Policy policy,
               Map<String, Sweep> sweeps, RunEvents listeners) {
        this.listeners = listeners;
        this.config = config;
        this.dataSource = dataSource;
        this.stores = stores;
        this.failures = failures;
        this.outbox = new Outbox(stores, failures, policy);
        this.retries = Retries.of(sweeps, this::retryContext, failures);
        this.sweeps = sweeps;
    }

    /** Scheduled runs fan records sweeps out onto {@code workQueue} (the shards' messages), which workers take. */
    public void workQueue(dev.reclaim.failure.RetryQueue workQueue) {
        this.shardWork = new ShardWork(sweeps, dataSource, workQueue, this::shardContext, stores);
        this.fanOut = workQueue == null ? null : new FanOut(workQueue);
    }

    /** A holder for one run's drains beside its sweeps, when the pool has a connection for them. */
    private DrainBeside drainBeside() {
        return new DrainBeside(Database.maxConnections(dataSource) >= DrainBeside.CONNECTIONS);
    }

    /** The worker of the work queue's messages (its queue null when none is configured). */
    public ShardWork shardWork() {
        if (shardWork == null) {
            workQueue(null);
        }
        return shardWork;
    }

    /** Failed items retried one by one, each in a context of its own (the retry handler, {@code reclaim retry}). */
    public Retries retries() {
        return retries;
    }

    /**
     * Without a retry queue: retries up to {@code max} failures stored in {@code reclaim.failures} (each once), the
     * way a run does before its sweeps. A success leaves the table; a failure stays for the next run.
     */
    public Failures.Retried retryStored(long max) throws SQLException {
        synchronized (this) {
            prepare(false, listeners, null); // Reclaim's schema up to date
        }
        return retries.retryStored(failures, dataSource, null, max);
    }

    /**
     * Once per process: every configured statement must prepare against the database (else a ConfigException, and
     * nothing runs), and Reclaim's schema is brought up to date (not by a dry run, which writes nothing).
     */
    private void prepare(boolean dryRun, RunEvents events, Instant deadline) throws SQLException {
        if (!sqlChecked) {
            SqlCheck.check(config, dataSource);
            // Each store checks how it is set up (a Cloudinary account's folder mode): once per process. A store that
            // cannot be asked now (rate limited, down) is asked again before its first listing; only a contradiction
            // with the configuration stops everything here.
            for (var store : stores.all().values()) {
                long callsBefore = store.apiCalls();
                try {
                    // A minute at most, and never past the run's own deadline: a hanging store must not eat the run.
                    Instant by = Instant.now().plusSeconds(60);
                    store.prepare(deadline != null && deadline.isBefore(by) ? deadline : by);
                } catch (dev.reclaim.config.ConfigException e) {
                    throw e;
                } catch (RuntimeException e) {
                    log.warn("store {} could not be asked how it is set up ({}); it is asked again before it lists",
                            store.name(), e.toString());
                } finally {
                    // The folder-mode call spends the hourly quota like any other: counted in the report and metrics.
                    if (store.apiCalls() > callsBefore) {
                        store.reportCalls(events, null, callsBefore);
                    }
                }
            }
            sqlChecked = true;
        }
        if (!dryRun && !migrated) {
            Database.migrate(dataSource);
            migrated = true;
        }
    }

    public synchronized RunReport execute(RunRequest request, List<Sweep> sweeps) {
        UUID runId = UUID.randomUUID();
        String outer = MDC.get("runId"); // an entry point's own id (a retry invocation) comes back after the run
        MDC.put("runId", runId.toString());
        RunTally tally = new RunTally(request.dryRun());
        RunEvents events = RunEvents.of(List.of(tally, listeners));
        events.emit(new RunEvent.RunStarted(runId, request.trigger(), request.dryRun(),
                sweeps.stream().map(Sweep::name).toList()));
        events.emit(new RunEvent.TimeBudget(request.deadline().at()));
        // A stop (SIGTERM) cuts the store calls still waiting when its grace ends: they were made before it.
        Runnable forget = request.deadline().whenStopped(stores::cutCallsAt);
        try {
            RunReport report = execute(runId, request, sweeps, tally, events);
            events.emit(new RunEvent.RunFinished(report));
            return report;
        } catch (RuntimeException e) {
            events.emit(new RunEvent.RunFailed(e.toString(), e)); // e.g. a configured statement that no longer prepares
            throw e;
        } finally {
            forget.run();
            stores.cutCallsAt(null); // the next run in this process starts uncut
            if (outer == null) {
                MDC.remove("runId");
            } else {
                MDC.put("runId", outer);
            }
        }
    }

    private RunReport execute(UUID runId, RunRequest request, List<Sweep> sweeps, RunTally tally, RunEvents events) {
        Instant started = Instant.now();
        try {
            prepare(request.dryRun(), events, request.deadline().at());
            events.emit(new RunEvent.Phase("lock", null));
            Optional<RunLock> lock = RunLock.tryAcquire(dataSource);
            if (lock.isEmpty()) {
                RunReport skipped = report(runId, request, started, Outcome.SKIPPED, "another run holds the lock",
                        List.of(), null, null, tally);
                if (!request.dryRun()) {
                    try (Connection c = dataSource.getConnection()) {
                        ledger.finished(c, skipped);
                    }
                }
                return skipped;
            }
            try (RunLock held = lock.get()) {
                return sweep(runId, request, started, sweeps, held, tally, events);
            }
        } catch (SQLException e) {
            boolean unreachable = e instanceof java.sql.SQLTransientConnectionException || Database.isConnectionFailure(e);
            String reason = (unreachable ? "cannot reach the database: " : "database error: ") + rootMessage(e);
            log.error("run failed: {}", reason, e);
            events.emit(new RunEvent.RunFailed(reason, e));
            RunReport failed = report(runId, request, started, Outcome.FAILED, reason, List.of(), null, null, tally);
            recordFailure(request, failed);
            return failed;
        }
    }

    /**
     * A context for retrying single items outside a scheduled run (no run lock: every item is claimed on its own).
     * Reclaim's schema must exist unless this is a dry run.
     */
    synchronized SweepContext retryContext(boolean dryRun) throws SQLException {
        prepare(dryRun, listeners, null);
        try (Connection c = dataSource.getConnection()) {
            boolean ready = !dryRun || Database.schemaExists(c);
            return new Context(UUID.randomUUID(), databaseNow(c), dryRun, Deadline.none(), dataSource, stores,
                    outbox, new DrainState(), drainBeside(), ready, failures, listeners, RunControl.none(), null, false,
                    null);
        }
    }

    /**
     * A context for one shard of a fanned-out run {@code runId}: no run lock (each item is claimed on its own, and the
     * shard is locked), the worker's deadline, the shard's share of the run's limit; events to {@code tally} too.
     */
    synchronized SweepContext shardContext(UUID runId, Deadline deadline, Brake.Shared shared, RunEvents tally)
            throws SQLException {
        prepare(false, listeners, deadline.at());
        try (Connection c = dataSource.getConnection()) {
            return new Context(runId, databaseNow(c), false, deadline, dataSource, stores, outbox, new DrainState(),
                    drainBeside(), true, failures, RunEvents.of(List.of(tally, listeners)), RunControl.none(), null, true, shared);
        }
    }

    private RunReport sweep(UUID runId, RunRequest request, Instant started, List<Sweep> sweeps, RunLock lock,
                            RunTally tally, RunEvents events) throws SQLException {
        Connection lockConn = lock.connection();
        Instant dbNow = databaseNow(lockConn);
        boolean outboxReady = !request.dryRun() || Database.schemaExists(lockConn);
        if (!request.dryRun()) {
            int abandoned = ledger.interruptAbandoned(lockConn, runId); // we hold the lock: none of them can be running
            if (abandoned > 0) {
                log.warn("{} earlier run(s) left the ledger as running; recorded as interrupted", abandoned);
            }
            ledger.started(lockConn, runId, request.trigger(), started);
        }
        RunControl control = new RunControl(lock, request.dryRun() ? null : ledger, runId, tally);
        boolean applying = request.plan() != null;
        // Applying a plan, the outbox gives up only the keys of this run's items: the plan held them all.
        Context ctx = new Context(runId, dbNow, request.dryRun(), request.deadline(), dataSource, stores,
                outbox, applying ? DrainState.thisRunOnly() : new DrainState(), drainBeside(), outboxReady, failures, events, control,
                request.plan(), true, null);
        Failures.Retried retried = new Failures.Retried(0, 0);
        try {
            if (!request.dryRun() && outboxReady && !failures.queueConfigured() && !applying) {
                // No retry queue: the failures earlier runs stored are retried here, or nothing would ever retry them.
                RunEvents filesOnly = RunEvents.of(List.of(tally.filesOnly(), listeners));
                retried = retries.within(dry -> ctx.retrying(filesOnly))
                        .retryStored(failures, dataSource, request.deadline().at(), Long.MAX_VALUE);
            }
            try (Connection c = dataSource.getConnection()) {
                ctx.flushFailures(c); // failures an earlier run could not hand to SQS
                ctx.drainOutbox(c); // what an earlier, interrupted run committed but did not delete
            }
            for (Sweep sweep : sweeps) {
                MDC.put("sweep", sweep.name());
                try {
                    if (request.deadline().passed()) {
                        events.emit(new RunEvent.SweepStarted(sweep.name(), null, null));
                        events.emit(new RunEvent.SweepStopped(sweep.name(), "timeBudget", null, null));
                        sweep.notStarted(ctx);
                        events.emit(new RunEvent.SweepFinished(sweep.name()));
                        continue;
                    }
                    FanOut.Spread spread = fanOut != null && !request.dryRun() && !applying && outboxReady
                            ? fanOut.spread(sweep, ctx) : FanOut.Spread.HERE;
                    if (spread == FanOut.Spread.TO_WORKERS) {
                        continue;
                    }
                    sweep.run(spread == FanOut.Spread.HERE ? ctx
                            : ctx.sharing(Shards.budget(dataSource, runId, sweep.name())));
                } finally {
                    MDC.remove("sweep");
                }
            }
            boolean stopped = request.deadline().stopRequested();
            List<SweepReport> reports = tally.sweepReports(stopped);
            boolean outOfTime = reports.stream().anyMatch(r -> "timeBudget".equals(r.stoppedBy()));
            long pending = 0;
            long failuresPending = 0;
            if (outboxReady) {
                ctx.flushFailures(lockConn);
                pending = outbox.pending(lockConn).values().stream().mapToLong(Long::longValue).sum();
                events.emit(new RunEvent.PendingDeletionsCounted(pending, outbox.oldestPendingAge(lockConn)));
                failuresPending = failures.pending(lockConn);
            }
            RunReport.OutboxReport ob = tally.outboxReport(pending, null);
            RunReport.FailureReport fr = new RunReport.FailureReport(tally.failuresRecorded(), tally.failuresSent(),
                    failuresPending, failures.queueConfigured(), retried.tried(), retried.succeeded());
            List<SweepReport> held = reports.stream().filter(r -> "brake".equals(r.stoppedBy())).toList();
            Outcome outcome = stopped ? Outcome.INTERRUPTED : !held.isEmpty() ? Outcome.HELD
                    : outOfTime ? Outcome.INCOMPLETE : Outcome.COMPLETED;
            String reason = stopped
                    ? "stopped by " + request.deadline().stopReason() + ": the item in hand was finished; the next run carries on"
                    : !held.isEmpty() ? "held by the brake: " + held.stream().map(r -> r.name() + " (" + r.brake() + ")")
                            .collect(java.util.stream.Collectors.joining("; ")) + "; the other sweeps went on. Check the "
                            + "configuration and the data, then reclaim approve --sweep NAME to let the next run through"
                    : outOfTime ? "time budget reached; the next run carries on" : null;
            RunReport report = report(runId, request, started, outcome, reason, reports, ob, fr, tally);
            if (!request.dryRun()) {
                ledger.finished(lockConn, report);
            }
            return report;
        } catch (SQLException | RuntimeException e) {
            return failedPartWay(runId, request, started, e, tally, events, outboxReady);
        }
    }

    /**
     * A run that failed after it started its work: the report and the ledger row say, per sweep, what was done up to
     * the failure (the sweeps that finished, and the one that was running, {@code stoppedBy: runFailed}), what the
     * outbox deleted, and what is still pending when the database can still be asked.
     */
    private RunReport failedPartWay(UUID runId, RunRequest request, Instant started, Exception e, RunTally tally,
                                    RunEvents events, boolean outboxReady) {
        String reason = e instanceof RunLockLost ? e.getMessage()
                : e instanceof SQLException sql && Database.isConnectionFailure(sql)
                ? "lost its database connection: " + rootMessage(e)
                : e instanceof SQLException ? "database error: " + rootMessage(e)
                : "unexpected error: " + e;
        log.error("run failed: {}", reason, e);
        events.emit(new RunEvent.RunFailed(reason, e));
        tally.runFailed();
        List<SweepReport> reports = tally.sweepReports(false);
        long[] counted = new long[2]; // keys pending, failures pending
        boolean known = !outboxReady || afterFailure("count the keys still pending", c -> {
            counted[0] = outbox.pending(c).values().stream().mapToLong(Long::longValue).sum();
            counted[1] = failures.pending(c);
            events.emit(new RunEvent.PendingDeletionsCounted(counted[0], outbox.oldestPendingAge(c)));
        });
        RunReport.OutboxReport ob = tally.outboxReport(known ? counted[0] : 0, known ? null : Boolean.TRUE);
        RunReport.FailureReport fr = known ? new RunReport.FailureReport(tally.failuresRecorded(),
                tally.failuresSent(), counted[1], failures.queueConfigured(), 0, 0) : null;
        RunReport failed = report(runId, request, started, Outcome.FAILED, reason, reports, ob, fr, tally);
        recordFailure(request, failed);
        return failed;
    }

    private static Instant databaseNow(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT now()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    private void recordFailure(RunRequest request, RunReport failed) {
        if (request.dryRun()) {
            return;
        }
        afterFailure("record the failed run in the ledger", c -> {
            if (Database.schemaExists(c)) {
                ledger.finished(c, failed);
            }
        });
    }

    private interface SqlWork {
        void run(Connection c) throws SQLException;
    }

    /**
     * Bookkeeping after a failed run, on a fresh connection; tried twice, as the pool may first hand out a connection
     * that died with the run's (and then evicts it). Returns whether it was done.
     */
    private boolean afterFailure(String what, SqlWork work) {
        for (int attempt = 1; attempt <= 2; attempt++) {
            try (Connection c = dataSource.getConnection()) {
                work.run(c);
                return true;
            } catch (SQLException e) {
                log.warn("could not {}: {}", what, e.getMessage());
            }
        }
        return false;
    }

    private RunReport report(UUID runId, RunRequest request, Instant started, Outcome outcome, String reason,
                             List<SweepReport> sweeps, RunReport.OutboxReport outbox, RunReport.FailureReport failures,
                             RunTally tally) {
        Instant finished = Instant.now();
        Map<String, String> folderModes = new TreeMap<>();
        stores.all().forEach((name, store) -> Optional.ofNullable(store.folderMode())
                .ifPresent(mode -> folderModes.put(name, mode)));
        return new RunReport(runId.toString(), request.trigger(), request.dryRun(), outcome, reason, started, finished,
                finished.toEpochMilli() - started.toEpochMilli(), sweeps,
                outbox == null ? new RunReport.OutboxReport(Map.of(), Map.of(), 0, 0) : outbox, failures,
                folderModes.isEmpty() ? null : folderModes, tally.apiCalls(), undoable());
    }

    /** Per store, whether a deletion can be restored ({@code yes}) or why not; null before any store was asked. */
    private Map<String, String> undoable() {
        if (!sqlChecked) {
            return null;
        }
        Map<String, String> out = new TreeMap<>();
        stores.all().forEach((name, store) -> out.put(name, Optional.ofNullable(store.notUndoable()).orElse("yes")));
        return out;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = e.getMessage();
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                msg = t.getMessage();
            }
        }
        return msg;
    }

    /**
     * What every sweep of one run shares. {@code now} is the database's clock at the start: cutoffs are computed from it,
     * so the application server's clock never matters.
     */
    record Context(UUID runId, Instant now, boolean dryRun, Deadline deadline, DataSource dataSource,
                       Stores stores, Outbox outbox, DrainState drains, DrainBeside beside, boolean outboxReady,
                       Failures failures, RunEvents events, RunControl control, PlanScope plan, boolean braked,
                       Brake.Shared shared)
            implements SweepContext {

        /**
         * A run's sweeps are braked by their history, a shard by its share of its run's limit; a retried item, or a
         * plan applied (its own approval), is not.
         */
        @Override
        public Brake brake(SweepConfig sweep) throws SQLException {
            if (shared != null && sweep instanceof SweepConfig.Assets && sweep.brake().on()) {
                // A shard's assets pages keep the collapse rule (read, not the approval: the run took that).
                try (Connection c = dataSource.getConnection()) {
                    return Brake.shared(sweep.name(), shared,
                            BrakeHistory.referencedShare(BrakeHistory.past(c, sweep.name())));
                }
            }
            if (shared != null) {
                return Brake.shared(sweep.name(), shared);
            }
            if (!braked || plan != null) {
                return Brake.none(sweep.name(), plan != null ? "a reviewed plan is its own approval" : "a retried item");
            }
            try (Connection c = dataSource.getConnection()) {
                return BrakeHistory.of(c, sweep, runId, dryRun);
            }
        }

        /** This run's context for the failures it retries itself, its events to {@code heard}. */
        Context retrying(RunEvents heard) {
            return new Context(runId, now, dryRun, deadline, dataSource, stores, outbox, new DrainState(), beside,
                    outboxReady, failures, heard, control, null, false, null);
        }

        /** This context, its sweep's brake a share of the limit the run's shards count against. */
        Context sharing(Brake.Shared limit) {
            return new Context(runId, now, dryRun, deadline, dataSource, stores, outbox, drains, beside, outboxReady,
                    failures,
                    events, control, plan, braked, limit);
        }

        @Override
        public boolean deadlinePassed() {
            return deadline.passed();
        }

        @Override
        public Instant deadlineAt() {
            return deadline.at();
        }

        @Override
        public void checkRunLock() throws SQLException {
            control.check();
        }

        /** Deletes every pending key now (not in a dry run, nor before Reclaim's schema exists); checks the lock first. */
        public void drainOutbox(Connection c) throws SQLException {
            checkRunLock();
            if (!dryRun && outboxReady) {
                events.emit(new RunEvent.Phase("drain", null));
                // After a stop was requested (SIGTERM), a few seconds' grace: the keys of the items purged go if they can.
                outbox.drain(c, drains, runId, events, deadline.grace().at());
            }
        }

        @Override
        public void drainBeside(Connection c) throws SQLException {
            beside.await(null);
            if (!beside.room() || dryRun || !outboxReady) {
                drainOutbox(c);
                return;
            }
            checkRunLock(); // on this thread: a lost lock stops the sweep before its next page
            beside.start(() -> {
                try (Connection own = dataSource.getConnection()) {
                    drainOutbox(own);
                }
                return null;
            });
        }

        @Override
        public void awaitDrain(Throwable failing) throws SQLException {
            beside.await(failing);
        }

        @Override
        public Map<String, String> leftToOthers(Connection c, String store, Map<String, Instant> listed)
                throws SQLException {
            return outboxReady ? Outbox.leftToOthers(c, store, listed) : Map.of();
        }

        /** Records a failed item durably ({@code c} in auto-commit); a dry run records nothing. */
        public void recordFailure(Connection c, Failure failure) throws SQLException {
            if (!dryRun && outboxReady) {
                failures.record(c, failure);
                events.emit(new RunEvent.FailureRecorded(failure.sweep(), failure.kind()));
            }
        }

        /** Sends recorded failures to the retry queue ({@code c} in auto-commit). */
        public void flushFailures(Connection c) throws SQLException {
            if (!dryRun && outboxReady) {
                long sent = failures.flush(c);
                if (sent > 0) {
                    events.emit(new RunEvent.FailuresSent(sent));
                }
            }
        }
    }
}
