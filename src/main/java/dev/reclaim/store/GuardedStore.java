package dev.reclaim.store;

import dev.reclaim.config.SqlTemplate;
import dev.reclaim.db.ReferenceCheckFailed;
import dev.reclaim.db.ReferenceQuery;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The one way to a store's API, and what every caller deletes through: each delete call passes the prefix guard (a
 * key outside the store's allowed prefixes is refused, never sent), then the reference checks (keys an operator
 * restored, {@code reclaim.protected_keys}, and keys the store's {@code referenced} query finds still held by a row
 * of the application are kept), then goes to the store's API in one call (split by {@link Bisection} when the API
 * refuses it as malformed), and what the store confirms deleted is journaled in {@code reclaim.deleted_keys} with the
 * delete marker a versioned bucket made. {@link Stores} hands out no store but behind it, whichever path deletes (an
 * assets sweep, an outbox drain, a retry); batching, reading a call's result and retrying a failure's keys are here
 * too, the same for every path.
 */
public final class GuardedStore implements Store {
    private static final Logger log = LoggerFactory.getLogger(GuardedStore.class);

    private final Store store;
    /** Null when the store declares no query: the protection check and the journal still apply. */
    private final ReferenceQuery referenced;
    /**
     * Null before {@link Stores#referenceChecked} gave the database: the guard applies, and a store built from the
     * configuration deletes nothing.
     */
    private final DataSource dataSource;
    private final boolean needsDatabase;
    private final InFlightCalls inFlight = new InFlightCalls();

    GuardedStore(Store store, SqlTemplate referenced, DataSource dataSource) {
        this(store, referenced, dataSource, false);
    }

    /** {@code needsDatabase}: a store's real API, which deletes nothing until it is given the database. */
    GuardedStore(Store store, SqlTemplate referenced, DataSource dataSource, boolean needsDatabase) {
        this.store = store instanceof GuardedStore g ? g.store : store;
        this.referenced = referenced == null ? null : new ReferenceQuery("store " + store.name(), referenced);
        this.dataSource = dataSource;
        this.needsDatabase = needsDatabase || store instanceof GuardedStore g && g.needsDatabase;
    }

