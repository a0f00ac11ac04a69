package dev.reclaim.store;

import dev.reclaim.db.ReferenceQuery;
import dev.reclaim.config.SqlTemplate;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one way to a store's API: every delete call passes the prefix guard (a key outside the store's allowed prefixes
 * is refused, never sent), then the reference checks (keys an operator restored, {@code reclaim.protected_keys}, and
 * keys the store's {@code referenced} query finds still held by a row of the application are kept), and what the
 * store confirms deleted is journaled in {@code reclaim.deleted_keys} with the delete marker a versioned bucket made.
 * {@link Stores} puts every store behind it, whichever path deletes (an assets sweep, an outbox drain, a retry).
 */
final class GuardedStore implements Store {
    private final Store store;
    /** Null when the store declares no query: the protection check and the journal still apply. */
    private final ReferenceQuery referenced;
    /** Null before {@link Stores#referenceChecked} gave the database: the guard applies, a reference query refuses. */
    private final DataSource dataSource;

    GuardedStore(Store store, SqlTemplate referenced, DataSource dataSource) {
        this.store = store instanceof GuardedStore g ? g.store : store;
        this.referenced = referenced == null ? null : new ReferenceQuery("store " + store.name(), referenced);
        this.dataSource = dataSource;
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
            BatchResult result = allowed.isEmpty() ? new BatchResult(List.of(), Map.of()) : store.delete(allowed, deadline);
            return result.refusing(refused);
        }
        Set<String> inUse = allowed.isEmpty() ? Set.of() : inUse(allowed, deadline);
        List<String> free = new ArrayList<>(allowed.size());
        List<String> kept = new ArrayList<>(inUse.size());
        for (String k : allowed) {
            (inUse.contains(k) ? kept : free).add(k);
        }
        BatchResult result;
        try {
            result = free.isEmpty() ? new BatchResult(List.of(), Map.of()) : store.delete(free, deadline);
        } catch (BatchCutShort e) {
            DeletionJournal.record(dataSource, name(), e.settled().deleted(), e.settled().versions(), listed);
            throw e;
        }
        DeletionJournal.record(dataSource, name(), result.deleted(), result.versions(), listed);
        return new BatchResult(result.deleted(), result.failed(), kept, result.versions(), refused);
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
            Set<String> held = new HashSet<>(DeletionJournal.protectedKeys(c, name(), keys));
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
        return store.restore(keys, versions, deadline);
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
        return store.list(prefix, createdBefore, cursor, deadline);
    }

    @Override
    public long apiCalls() {
        return store.apiCalls();
    }

    @Override
    public dev.reclaim.report.RunEvent.QuotaSeen quotaSeen() {
        return store.quotaSeen();
    }

    @Override
    public void prepare(Instant deadline) {
        store.prepare(deadline);
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
}
