package dev.reclaim.outbox;

import dev.reclaim.failure.Failure;
import dev.reclaim.failure.Failures;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.db.ReferenceCheckFailed;
import dev.reclaim.store.StoreDeadlinePassed;
import dev.reclaim.store.Store;
import dev.reclaim.store.StoreThrottled;
import dev.reclaim.store.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The durable outbox of file deletions ({@code reclaim.pending_deletions}). Keys are added in the same transaction
 * that deletes their rows, so they exist exactly when the rows are gone; a drain deletes them from their stores in
 * batches and removes a key only once its store confirmed it, or once the store's reference check found another row
 * still holding it (kept, never deleted). A key that failed stays, with attempts + 1 and its next attempt pushed back
 * (exponential backoff, never twice in one run). With a retry queue it is handed over once its failures have spanned
 * the retry period; without one it stays until its store confirms the delete.
 */
public final class Outbox {
    private static final Logger log = LoggerFactory.getLogger(Outbox.class);

    /**
     * How failed keys are retried: the first delay (doubling per attempt, at most {@code maxBackoff}) and how long a
     * key's failures must have lasted before it leaves for the retry queue (only when one is configured).
     */
    public record Policy(Duration backoff, Duration maxBackoff, Duration retryPeriod) {
        public static final Policy DEFAULT = new Policy(Duration.ofMinutes(15), Duration.ofHours(12), Duration.ofHours(24));

        /** The wait before the next attempt at a key that has now failed after {@code attempts} earlier ones. */
        public Duration delayAfter(int attempts) {
            Duration delay = backoff.multipliedBy(1L << Math.min(attempts, 30));
            return delay.isNegative() || delay.compareTo(maxBackoff) > 0 ? maxBackoff : delay;
        }
    }

    private final Stores stores;
    private final Failures failures;
    private final Policy policy;

    public Outbox(Stores stores, Failures failures, Policy policy) {
        this.stores = stores;
        this.failures = failures;
        this.policy = policy;
    }