    /** The store's API behind the guard, for this package's own tests. */
    Store api() {
        return store;
    }

    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        return delete(keys, Map.of(), deadline);
    }

    @Override
    public BatchResult delete(List<String> keys, Map<String, StoredAsset> listed, Instant deadline) {
        List<String> refused = new ArrayList<>();
        List<String> allowed = new ArrayList<>(keys.size());
        for (String k : keys) {
            // A listed asset is judged on its path (in Cloudinary's dynamic folders not its key); any other on its key.
            StoredAsset asset = listed.get(k);
            (guard().allows(asset == null ? k : asset.path()) ? allowed : refused).add(k);
        }
        if (dataSource == null) {
            if (referenced != null) { // a reference query never answered must not let anything go
                throw new IllegalStateException("store " + name() + " was not given the database its reference query needs");
            }
            if (needsDatabase) { // nor may a key go unchecked against the restored ones, or unjournaled
                throw new IllegalStateException("store " + name() + " was not given the database its protected keys and journal need");
            }
            return (allowed.isEmpty() ? new BatchResult(List.of(), Map.of()) : call(allowed, deadline)).refusing(refused);
        }
        Set<String> inUse = allowed.isEmpty() ? Set.of() : inUse(allowed, deadline);
        List<String> free = new ArrayList<>(allowed.size());
        List<String> kept = new ArrayList<>(inUse.size());
        for (String k : allowed) {
            (inUse.contains(k) ? kept : free).add(k);
        }
        BatchResult result;
        try {
            result = free.isEmpty() ? new BatchResult(List.of(), Map.of()) : call(free, deadline);
        } catch (BatchCutShort e) {
            journal(e.settled().deleted(), e.settled().versions(), listed);
            throw e;
        }
        journal(result.deleted(), result.versions(), listed);
        return new BatchResult(result.deleted(), result.failed(), kept, result.versions(), refused);
    }

    /** One call to the store's API, split until only the keys it refuses alone fail ({@link Bisection}). */
    private BatchResult call(List<String> keys, Instant deadline) {
        return Bisection.delete(keys, store.maxRefusedKeys(), part -> inFlight.call(() -> store.delete(part, deadline)));
    }

    /**
     * From {@code at} on, a call of this store still waiting for its answer is cut ({@link StoreDeadlinePassed}) and no
     * new one is made: a stop's grace end, which no call made before the stop knew of. Null lifts it.
     */
    public void cutCallsAt(Instant at) {
        inFlight.cutAt(at);
    }

    @Override
    public Set<String> inUse(List<String> keys, Instant deadline) {
        if (dataSource == null) {
            return Set.of();
        }
        int timeout = 0;
        if (deadline != null) {
            long left = Duration.between(Instant.now(), deadline).toSeconds();
            if (left <= 0) {
                throw new StoreDeadlinePassed("the run's deadline passed before the reference check of store " + name());
            }
            timeout = (int) Math.min(Integer.MAX_VALUE, left);
        }
        try (Connection c = dataSource.getConnection()) {
            Set<String> held = new HashSet<>(protectedKeys(c, keys));
            if (referenced != null) {
                held.addAll(referenced.stillReferenced(c, keys, null, timeout));
            }
            return held;
        } catch (SQLException e) {
            // Without an answer nothing may go: the whole call fails and its keys are kept for a later attempt.
            throw new IllegalStateException("the reference query of store " + name() + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String notUndoable() {
        return store.notUndoable();
    }

    @Override
    public Restored restore(List<String> keys, Map<String, String> versions, Instant deadline) {
        return inFlight.call(() -> store.restore(keys, versions, deadline));
    }

    @Override
    public String name() {
        return store.name();
    }

    @Override
    public int maxBatch() {
        return store.maxBatch();
    }

    @Override
    public PrefixGuard guard() {
        return store.guard();
    }

    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        return inFlight.call(() -> store.list(prefix, createdBefore, cursor, deadline));
    }

    @Override
    public Map<String, StoredAsset> lookUp(List<String> keys, Instant deadline) {
        return inFlight.call(() -> store.lookUp(keys, deadline));
    }

    @Override
    public Folders folders(String prefix, String token, Instant deadline) {
        return inFlight.call(() -> store.folders(prefix, token, deadline));
    }

    @Override
    public String listingScope() {
        return store.listingScope();
    }

    @Override
    public long apiCalls() {
        return store.apiCalls();
    }

    @Override
    public RunEvent.QuotaSeen quotaSeen() {
        return store.quotaSeen();
    }

    @Override
    public void prepare(Instant deadline) {
        inFlight.call(() -> {
            store.prepare(deadline);
            return null;
        });
    }

    @Override
    public boolean keysArePaths() {
        return store.keysArePaths();
    }

    @Override
    public String folderMode() {
        return store.folderMode();
    }

    /** For messages: the checked store's own kind. */
    @Override
    public String toString() {
        return "guarded " + store;
    }

    /**
     * One call's result and the error class its failed keys report: {@code PerKeyError}, or for a call that failed
     * whole the class of its exception (or of that exception's cause), every key failed with its message.
     */
    public record Call(BatchResult result, String errorClass) {
    }

    /** {@code items} in consecutive views of at most the store's {@link Store#maxBatch()}. */
    public <T> List<List<T>> batches(List<T> items) {
        List<List<T>> out = new ArrayList<>();
        for (int from = 0; from < items.size(); from += maxBatch()) {
            out.add(items.subList(from, Math.min(items.size(), from + maxBatch())));
        }
        return out;
    }

    /**
     * Deletes one batch, with what a listing said of each key ({@code listed}: its path for the guard, its bytes for
     * the journal); quota, deadline and reference check failures propagate, as they stop the caller.
     */
    public Call deleteBatch(List<String> batch, Map<String, StoredAsset> listed, Instant deadline) {
        try {
            return new Call(delete(batch, listed, deadline), "PerKeyError");
        } catch (StoreThrottled | StoreDeadlinePassed | ReferenceCheckFailed e) {
            throw e;
        } catch (RuntimeException e) {
            return new Call(BatchResult.allFailed(batch, e.getClass().getSimpleName() + ": " + e.getMessage()),
                    (e.getCause() != null ? e.getCause() : e).getClass().getName());
        }
    }

    /** The calls the store made since it had made {@code callsBefore}, and the quota it last saw. */
    public void reportCalls(RunEvents events, String sweep, long callsBefore) {
        events.emit(new RunEvent.ApiCalls(sweep, name(), apiCalls() - callsBefore));
        RunEvent.QuotaSeen quota = quotaSeen();
        if (quota != null) {
            events.emit(quota);
        }
    }

    /** A failure's keys that the store would refuse: retrying them can never succeed. */
    public static final class OutsidePrefixes extends RuntimeException {
        OutsidePrefixes(String message) {
            super(message);
        }
    }

    /**
     * Deletes keys of a failure once more, stopping at the first batch with failed keys: null when every key was
     * deleted (or kept as still in use), else why they failed again. A failed reference check is such a reason; a
     * call that failed whole throws, and so does a key outside the store's prefixes ({@link OutsidePrefixes}, before
     * any call). A dry run only checks the prefixes. What is deleted is told to {@code events} as {@code sweep}'s, from
     * the failure pipeline ({@link RunEvent.Source#OUTBOX}): a run that retries failures counts them in its report.
     */
    public String again(List<String> keys, Instant deadline, boolean dryRun, RunEvents events, String sweep) {
        for (String k : keys) {
            if (!guard().allows(k)) {
                throw new OutsidePrefixes("key " + k + " is outside the allowed prefixes of store " + name());
            }
        }
        if (dryRun) {
            return null;
        }
        try {
            for (List<String> batch : batches(keys)) {
                BatchResult r = delete(batch, deadline);
                if (!r.deleted().isEmpty()) {
                    events.emit(new RunEvent.KeysDeleted(sweep, name(), r.deleted(), 0, RunEvent.Source.OUTBOX));
                }
                if (!r.failed().isEmpty()) {
                    return r.failed().size() + " of " + keys.size() + " keys failed again: "
                            + r.failed().values().iterator().next();
                }
            }
        } catch (ReferenceCheckFailed e) {
            return e.getMessage();
        }
        return null;
    }

    /**
     * Writes to {@code reclaim.deleted_keys} what a delete call confirmed, one multi-row insert, with the run, sweep and
     * item it was made for (the run's log context names the run and sweep; an outbox key's item and sweep come from
     * its pending row, still there while the call is settled) and the version id of an S3 delete marker. A journal
     * that cannot be written never turns a confirmed delete into a failure (the file is gone either way): it is
     * logged, and that batch cannot be restored by the journal.
     */
    private void journal(List<String> deleted, Map<String, String> versions, Map<String, StoredAsset> listed) {
        if (deleted.isEmpty()) {
            return;
        }
        String store = name();
        List<String> versionIds = new ArrayList<>(deleted.size());
        List<Long> bytes = new ArrayList<>(deleted.size());
        deleted.forEach(k -> {
            versionIds.add(versions.get(k));
            StoredAsset asset = listed.get(k);
            bytes.add(asset == null ? null : asset.bytes());
        });
        String run = MDC.get("runId");
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.deleted_keys (run_id, sweep, item_id, store, key, version_id, bytes)
                SELECT ?::uuid, coalesce(?, p.sweep), coalesce(?, p.item_id), ?, t.k, t.v, t.b
                FROM unnest(?::text[], ?::text[], ?::bigint[]) AS t(k, v, b)
                LEFT JOIN LATERAL (SELECT sweep, item_id FROM reclaim.pending_deletions p
                                    WHERE p.store = ? AND p.key = t.k LIMIT 1) p ON true""")) {
            ps.setString(1, run == null ? null : UUID.fromString(run).toString());
            ps.setString(2, MDC.get("sweep"));
            ps.setString(3, MDC.get("item"));
            ps.setString(4, store);
            ps.setArray(5, c.createArrayOf("text", deleted.toArray()));
            ps.setArray(6, c.createArrayOf("text", versionIds.toArray()));
            ps.setArray(7, c.createArrayOf("bigint", bytes.toArray()));
            ps.setString(8, store);
            ps.executeUpdate();
        } catch (SQLException | IllegalArgumentException e) {
            log.error("could not journal {} keys deleted from store {} (they cannot be restored through the journal): {}",
                    deleted.size(), store, e.getMessage());
        }
    }

    /** Of {@code keys}, those an operator restored and protected ({@code reclaim unprotect} lifts it). */
    private List<String> protectedKeys(Connection c, List<String> keys) throws SQLException {
        String store = name();
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT key FROM reclaim.protected_keys WHERE store = ? AND key = ANY(?::text[])")) {
            ps.setString(1, store);
            ps.setArray(2, c.createArrayOf("text", keys.toArray()));
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) { // no such table: a schema before the journal, nothing protected
                throw e;
            }
        }
        return out;
    }

    /**
     * The time a store's API call may take, what is left before {@code deadline} (null when there is none); throws
     * {@link StoreDeadlinePassed} when none is left, so the call is not made.
     */
    static Duration timeLeft(Clock clock, Instant deadline, String call) {
        if (deadline == null) {
            return null;
        }
        Duration left = Duration.between(clock.instant(), deadline);
        if (left.compareTo(Duration.ofMillis(1)) < 0) {
            throw new StoreDeadlinePassed(call + " not made: the run's deadline (" + deadline + ") has passed");
        }
        return left;
    }

    /**
     * Deletes a batch through one store call and, when the store refuses the whole request as malformed
     * ({@link BatchRefused}: one key it cannot accept, such as one holding a control character), splits it in halves,
     * recursively, until each refused key stands alone: only those keys fail, each with its own error; the others are
     * deleted. One bad key among n costs about 2·log2(n) extra calls (every call counts in the store's
     * {@code apiCalls()}).
     *
     * <p>Bounded: once {@code maxRefusedKeys} keys of one batch were refused alone, the store is refusing more than odd
     * keys (a refusal that has nothing to do with the keys), and a further refused part fails whole with its error, as
     * an unsplit batch would. The deadline stops the splitting: {@link StoreDeadlinePassed} when nothing was settled yet,
     * else {@link BatchCutShort} with what was.
     */
    static final class Bisection {

        /** One store call deleting {@code keys}; throws {@link BatchRefused} when the store refuses it as malformed. */
        interface DeleteCall {
            BatchResult delete(List<String> keys);
        }

        private final DeleteCall call;
        private final int maxRefusedKeys;
        private final List<String> deleted = new ArrayList<>();
        private final Map<String, String> failed = new LinkedHashMap<>();
        private final Map<String, String> versions = new LinkedHashMap<>();
        private int refusedAlone;

        private Bisection(DeleteCall call, int maxRefusedKeys) {
            this.call = call;
            this.maxRefusedKeys = maxRefusedKeys;
        }

        static BatchResult delete(List<String> keys, int maxRefusedKeys, DeleteCall call) {
            Bisection b = new Bisection(call, maxRefusedKeys);
            try {
                b.settle(keys);
            } catch (StoreDeadlinePassed e) {
                if (b.deleted.isEmpty() && b.failed.isEmpty()) {
                    throw e;
                }
                throw new BatchCutShort("deadline passed while splitting a refused batch of " + keys.size() + " keys: "
                        + b.deleted.size() + " deleted, " + b.failed.size() + " failed, the rest not sent ("
                        + e.getMessage() + ")", b.result(), e);
            }
            return b.result();
        }

        private void settle(List<String> keys) {
            BatchResult r;
            try {
                r = call.delete(keys);
            } catch (BatchRefused e) {
                if (keys.size() == 1) {
                    refusedAlone++;
                    failed.put(keys.get(0), e.getMessage());
                } else if (refusedAlone >= maxRefusedKeys) {
                    String why = e.getMessage() + " (not split further: " + refusedAlone + " keys of this batch were refused already)";
                    keys.forEach(k -> failed.put(k, why));
                } else {
                    int half = keys.size() / 2;
                    settle(keys.subList(0, half));
                    settle(keys.subList(half, keys.size()));
                }
                return;
            }
            deleted.addAll(r.deleted());
            failed.putAll(r.failed());
            versions.putAll(r.versions());
        }

        private BatchResult result() {
            return new BatchResult(List.copyOf(deleted), new LinkedHashMap<>(failed), List.of(), new LinkedHashMap<>(versions));
        }
    }
}
