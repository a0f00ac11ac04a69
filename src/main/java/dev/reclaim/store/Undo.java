package dev.reclaim.store;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Brings back what the deletion journal says was deleted, where the store keeps versions: the journal is read a page
 * at a time, each store restores its keys in batches, and every key restored is protected from the next run
 * ({@code reclaim.protected_keys}, checked before every delete) until {@code reclaim unprotect}. Restoring again is a
 * no-op: a journal row restored once is counted as already present.
 */
public final class Undo {
    private static final int PAGE = 1_000;

    /** Which deletions to bring back: a run's, a sweep's since a time, or named keys ({@code store:key}). */
    public record Selection(UUID run, String sweep, Instant since, List<String> storeKeys) {
    }

    /** Per store: restored, already present (restored before), not restorable with the first reasons. */
    public record StoreOutcome(long restored, long alreadyPresent, long notRestorable, Map<String, String> reasons) {
    }

    public record Report(boolean dryRun, long journaled, Map<String, StoreOutcome> stores, List<String> notes) {
    }

    private Undo() {
    }

    /** Restores {@code selection} ({@code dryRun}: says what would be tried, calls nothing, writes nothing). */
    public static Report restore(DataSource ds, Stores stores, Selection selection, boolean dryRun, Instant deadline)
            throws SQLException {
        Map<String, long[]> counts = new TreeMap<>();
        Map<String, Map<String, String>> reasons = new TreeMap<>();
        long journaled = 0;
        long after = 0;
        try (Connection c = ds.getConnection()) {
            while (true) {
                List<Row> page = page(c, selection, after);
                if (page.isEmpty()) {
                    break;
                }
                after = page.get(page.size() - 1).id;
                journaled += page.size();
                Map<String, List<Row>> byStore = new LinkedHashMap<>();
                for (Row r : page) {
                    if (r.restoredAt != null) {
                        counts.computeIfAbsent(r.store, s -> new long[3])[1]++;
                    } else {
                        byStore.computeIfAbsent(r.store, s -> new ArrayList<>()).add(r);
                    }
                }
                for (Map.Entry<String, List<Row>> e : byStore.entrySet()) {
                    restoreStore(c, stores.get(e.getKey()), e.getKey(), e.getValue(), dryRun, deadline,
                            counts.computeIfAbsent(e.getKey(), s -> new long[3]),
                            reasons.computeIfAbsent(e.getKey(), s -> new LinkedHashMap<>()));
                }
            }
        }
        Map<String, StoreOutcome> out = new TreeMap<>();
        counts.forEach((store, n) -> out.put(store, new StoreOutcome(n[0], n[1], n[2], reasons.getOrDefault(store, Map.of()))));
        return new Report(dryRun, journaled, out, List.of());
    }

    private static void restoreStore(Connection c, Store store, String name, List<Row> rows, boolean dryRun,
                                     Instant deadline, long[] n, Map<String, String> reasons) throws SQLException {
        if (store == null) {
            n[2] += rows.size();
            note(reasons, rows.get(0).key, "store '" + name + "' is not configured any more");
            return;
        }
        String why = store.notUndoable();
        for (int i = 0; i < rows.size(); i += store.maxBatch()) {
            List<Row> batch = rows.subList(i, Math.min(rows.size(), i + store.maxBatch()));
            if (dryRun) {
                long withMarker = batch.stream().filter(r -> why == null || r.version != null).count();
                n[0] += withMarker; // would be tried
                n[2] += batch.size() - withMarker;
                batch.stream().filter(r -> why != null && r.version == null).findFirst()
                        .ifPresent(r -> note(reasons, r.key, why));
                continue;
            }
            Map<String, String> versions = new LinkedHashMap<>();
            batch.stream().filter(r -> r.version != null).forEach(r -> versions.put(r.key, r.version));
            Restored result = store.restore(batch.stream().map(r -> r.key).distinct().toList(), versions, deadline);
            n[0] += result.restored().size();
            n[1] += result.alreadyPresent().size();
            n[2] += result.notRestorable().size();
            result.notRestorable().forEach((k, reason) -> note(reasons, k, reason));
            List<String> back = new ArrayList<>(result.restored());
            back.addAll(result.alreadyPresent());
            settle(c, name, batch, back);
        }
    }

