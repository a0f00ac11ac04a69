package dev.reclaim.bench;

import dev.reclaim.config.SweepConfig;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.config.SqlTemplate;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The floor: the moc-purge statements, exactly as the engine sends them (the parsed configuration's
 * {@link SqlTemplate#jdbcSql()}), run by a minimal hand-written JDBC loop. Keyset pages of the configured size over
 * the same eligibility query; per id one transaction: claim, return-bricks, collect-files, lock-images,
 * find-orphaned-images (with the kept array), delete-moc, delete-orphaned-images, commit. No outbox, no store calls,
 * no reports, no logging. Statements are prepared once and reused.
 */
final class FloorLoop {
    /** What the loop did, to check that it did the same work as the engine. */
    record Result(long purged, long skipped, long keys, long bricksReturned, long imagesOrphaned) {
    }

    private FloorLoop() {
    }

    static Result run(SweepConfig.Records sweep, DataSource ds) throws SQLException {
        return run(sweep, ds, false);
    }

    /**
     * With {@code outbox}, each item's transaction also writes its keys to {@code reclaim.pending_deletions} with the
     * engine's own statement (INSERT and COMMIT in one text), which durability requires of any purge that deletes files
     * after its commit: the floor of such a purge. Its rows are left for no one: there is no drain.
     */
    static Result run(SweepConfig.Records sweep, DataSource ds, boolean outbox) throws SQLException {
        SqlTemplate claimSql = sweep.claim();
        SqlTemplate returnBricks = step(sweep, "return-bricks");
        SqlTemplate collectFiles = step(sweep, "collect-files");
        SqlTemplate lockImages = step(sweep, "lock-images");
        SqlTemplate findOrphaned = step(sweep, "find-orphaned-images");
        SqlTemplate deleteMoc = step(sweep, "delete-moc");
        SqlTemplate deleteImages = step(sweep, "delete-orphaned-images");
        int pageSize = sweep.pageSize();
        long purged = 0, skipped = 0, keys = 0, bricks = 0, images = 0;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(true);
            OffsetDateTime cutoff;
            try (PreparedStatement ps = c.prepareStatement("SELECT now()"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                cutoff = rs.getTimestamp(1).toInstant().minus(sweep.olderThan()).atOffset(ZoneOffset.UTC);
            }
            try (PreparedStatement first = c.prepareStatement(RecordSweep.firstPage(sweep.eligible()));
                 PreparedStatement next = c.prepareStatement(RecordSweep.nextPage(sweep.eligible()));
                 PreparedStatement claim = c.prepareStatement(claimSql.jdbcSql());
                 PreparedStatement bricksPs = c.prepareStatement(returnBricks.jdbcSql());
                 PreparedStatement filesPs = c.prepareStatement(collectFiles.jdbcSql());
                 PreparedStatement lockPs = c.prepareStatement(lockImages.jdbcSql());
                 PreparedStatement orphanPs = c.prepareStatement(findOrphaned.jdbcSql());
                 PreparedStatement deleteMocPs = c.prepareStatement(deleteMoc.jdbcSql());
                 PreparedStatement deleteImagesPs = c.prepareStatement(deleteImages.jdbcSql());
                 PreparedStatement outboxPs = c.prepareStatement(OUTBOX_AND_COMMIT)) {
                java.util.UUID runId = java.util.UUID.randomUUID();
                Object after = null;
                while (true) {
                    PreparedStatement page = after == null ? first : next;
                    int i = set(page, sweep.eligible(), "cutoff", cutoff);
                    if (after != null) {
                        page.setObject(++i, after);
                    }
                    page.setInt(++i, pageSize);
                    List<Object> ids = new ArrayList<>(pageSize);
                    try (ResultSet rs = page.executeQuery()) {
                        while (rs.next()) {
                            ids.add(rs.getObject(1));
                        }
                    }
                    for (Object id : ids) {
                        c.setAutoCommit(false);
                        try {
                            set(claim, claimSql, "id", id);
                            set(claim, claimSql, "cutoff", cutoff);
                            boolean claimed;
                            try (ResultSet rs = claim.executeQuery()) {
                                claimed = rs.next();
                            }
                            if (!claimed) {
                                c.rollback();
                                skipped++;
                                continue;
                            }
                            set(bricksPs, returnBricks, "id", id);
                            bricks += bricksPs.executeUpdate();

                            set(filesPs, collectFiles, "id", id);
                            List<String> itemKeys = new ArrayList<>();
                            keys += readKeys(filesPs, itemKeys);

                            set(lockPs, lockImages, "id", id);
                            Array linked = c.createArrayOf("uuid", firstColumn(lockPs).toArray());

                            set(orphanPs, findOrphaned, "linkedImages", linked);
                            Array orphaned = c.createArrayOf("uuid", firstColumn(orphanPs).toArray());

                            set(deleteMocPs, deleteMoc, "id", id);
                            deleteMocPs.executeUpdate();

                            set(deleteImagesPs, deleteImages, "orphanedImages", orphaned);
                            try (ResultSet rs = deleteImagesPs.executeQuery()) {
                                while (rs.next()) {
                                    images++;
                                    keys += nonEmpty(rs.getString(1)) + nonEmpty(rs.getString(2));
                                    addKey(itemKeys, rs.getString(1));
                                    addKey(itemKeys, rs.getString(2));
                                }
                            }
                            if (outbox && !itemKeys.isEmpty()) {
                                itemKeys = new ArrayList<>(new java.util.LinkedHashSet<>(itemKeys));
                                outboxPs.setString(1, sweep.name());
                                outboxPs.setString(2, String.valueOf(id));
                                outboxPs.setObject(3, runId);
                                outboxPs.setArray(4, c.createArrayOf("text", java.util.Collections.nCopies(itemKeys.size(),
                                        "moc-files").toArray()));
                                outboxPs.setArray(5, c.createArrayOf("text", itemKeys.toArray()));
                                outboxPs.execute();
                            }
                            c.commit();
                            purged++;
                        } catch (SQLException e) {
                            c.rollback();
                            throw e;
                        } finally {
                            c.setAutoCommit(true);
                        }
                    }
                    if (ids.size() < pageSize) {
                        break;
                    }
                    after = ids.get(ids.size() - 1);
                }
            }
        }
        return new Result(purged, skipped, keys, bricks, images);
    }

    private static SqlTemplate step(SweepConfig.Records sweep, String name) {
        return sweep.steps().stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the configuration has no step " + name
                        + "; the floor loop mirrors the shipped moc-purge sweep"))
                .sql();
    }

    /** Binds {@code value} at every position of the named parameter; returns the last position of the template. */
    private static int set(PreparedStatement ps, SqlTemplate sql, String name, Object value) throws SQLException {
        List<String> params = sql.parameters();
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).equals(name)) {
                if (value instanceof Array a) {
                    ps.setArray(i + 1, a);
                } else {
                    ps.setObject(i + 1, value);
                }
            }
        }
        return params.size();
    }

    private static long readKeys(PreparedStatement ps, List<String> into) throws SQLException {
        long n = 0;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                n += nonEmpty(rs.getString(1));
                addKey(into, rs.getString(1));
            }
        }
        return n;
    }

    private static void addKey(List<String> into, String key) {
        if (key != null && !key.isEmpty()) {
            into.add(key);
        }
    }

    /** The engine's outbox statement ({@code Outbox.addAndCommit}), the same text. */
    private static final String OUTBOX_AND_COMMIT = """
            INSERT INTO reclaim.pending_deletions (store, key, sweep, item_id, run_id)
            SELECT s, k, ?, ?, ? FROM unnest(?::text[], ?::text[]) AS t(s, k)
            ON CONFLICT (store, key) DO UPDATE
               SET sweep = EXCLUDED.sweep, item_id = EXCLUDED.item_id, run_id = EXCLUDED.run_id;
            COMMIT""";

    private static List<Object> firstColumn(PreparedStatement ps) throws SQLException {
        List<Object> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getObject(1));
            }
        }
        return out;
    }

    private static int nonEmpty(String s) {
        return s == null || s.isEmpty() ? 0 : 1;
    }
}
