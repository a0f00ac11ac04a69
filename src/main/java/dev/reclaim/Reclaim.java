package dev.reclaim;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.config.AwsClients;
import dev.reclaim.config.ConfigInForce;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.Secrets;
import dev.reclaim.config.Settings;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.failure.Failures;
import dev.reclaim.run.Retries;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.observe.CloudWatchMetrics;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.observe.Release;
import dev.reclaim.report.ApplyReport;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.PlanFile;
import dev.reclaim.report.PlanWriter;
import dev.reclaim.run.AppliedPlan;
import dev.reclaim.run.Status;
import dev.reclaim.store.Undo;
import dev.reclaim.run.BrakeHistory;
import dev.reclaim.run.Deadline;
import dev.reclaim.report.DeletionLog;
import dev.reclaim.report.ProgressLog;
import dev.reclaim.report.RunEvents;
import dev.reclaim.run.Run;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.ShardWork;
import dev.reclaim.run.UsageException;
import dev.reclaim.store.Stores;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.sweep.Sweep;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The front door: everything wired by hand, once (per Lambda container or CLI process), from the configuration
 * file and the environment. Entry points build one and call {@link #run(RunRequest)}.
 */
public final class Reclaim implements AutoCloseable {
    private final ReclaimConfig config;
    private final Map<String, Sweep> sweeps;
    private final Run run;
    /** The stores every run, retry and restore goes through: protected keys, reference checks, the journal. */
    private final Stores stores;
    /** How long the deletion journal keeps a key ({@code RECLAIM_JOURNAL_RETENTION}, 30d): the undo window's bound. */
    private Duration journalRetention = Duration.ofDays(30);
    private final Failures failures;
    private final RetryQueue retryQueue;
    private final AutoCloseable[] owned;
    private final DataSource dataSource;
    private final ProgressLog progress = new ProgressLog(Clock.systemUTC());
    /** What a plan made now records, and what a plan applied now must carry. */
    private String configHash;
    /** Who hears every run's events besides its report: progress lines, a line per hard delete, {@link #listen}'s. */
    private final List<RunEvents> listeners = new CopyOnWriteArrayList<>(List.of(progress, new DeletionLog()));

    /** {@code stores}' delete calls are preceded by each store's reference check, whoever makes them. */
    public Reclaim(ReclaimConfig config, DataSource dataSource, Stores stores, RetryQueue retryQueue,
                   Outbox.Policy outboxPolicy, AutoCloseable... owned) {
        this.config = config;
        this.dataSource = dataSource;
        this.progress.inForce(ConfigInForce.of(config, Map.of()));
        this.configHash = ConfigInForce.hash(config, Map.of());
        this.sweeps = sweeps(config);
        this.failures = new Failures(retryQueue);
        this.retryQueue = retryQueue;
        this.stores = stores.referenceChecked(config, dataSource);
        this.run = new Run(config, dataSource, this.stores, failures, outboxPolicy, sweeps, RunEvents.of(listeners));
        this.owned = owned;
    }

    /** Everything {@code unresolved} names, its secrets read first; see {@link SentryReporter} for Sentry. */
    public static Reclaim from(Settings unresolved) {
        AwsClients aws = new AwsClients(unresolved.aws());
        try {
            // Secrets named by ARN (Lambda) are read once, here, before anything reads the variables they fill.
            Settings settings = Secrets.resolve(unresolved.forConfiguration(
                    ConfigLoader.variables(unresolved.config())), aws);
            Optional<SentryReporter> sentry = SentryReporter.from(settings.sentry()); // no DSN: Sentry stays off
            ReclaimConfig config = ConfigLoader.load(settings.config(), settings.substitutions());
            Stores stores = Stores.build(config, settings, aws);
            RetryQueue queue = RetryQueue.configured(settings.queues(), aws);
            HikariDataSource pool = Database.pool(settings.database());
            Outbox.Policy outbox = new Outbox.Policy(settings.outboxBackoff(), Outbox.Policy.DEFAULT.maxBackoff(),
                    settings.outboxRetryPeriod());
            Reclaim reclaim = new Reclaim(config, pool, stores, queue, outbox, pool, aws)
                    .listen(CloudWatchMetrics.from(settings.metrics(), aws))
                    .workQueue(RetryQueue.work(settings.queues(), aws));
            reclaim.progress.inForce(ConfigInForce.of(config, settings.substitutions()));
            reclaim.configHash = ConfigInForce.hash(config, settings.substitutions());
            reclaim.journalRetention = settings.journalRetention();
            sentry.ifPresent(reclaim::listen);
            return reclaim;
        } catch (RuntimeException e) {
            aws.close(); // a configuration error: nothing else holds the clients
            throw e;
        }
    }

    /**
     * What {@code reclaim status} shows, from the database ({@code RECLAIM_DB_*}, a password secret by ARN) and the
     * queues ({@code RECLAIM_RETRY_QUEUE_URL}, {@code RECLAIM_DLQ_URL}). Reads no configuration file, builds no store
     * and migrates nothing: it works while Cloudinary or S3 are down, and leaves a database without Reclaim's schema
     * as it is.
     */
    public static Status status(Map<String, String> environment, int runs) throws java.sql.SQLException {
        Settings unresolved = RunRequest.settings(environment);
        try (AwsClients aws = new AwsClients(unresolved.aws())) {
            Settings settings = Secrets.resolve(unresolved, aws);
            RetryQueue queue = RetryQueue.configured(settings.queues(), aws);
            try (HikariDataSource pool = Database.pool(settings.database())) {
                return Status.read(pool, queue, RetryQueue.work(settings.queues(), aws), runs);
            }
        }
    }

    /** Adds a listener to every later run's events (and retries'). */
    public Reclaim listen(RunEvents listener) {
        listeners.add(listener);
        return this;
    }

    /** Scheduled runs fan records sweeps out onto {@code workQueue} ({@code RECLAIM_WORK_QUEUE_URL}; null: never). */
    public Reclaim workQueue(RetryQueue workQueue) {
        run.workQueue(workQueue);
        return this;
    }

    /** The worker of the work queue's shards (the worker function, {@code reclaim work}). */
    public ShardWork shardWork() {
        return run.shardWork();
    }

    /** The retry queue ({@code RECLAIM_RETRY_QUEUE_URL}), or null when none is configured. */
    public RetryQueue retryQueue() {
        return retryQueue;
    }

    /** The retry dispatch a {@link RetryWorker} hands each message to; {@link Retries#retry} retries one item. */
    public Retries retries() {
        return run.retries();
    }

    /** A worker for the retry queue's messages, heard by this Reclaim's listeners (metrics per batch). */
    public RetryWorker retryWorker() {
        return new RetryWorker(run.retries(), retryQueue, RunEvents.of(listeners));
    }

    /**
     * Without a retry queue: retries up to {@code max} failures stored in {@code reclaim.failures} (each once), the
     * way a run does before its sweeps. A success leaves the table; a failure stays for the next run.
     */
    public Failures.Retried retryStoredFailures(long max) throws java.sql.SQLException {
        return run.retryStored(max);
    }

    /** Failures waiting in {@code reclaim.failures}. */
    public long storedFailures() throws java.sql.SQLException {
        try (java.sql.Connection c = dataSource.getConnection()) {
            return Database.schemaExists(c) ? failures.pending(c) : 0;
        }
    }

    /** The database pool every run and retry of this Reclaim uses. */
    public DataSource dataSource() {
        return dataSource;
    }

    public RunReport run(RunRequest request) {
        List<Sweep> selected = request.sweeps().isEmpty() ? List.copyOf(sweeps.values())
                : request.sweeps().stream().distinct().map(this::sweep).toList();
        RunReport report = run.execute(request, selected);
        if (!request.dryRun() && report.outcome() != Outcome.FAILED && report.outcome() != Outcome.SKIPPED) {
            pruneJournal();
        }
        return report;
    }

    /** The journal past its retention goes, at most 100,000 rows a run: a backlog is worked off over runs. */
    private void pruneJournal() {
        try {
            Undo.prune(dataSource, journalRetention, 10);
        } catch (SQLException e) {
            org.slf4j.LoggerFactory.getLogger(Reclaim.class).warn("could not prune the deletion journal: {}", e.getMessage());
        }
    }

    /**
     * Brings back the deletions {@code selection} names, where their store keeps versions, and protects them from
     * every later delete; says per store what was restored, already present, or not restorable and why.
     */
    public Undo.Report restore(Undo.Selection selection, boolean dryRun) throws SQLException {
        if (selection.sweep() != null) {
            sweep(selection.sweep());
        }
        for (String storeKey : selection.storeKeys() == null ? List.<String>of() : selection.storeKeys()) {
            int colon = storeKey.indexOf(':');
            if (colon < 1 || stores.get(storeKey.substring(0, colon)) == null) {
                throw new UsageException("--key " + storeKey + ": not STORE:KEY of a configured store ("
                        + String.join(", ", stores.all().keySet()) + ")");
            }
        }
        try (java.sql.Connection c = dataSource.getConnection()) {
            if (!Database.schemaExists(c)) {
                throw new UsageException("nothing to restore: Reclaim has never run against this database");
            }
        }
        Database.migrate(dataSource);
        java.util.List<String> notes = new java.util.ArrayList<>();
        if (selection.run() != null) {
            Status.LedgerRun row = Status.run(dataSource, selection.run())
                    .orElseThrow(() -> new UsageException("unknown run " + selection.run() + " (reclaim status lists the last runs)"));
            if (row.purged() > 0) {
                notes.add(row.purged() + " records or assets counted as purged by this run: rows are purged for good, by "
                        + "design; only files come back");
            }
            if (row.startedAt().isBefore(Instant.now().minus(journalRetention))) {
                notes.add("the journal keeps deletions for " + human(journalRetention) + " (RECLAIM_JOURNAL_RETENTION): "
                        + "this run's have been pruned");
            }
        }
        stores.all().forEach((name, store) -> {
            try {
                store.prepare(Instant.now().plusSeconds(60)); // asks whether the store keeps versions or backups
            } catch (RuntimeException e) {
                notes.add("store " + name + " could not be asked how it is set up: " + e.getMessage());
            }
            String why = store.notUndoable();
            if (why != null) {
                notes.add("store " + name + ": deletions cannot be undone: " + why);
            }
        });
        Undo.Report report = Undo.restore(dataSource, stores, selection, dryRun, null);
        if (report.journaled() == 0) {
            notes.add("the journal holds no deletion for this selection");
        }
        notes.addAll(report.notes());
        return new Undo.Report(report.dryRun(), report.journaled(), report.stores(), List.copyOf(notes));
    }

    /** Lifts the protection a restore put on {@code storeKeys}; returns how many were protected. */
    public int unprotect(List<String> storeKeys) throws SQLException {
        Database.migrate(dataSource);
        return Undo.unprotect(dataSource, storeKeys);
    }

    /**
     * A dry run that also writes its whole plan to {@code out} ({@link PlanWriter}): every record and key that would
     * go, every asset kept and why. No plan is written when the run failed.
     */
    public RunReport plan(RunRequest dryRun, Path out) throws IOException {
        if (!dryRun.dryRun()) {
            throw new UsageException("a plan is made by a dry run only");
        }
        PlanWriter plan = new PlanWriter(out, Release.current(), configHash);
        RunReport report;
        listeners.add(plan);
        try {
            report = run(dryRun);
        } catch (RuntimeException e) {
            plan.discard();
            throw e;
        } finally {
            listeners.remove(plan);
        }
        if (report.outcome() == Outcome.FAILED) {
            plan.discard();
        } else {
            plan.finish(report.startedAt(), report.runId());
        }
        return report;
    }

    /**
     * Deletes what {@code plan} holds and still passes every check now, and nothing else: a run over the plan's sweeps
     * that looks up each page in the plan. Refused (nothing deleted) when the plan was made under another
     * configuration, is older than {@code maxAge}, or names a sweep this configuration lacks.
     */
    public ApplyReport apply(PlanFile.Summary plan, Duration maxAge, Deadline deadline) throws SQLException, IOException {
        if (!plan.configHash().equals(configHash)) {
            throw new UsageException("plan " + plan.file() + " was made under another configuration (" + plan.configHash()
                    + "; in force now: " + configHash + "): make a new plan and review it");
        }
        Duration age = Duration.between(plan.createdAt(), Instant.now());
        if (age.compareTo(maxAge) > 0) {
            throw new UsageException("plan " + plan.file() + " was made " + human(age) + " ago, more than its maximum age "
                    + human(maxAge) + " (--max-age): make a new plan and review it");
        }
        List<String> names = plan.sweeps().stream().map(PlanFile.Sweep::name).toList();
        names.forEach(this::sweep); // a sweep no longer configured: UsageException
        ApplyReport.Tally tally = new ApplyReport.Tally();
        try (AppliedPlan scope = AppliedPlan.load(dataSource, plan)) {
            listeners.add(tally);
            try {
                RunReport report = run(new RunRequest("apply:" + plan.runId(), false, names, deadline, scope));
                return tally.report(plan, report);
            } finally {
                listeners.remove(tally);
            }
        }
    }

    /**
     * Lets the next real run of {@code sweep} past its brake once, up to {@code maxItems} deletions (null: no limit);
     * recorded in {@code reclaim.approvals}, used by the run that takes it.
     */
    public void approve(String sweep, Long maxItems) throws SQLException {
        sweep(sweep); // an unknown sweep: UsageException
        if (maxItems != null && maxItems < 1) {
            throw new UsageException("--limit must be at least 1 (got " + maxItems + ")");
        }
        Database.migrate(dataSource);
        try (java.sql.Connection c = dataSource.getConnection()) {
            BrakeHistory.approve(c, sweep, maxItems);
        }
    }

    private static String human(Duration d) {
        return d.toDays() > 0 ? d.toDays() + "d " + d.toHoursPart() + "h" : d.toHours() + "h " + d.toMinutesPart() + "m";
    }

    private Sweep sweep(String name) {
        Sweep s = sweeps.get(name);
        if (s == null) {
            throw new UsageException("unknown sweep '" + name + "' (configured in " + config.source() + ": "
                    + String.join(", ", sweeps.keySet()) + ")");
        }
        return s;
    }

    private static Map<String, Sweep> sweeps(ReclaimConfig config) {
        Map<String, Sweep> out = new LinkedHashMap<>();
        config.sweeps().values().forEach(sc -> out.put(sc.name(), sc instanceof SweepConfig.Records r
                ? new RecordSweep(r) : new AssetSweep((SweepConfig.Assets) sc)));
        return out;
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // shutting down
            }
        }
    }
}