    /**
     * Records the keys an item's rows owned and commits the item's transaction ({@code c}, not in auto-commit), both in
     * one round trip: the INSERT and the COMMIT go to the server together, so the keys exist exactly when the rows are
     * gone. When either fails, nothing of the item is committed and the error is thrown (the caller rolls back).
     */
    public void addAndCommit(Connection c, String sweep, String itemId, UUID runId,
                             Map<String, List<String>> keysByStore) throws SQLException {
        List<String> storeCol = new ArrayList<>();
        List<String> keyCol = new ArrayList<>();
        // Each key once: one statement may not update one row twice.
        keysByStore.forEach((store, keys) -> new LinkedHashSet<>(keys).forEach(k -> {
            storeCol.add(store);
            keyCol.add(k);
        }));
        if (keyCol.isEmpty()) {
            c.commit();
            return;
        }
        // Two statements, one Sync: the server skips the COMMIT if the INSERT fails; the driver then knows the
        // transaction ended, and the caller's commit() has nothing left to do. A key already pending is taken over
        // (DO UPDATE, not DO NOTHING): if a drain holds its row, having found this item's row still holding the key,
        // and is about to remove it as kept, the INSERT waits for that drain and then adds the key anew.
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.pending_deletions (store, key, sweep, item_id, run_id)
                SELECT s, k, ?, ?, ? FROM unnest(?::text[], ?::text[]) AS t(s, k)
                ON CONFLICT (store, key) DO UPDATE
                   SET sweep = EXCLUDED.sweep, item_id = EXCLUDED.item_id, run_id = EXCLUDED.run_id;
                COMMIT""")) {
            ps.setString(1, sweep);
            ps.setString(2, itemId);
            ps.setObject(3, runId);
            ps.setArray(4, c.createArrayOf("text", storeCol.toArray()));
            ps.setArray(5, c.createArrayOf("text", keyCol.toArray()));
            ps.execute();
        }
        c.commit();
    }

    /**
     * One pass over every key due now (this run's and any an earlier run left), store by store, in batches at the
     * store's limit, until {@code deadline} (null: none). {@code c} must be in auto-commit mode.
     */
    public void drain(Connection c, DrainState state, UUID runId, RunEvents events, Instant deadline)
            throws SQLException {
        long upTo = lastId(c);
        // The first drain of a run looks for every store with keys (a store removed from the configuration is
        // reported); later drains only visit configured stores, without scanning the table.
        List<String> storeNames = state.firstDrain() ? storesWithPending(c, upTo) : new ArrayList<>(stores.all().keySet());
        for (String storeName : storeNames) {
            if (state.stopped(storeName)) {
                continue;
            }
            GuardedStore store = stores.get(storeName);
            DrainState.Cursor cursor = state.cursor(storeName);
            try {
                while (true) {
                    if (deadline != null && !Instant.now().isBefore(deadline)) {
                        log.info("outbox drain stopped: the run's deadline passed; the next run carries on");
                        return;
                    }
                    // A batch is read and settled in one transaction: its rows stay locked, so concurrent drains
                    // (workers, the retry function) skip them, and a drain that dies leaves them to the next.
                    c.setAutoCommit(false);
                    try {
                        keyedLookupsOnly(c);
                        List<PendingDeletion> batch = nextBatch(c, storeName, cursor.after(), upTo,
                                store == null ? 1000 : store.maxBatch(), runId, state.runOnly());
                        if (batch.isEmpty()) {
                            c.commit();
                            break;
                        }
                        cursor.read(batch.get(0).id(), batch.get(batch.size() - 1).id());
                        if (store == null) {
                            String reason = "store '" + storeName + "' is not configured";
                            emitFailed(events, storeName, batch, k -> reason, "StoreNotConfigured");
                            markFailed(c, batch, k -> reason, runId);
                        } else {
                            deleteBatch(c, store, batch, events, runId, deadline);
                        }
                        if (!c.getAutoCommit()) {
                            c.commit();
                        }
                        cursor.tried();
                    } catch (StoreThrottled e) {
                        rollback(c, e);
                        // The store's quota is spent for now: its keys wait for the next drain, no attempt counted.
                        log.warn("outbox drain of store {} paused: {}; quota resets at {}", storeName, e.getMessage(), e.resetsAt());
                        break;
                    } catch (StoreDeadlinePassed e) {
                        rollback(c, e);
                        log.info("outbox drain stopped: {}; the next run carries on", e.getMessage());
                        return;
                    } catch (ReferenceCheckFailed e) {
                        rollback(c, e);
                        // Nothing more goes to this store in this run: its keys stay, untouched, for a fixed query.
                        log.error("outbox drain of store {} stopped for this run: {}", storeName, e.getMessage());
                        state.stop(storeName);
                        events.emit(new RunEvent.DrainStopped(storeName, "store " + storeName + ": " + e.getMessage()));
                        break;
                    } catch (SQLException | RuntimeException | Error e) {
                        rollback(c, e);
                        throw e;
                    } finally {
                        c.setAutoCommit(true);
                    }
                }
            } finally {
                state.save(storeName, cursor);
            }
        }
    }

    /**
     * Which of the {@code listed} keys of {@code store} (key: when the listed object was made) an assets sweep must
     * leave alone, and why: {@code pendingInOutbox}, the drain deletes and counts it; {@code deletedMeanwhile}, a drain
     * or retry elsewhere deleted that very object after it was listed (journaled since it was made, not restored).
     * Deleting either again would count one object twice: S3 answers a delete of a gone key as deleted.
     */
    public static Map<String, String> leftToOthers(Connection c, String store, Map<String, Instant> listed)
            throws SQLException {
        Map<String, String> out = new HashMap<>();
        if (listed.isEmpty()) {
            return out;
        }
        List<String> keys = new ArrayList<>(listed.keySet());
        List<Timestamp> made = keys.stream().map(k -> Timestamp.from(listed.get(k))).toList();
        // One lookup by (store, key) per key in each table: a plan that reads a table would read every page it filled.
        // A drain journals a key before its outbox row goes, so a key no longer pending is journaled by then.
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT t.k, p.k IS NOT NULL FROM unnest(?::text[], ?::timestamptz[]) AS t(k, made)
                LEFT JOIN LATERAL (SELECT p.key AS k FROM reclaim.pending_deletions p
                                    WHERE p.store = ? AND p.key = t.k LIMIT 1) p ON true
                LEFT JOIN LATERAL (SELECT d.key AS k FROM reclaim.deleted_keys d
                                    WHERE d.store = ? AND d.key = t.k AND d.deleted_at >= t.made
                                      AND d.restored_at IS NULL LIMIT 1) d ON true
                WHERE p.k IS NOT NULL OR d.k IS NOT NULL""")) {
            ps.setArray(1, c.createArrayOf("text", keys.toArray()));
            ps.setArray(2, c.createArrayOf("timestamptz", made.toArray()));
            ps.setString(3, store);
            ps.setString(4, store);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getBoolean(2) ? "pendingInOutbox" : "deletedMeanwhile");
                }
            }
        }
        return out;
    }

    /** Keys pending per store, for reports and dry runs. */
    public Map<String, Long> pending(Connection c) throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT store, count(*) FROM reclaim.pending_deletions GROUP BY store");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** How long the oldest pending key has waited (by the database's clock), or null when none is pending. */
    public Duration oldestPendingAge(Connection c) throws SQLException {
        // ids follow creation, so the primary key finds the oldest without a scan
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT extract(epoch FROM now() - created_at)
                  FROM reclaim.pending_deletions ORDER BY id LIMIT 1""");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Duration.ofMillis(Math.max(0, Math.round(rs.getDouble(1) * 1000))) : null;
        }
    }

    /**
     * What waits in the outbox, per store (for {@code reclaim status}): keys, the oldest one's creation, the earliest
     * next attempt (null: some key is due now), and the {@code errors} most frequent last errors, most frequent first.
     */
    public record StoreBacklog(String store, long keys, Instant oldest, Instant nextAttempt, long failing,
                               List<ErrorCount> topErrors) {
    }

    /** How many pending keys last failed with {@code error}. */
    public record ErrorCount(String error, long keys) {
    }

    /** The outbox per store, read only. */
    public static List<StoreBacklog> backlog(Connection c, int errors) throws SQLException {
        Map<String, List<ErrorCount>> topErrors = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT store, last_error, n FROM (
                  SELECT store, last_error, count(*) AS n,
                         row_number() OVER (PARTITION BY store ORDER BY count(*) DESC, last_error) AS rank
                    FROM reclaim.pending_deletions WHERE last_error IS NOT NULL GROUP BY store, last_error) e
                 WHERE rank <= ? ORDER BY store, rank""")) {
            ps.setInt(1, errors);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    topErrors.computeIfAbsent(rs.getString(1), s -> new ArrayList<>())
                            .add(new ErrorCount(rs.getString(2), rs.getLong(3)));
                }
            }
        }
        List<StoreBacklog> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT store, count(*), min(created_at),
                       CASE WHEN bool_or(next_attempt_at IS NULL) THEN NULL ELSE min(next_attempt_at) END,
                       count(*) FILTER (WHERE attempts > 0)
                  FROM reclaim.pending_deletions GROUP BY store ORDER BY store""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Timestamp next = rs.getTimestamp(4);
                out.add(new StoreBacklog(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant(),
                        next == null ? null : next.toInstant(), rs.getLong(5),
                        topErrors.getOrDefault(rs.getString(1), List.of())));
            }
        }
        return out;
    }

    /** Deletes one batch: every key is deleted, kept as still referenced, refused, or marked failed. */
    private void deleteBatch(Connection c, GuardedStore store, List<PendingDeletion> batch, RunEvents events, UUID runId,
                             Instant deadline) throws SQLException {
        Map<String, PendingDeletion> byKey = new LinkedHashMap<>();
        batch.forEach(p -> byKey.put(p.key(), p));
        long callsBefore = store.apiCalls();
        GuardedStore.Call call;
        try {
            call = store.deleteBatch(new ArrayList<>(byKey.keySet()), Map.of(), deadline);
        } finally {
            store.reportCalls(events, null, callsBefore);
        }
        BatchResult result = call.result();
        List<PendingDeletion> refused = rows(result.refused(), byKey);
        if (!refused.isEmpty()) { // the store's guard: such a key stays, failing, where an operator sees it
            keysBySweep(refused).forEach((sweep, keys) -> events.emit(
                    new RunEvent.KeysRefused(sweep, store.name(), keys, RunEvent.Source.OUTBOX)));
            markFailed(c, refused, k -> "refused: outside the store's allowed prefixes", runId);
        }
        List<PendingDeletion> deleted = rows(result.deleted(), byKey);
        List<PendingDeletion> kept = rows(result.kept(), byKey);
        remove(c, Stream.concat(deleted.stream(), kept.stream()).map(PendingDeletion::id).toList());
        List<PendingDeletion> failed = rows(result.failed().keySet(), byKey);
        keysBySweep(deleted).forEach((sweep, keys) -> events.emit(
                new RunEvent.KeysDeleted(sweep, store.name(), keys, 0, RunEvent.Source.OUTBOX)));
        keysBySweep(kept).forEach((sweep, keys) -> events.emit(
                new RunEvent.KeysKept(sweep, store.name(), keys, RunEvent.Source.OUTBOX)));
        emitFailed(events, store.name(), failed, result.failed()::get, call.errorClass());
        Map<String, String> reasons = result.failed();
        List<Long> due = markFailed(c, failed, k -> reasons.getOrDefault(k, "failed"), runId);
        if (!due.isEmpty() && failures.queueConfigured()) {
            Set<Long> dueIds = new HashSet<>(due);
            handOver(c, store.name(), failed.stream().filter(p -> dueIds.contains(p.id())).toList(), reasons,
                    runId, events);
        }
    }

    /** The rows of {@code keys} (those of this batch), in the order of {@code keys}. */
    private static List<PendingDeletion> rows(Collection<String> keys, Map<String, PendingDeletion> byKey) {
        return keys.stream().map(byKey::get).filter(Objects::nonNull).toList();
    }

    private static Map<String, List<String>> keysBySweep(List<PendingDeletion> rows) {
        return rows.stream().collect(Collectors.groupingBy(PendingDeletion::sweep, TreeMap::new,
                Collectors.mapping(PendingDeletion::key, Collectors.toList())));
    }

    private static void emitFailed(RunEvents events, String store, List<PendingDeletion> rows,
                                   Function<String, String> why, String errorClass) {
        Map<String, Map<String, String>> bySweep = new TreeMap<>();
        rows.forEach(p -> bySweep.computeIfAbsent(p.sweep(), s -> new LinkedHashMap<>())
                .put(p.key(), why.apply(p.key())));
        bySweep.forEach((sweep, reasons) -> events.emit(
                new RunEvent.KeysFailed(sweep, store, reasons, errorClass, RunEvent.Source.OUTBOX)));
    }

    /**
     * Keys whose failures have spanned the retry period leave the outbox for the retry queue, in one transaction: one
     * failure per sweep and store batch, recorded in {@code reclaim.failures} before the outbox rows go.
     */
    private void handOver(Connection c, String store, List<PendingDeletion> exhausted, Map<String, String> reasons,
                          UUID runId, RunEvents events) throws SQLException {
        Map<String, List<String>> bySweep = keysBySweep(exhausted);
        c.setAutoCommit(false);
        try {
            for (Map.Entry<String, List<String>> e : bySweep.entrySet()) {
                List<String> keys = e.getValue();
                String why = reasons.getOrDefault(keys.get(0), "failed");
                failures.record(c, Failure.keys(Failure.DELETION, e.getKey(), store, keys, "OutboxDeleteFailed",
                        why + " (failing for " + policy.retryPeriod() + " or more)", runId.toString(), Instant.now()));
            }
            remove(c, exhausted.stream().map(PendingDeletion::id).toList());
            c.commit();
            bySweep.keySet().forEach(s -> events.emit(new RunEvent.FailureRecorded(s, Failure.DELETION)));
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void remove(Connection c, List<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM reclaim.pending_deletions WHERE id = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            ps.executeUpdate();
        }
    }

    /**
     * Counts an attempt on each row and pushes its next one back (the first delay doubling per attempt, capped);
     * returns the ids whose failures have now lasted the retry period.
     */
    private List<Long> markFailed(Connection c, List<PendingDeletion> rows, Function<String, String> why, UUID runId)
            throws SQLException {
        if (rows.isEmpty()) {
            return List.of();
        }
        List<Long> ids = rows.stream().map(PendingDeletion::id).toList();
        List<String> errors = rows.stream().map(p -> truncate(why.apply(p.key()))).toList();
        List<Long> delays = rows.stream().map(p -> policy.delayAfter(p.attempts()).toMillis()).toList();
        List<Long> due = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                UPDATE reclaim.pending_deletions p
                SET attempts = p.attempts + 1, last_error = f.err, last_attempt_at = now(), last_run_id = ?,
                    first_failed_at = coalesce(p.first_failed_at, now()),
                    next_attempt_at = now() + f.delay * interval '1 millisecond'
                FROM unnest(?::bigint[], ?::text[], ?::bigint[]) AS f(id, err, delay)
                WHERE p.id = f.id
                RETURNING p.id, p.first_failed_at <= now() - ? * interval '1 millisecond'""")) {
            ps.setObject(1, runId);
            ps.setArray(2, c.createArrayOf("bigint", ids.toArray()));
            ps.setArray(3, c.createArrayOf("text", errors.toArray()));
            ps.setArray(4, c.createArrayOf("bigint", delays.toArray()));
            ps.setDouble(5, policy.retryPeriod().toMillis());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(2)) {
                        due.add(rs.getLong(1));
                    }
                }
            }
        }
        return due;
    }

    /** The newest id ever handed out: O(1), unlike max(id) over an index full of deleted entries. */
    private static long lastId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT last_value FROM reclaim.pending_deletions_id_seq");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> storesWithPending(Connection c, long upTo) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT DISTINCT store FROM reclaim.pending_deletions WHERE id <= ? ORDER BY store")) {
            ps.setLong(1, upTo);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * The next keys of a store that are due (never tried, or their backoff passed and not tried by this run), locked
     * for the caller's transaction; rows another drain holds are skipped, so each key goes to its store once.
     */
    private static List<PendingDeletion> nextBatch(Connection c, String store, long after, long upTo, int limit,
                                                   UUID runId, boolean runOnly) throws SQLException {
        List<PendingDeletion> out = new ArrayList<>(Math.min(limit, 1000));
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, store, key, sweep, item_id, attempts FROM reclaim.pending_deletions
                WHERE store = ? AND id > ? AND id <= ?
                  AND (next_attempt_at IS NULL OR next_attempt_at <= now()) AND last_run_id IS DISTINCT FROM ?
                  AND (NOT ? OR run_id = ?)
                ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED""")) {
            ps.setString(1, store);
            ps.setLong(2, after);
            ps.setLong(3, upTo);
            ps.setObject(4, runId);
            ps.setBoolean(5, runOnly);
            ps.setObject(6, runId);
            ps.setInt(7, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new PendingDeletion(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getInt(6)));
                }
            }
        }
        return out;
    }

    /**
     * For the rest of {@code c}'s transaction, the outbox is read by its indexes: once it has held a large backlog, its
     * heap keeps that size while it holds few rows, and the planner, costing pages as reads from disk, would read all
     * of it for every batch. Every statement of a batch looks rows up by store and id or key.
     */
    private static void keyedLookupsOnly(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL enable_seqscan = off");
        }
    }

    /** Undoes the batch's transaction: its rows are as they were, for the next drain. */
    private static void rollback(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    private static String truncate(String s) {
        return s.length() <= 1000 ? s : s.substring(0, 1000);
    }
}
