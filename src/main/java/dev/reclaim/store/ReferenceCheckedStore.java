package dev.reclaim.store;

import dev.reclaim.db.SqlTemplate;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A store whose every delete call is preceded by its {@code referenced} query: of the keys about to go, those some row
 * of the application still holds are kept (never sent to the store's API). This is the last check before a file
 * leaves, whichever path sent it (an assets sweep, an outbox drain, a retry), so a step that collected a shared file
 * or a sweep query that checks the wrong column cannot delete a file still in use.
 */
public final class ReferenceCheckedStore implements Store {
    private final Store store;
    private final SqlTemplate referenced;
    private final DataSource dataSource;

    public ReferenceCheckedStore(Store store, SqlTemplate referenced, DataSource dataSource) {
        this.store = store;
        this.referenced = referenced;
        this.dataSource = dataSource;
    }

    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        Set<String> inUse = inUse(keys, deadline);
        if (inUse.isEmpty()) {
            return store.delete(keys, deadline);
        }
        List<String> free = new ArrayList<>(keys.size());
        List<String> kept = new ArrayList<>(inUse.size());
        for (String k : keys) {
            (inUse.contains(k) ? kept : free).add(k);
        }
        BatchResult result = free.isEmpty() ? new BatchResult(List.of(), Map.of()) : store.delete(free, deadline);
        return new BatchResult(result.deleted(), result.failed(), kept);
    }

    @Override
    public Set<String> inUse(List<String> keys, Instant deadline) {
        if (keys.isEmpty()) {
            return Set.of();
        }
        Set<String> asked = new HashSet<>(keys);
        Set<String> out = new LinkedHashSet<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(referenced.jdbcSql())) {
            if (deadline != null) {
                long left = Duration.between(Instant.now(), deadline).toSeconds();
                if (left <= 0) {
                    throw new StoreDeadlinePassed("the run's deadline passed before the reference check of store " + name());
                }
                ps.setQueryTimeout((int) Math.min(Integer.MAX_VALUE, left));
            }
            java.sql.Array array = c.createArrayOf("text", keys.toArray());
            for (int i = 1; i <= referenced.parameters().size(); i++) {
                ps.setArray(i, array);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String v = rs.getString(1);
                    if (v == null || !asked.contains(v)) {
                        throw new ReferenceCheckFailed("the reference query of store " + name(), String.valueOf(v));
                    }
                    out.add(v);
                }
            }
        } catch (SQLException e) {
            // Without an answer nothing may go: the whole call fails and its keys are kept for a later attempt.
            throw new IllegalStateException("the reference query of store " + name() + " failed: " + e.getMessage(), e);
        }
        return out;
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
    public int maxListPage() {
        return store.maxListPage();
    }

    @Override
    public Listing list(String prefix, String cursor, Instant deadline) {
        return store.list(prefix, cursor, deadline);
    }

    @Override
    public long apiCalls() {
        return store.apiCalls();
    }

    /** For messages: the checked store's own kind. */
    @Override
    public String toString() {
        return "reference-checked " + store;
    }

    static Map<String, Store> wrap(Map<String, Store> stores, Map<String, SqlTemplate> queries, DataSource ds) {
        Map<String, Store> out = new LinkedHashMap<>();
        stores.forEach((name, s) -> {
            SqlTemplate q = queries.get(name);
            out.put(name, q == null || s instanceof ReferenceCheckedStore ? s : new ReferenceCheckedStore(s, q, ds));
        });
        return out;
    }
}