    /** The first few reasons, one per key: enough to say why without a line per key. */
    private static void note(Map<String, String> reasons, String key, String reason) {
        if (reasons.size() < 5) {
            reasons.put(key, reason);
        }
    }

    /** Restored keys: their journal rows marked, and protected from every later delete. */
    private static void settle(Connection c, String store, List<Row> batch, List<String> back) throws SQLException {
        if (back.isEmpty()) {
            return;
        }
        try (PreparedStatement mark = c.prepareStatement(
                "UPDATE reclaim.deleted_keys SET restored_at = now() WHERE id = ANY(?::bigint[]) AND key = ANY(?::text[])");
             PreparedStatement protect = c.prepareStatement("""
                     INSERT INTO reclaim.protected_keys (store, key) SELECT ?, unnest(?::text[])
                     ON CONFLICT (store, key) DO NOTHING""")) {
            mark.setArray(1, c.createArrayOf("bigint", batch.stream().map(r -> r.id).toArray()));
            mark.setArray(2, c.createArrayOf("text", back.toArray()));
            mark.executeUpdate();
            protect.setString(1, store);
            protect.setArray(2, c.createArrayOf("text", back.toArray()));
            protect.executeUpdate();
        }
    }

    private record Row(long id, String store, String key, String version, Instant restoredAt) {
    }

    private static List<Row> page(Connection c, Selection s, long after) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT d.id, d.store, d.key, d.version_id, d.restored_at FROM reclaim.deleted_keys d
                WHERE d.id > ?
                  AND (?::uuid IS NULL OR d.run_id = ?::uuid)
                  AND (?::text IS NULL OR (d.sweep = ? AND d.deleted_at >= ?))
                  AND (?::text[] IS NULL OR d.store || ':' || d.key = ANY(?::text[]))
                ORDER BY d.id LIMIT ?""")) {
            String run = s.run() == null ? null : s.run().toString();
            String[] keys = s.storeKeys() == null || s.storeKeys().isEmpty() ? null : s.storeKeys().toArray(String[]::new);
            ps.setLong(1, after);
            ps.setString(2, run);
            ps.setString(3, run);
            ps.setString(4, s.sweep());
            ps.setString(5, s.sweep());
            ps.setObject(6, s.since() == null ? null : s.since().atOffset(java.time.ZoneOffset.UTC));
            ps.setArray(7, keys == null ? null : c.createArrayOf("text", keys));
            ps.setArray(8, keys == null ? null : c.createArrayOf("text", keys));
            ps.setInt(9, PAGE);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    var restored = rs.getTimestamp(5);
                    rows.add(new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            restored == null ? null : restored.toInstant()));
                }
            }
        }
        return rows;
    }

    /** Lifts the protection of restored keys ({@code store:key}); returns how many were protected. */
    public static int unprotect(DataSource ds, List<String> storeKeys) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM reclaim.protected_keys WHERE store || ':' || key = ANY(?::text[])")) {
            ps.setArray(1, c.createArrayOf("text", storeKeys.toArray()));
            return ps.executeUpdate();
        }
    }

    /** Deletes journal rows older than {@code retention}, at most {@code batches} of 10,000: bounded per run. */
    public static long prune(DataSource ds, Duration retention, int batches) throws SQLException {
        long pruned = 0;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                DELETE FROM reclaim.deleted_keys WHERE id IN (
                  SELECT id FROM reclaim.deleted_keys WHERE deleted_at < now() - ? * interval '1 second' LIMIT 10000)""")) {
            ps.setLong(1, retention.toSeconds());
            for (int i = 0; i < batches; i++) {
                int n = ps.executeUpdate();
                pruned += n;
                if (n < 10_000) {
                    break;
                }
            }
        }
        return pruned;
    }
}
