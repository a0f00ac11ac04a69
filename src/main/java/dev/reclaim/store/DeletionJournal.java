package dev.reclaim.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code reclaim.deleted_keys}: what each delete call confirmed, one multi-row insert per call, with the run, sweep
 * and item it was made for (the run's log context names the run and sweep; an outbox key's item and sweep come from
 * its pending row, still there while the call is settled) and the version id of an S3 delete marker.
 */
final class DeletionJournal {
    private static final Logger log = LoggerFactory.getLogger(DeletionJournal.class);

    private DeletionJournal() {
    }

    /**
     * Records {@code deleted} of {@code store}. A journal that cannot be written never turns a confirmed delete into
     * a failure (the file is gone either way): it is logged, and that batch cannot be restored by the journal.
     */
    static void record(DataSource dataSource, String store, List<String> deleted, Map<String, String> versions,
                       Map<String, StoredAsset> listed) {
        if (deleted.isEmpty()) {
            return;
        }
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
                LEFT JOIN reclaim.pending_deletions p ON p.store = ? AND p.key = t.k""")) {
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
    static List<String> protectedKeys(Connection c, String store, List<String> keys) throws SQLException {
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
}
