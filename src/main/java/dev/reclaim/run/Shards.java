package dev.reclaim.run;

import dev.reclaim.sweep.Brake;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code reclaim.shards} and {@code reclaim.fanouts}: the shards of each fanned-out run, where each one is, and what
 * the run may still delete across them. The table, not the queue, is the truth: a message only names its shard.
 */
final class Shards {
    private Shards() {
    }

    /** One shard as its row holds it. */
    record Shard(UUID runId, String sweep, int shard, int shards, String after, String upTo, String fingerprint,
                 String status, int attempts, long purged, long failed) {
        String label() {
            return sweep + " shard " + (shard + 1) + " of " + shards + " (run " + runId + ")";
        }
    }

    /** What a fanned-out run's shards of one sweep have done so far, for {@code reclaim status} and the report. */
    public record Progress(String runId, String sweep, int shards, Map<String, Integer> byStatus, long purged,
                           long failed, long budget, long used) {
    }

    /** The run's shards of {@code sweep}, ending at {@code ends} (the last open), and its limit across them. */
    static List<Shard> create(Connection c, UUID runId, String sweep, String fingerprint, List<String> ends,
                              long budget, String rule, String basis) throws SQLException {
        List<Shard> out = new ArrayList<>();
        String after = null;
        for (int i = 0; i <= ends.size(); i++) {
            String upTo = i < ends.size() ? ends.get(i) : null;
            out.add(new Shard(runId, sweep, i, ends.size() + 1, after, upTo, fingerprint, "waiting", 0, 0, 0));
            after = upTo;
        }
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (PreparedStatement ps = c.prepareStatement("""
                    INSERT INTO reclaim.shards (run_id, sweep, shard, shards, after_id, up_to_id, fingerprint)
                    VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
                for (Shard s : out) {
                    ps.setObject(1, runId);
                    ps.setString(2, sweep);
                    ps.setInt(3, s.shard());
                    ps.setInt(4, s.shards());
                    ps.setString(5, s.after());
                    ps.setString(6, s.upTo());
                    ps.setString(7, fingerprint);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            update(c, "INSERT INTO reclaim.fanouts (run_id, sweep, budget, rule, basis) VALUES (?, ?, ?, ?, ?)",
                    runId, sweep, budget, rule, basis);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        return out;
    }

    static Optional<Shard> find(Connection c, UUID runId, String sweep, int shard) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT shards, after_id, up_to_id, fingerprint, status, attempts, purged, failed
                  FROM reclaim.shards WHERE run_id = ? AND sweep = ? AND shard = ?""")) {
            ps.setObject(1, runId);
            ps.setString(2, sweep);
            ps.setInt(3, shard);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Shard(runId, sweep, shard, rs.getInt(1), rs.getString(2),
                        rs.getString(3), rs.getString(4), rs.getString(5), rs.getInt(6), rs.getLong(7),
                        rs.getLong(8))) : Optional.empty();
            }
        }
    }

    /** A worker starts on the shard: one attempt more. */
    static void started(Connection c, Shard s) throws SQLException {
        update(c, "UPDATE reclaim.shards SET status = 'running', attempts = attempts + 1, reason = NULL, updated_at = now()"
                + " WHERE run_id = ? AND sweep = ? AND shard = ?", s.runId(), s.sweep(), s.shard());
    }

    /** A page done: where a redelivered shard resumes, and what it has done so far. */
    static void progress(Connection c, Shard s, String after, long purged, long failed) throws SQLException {
        update(c, "UPDATE reclaim.shards SET after_id = ?, purged = ?, failed = ?, updated_at = now()"
                + " WHERE run_id = ? AND sweep = ? AND shard = ?", after, purged, failed, s.runId(), s.sweep(), s.shard());
    }

    /** The shard's new status ({@code done}, {@code held}, {@code waiting}, {@code failed}, {@code parked},
     * {@code unsent}) and why. */
    static void ended(Connection c, Shard s, String status, long purged, long failed, String reason)
            throws SQLException {
        update(c, "UPDATE reclaim.shards SET status = ?, purged = ?, failed = ?, reason = ?, updated_at = now()"
                        + " WHERE run_id = ? AND sweep = ? AND shard = ?", status, purged, failed, reason, s.runId(),
                s.sweep(), s.shard());
    }

    /** Shards the work queue refused: the run that made them purges their ids itself. */
    static void unsent(Connection c, List<Shard> shards, String why) throws SQLException {
        for (Shard s : shards) {
            ended(c, s, "unsent", 0, 0, "the work queue refused it (" + why + "); the run purged the sweep itself");
        }
    }

    /** Shards of {@code sweep} still waiting or running, updated within the last {@code hours}. */
    static long open(Connection c, String sweep, int hours) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*) FROM reclaim.shards WHERE sweep = ? AND status IN ('waiting', 'running')
                   AND updated_at > now() - ? * interval '1 hour'""")) {
            ps.setString(1, sweep);
            ps.setInt(2, hours);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The run's limit across the shards of {@code sweep}, a page at a time. */
    static Brake.Shared budget(DataSource ds, UUID runId, String sweep) throws SQLException {
        long total;
        String rule;
        String basis;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT budget, rule, basis FROM reclaim.fanouts WHERE run_id = ? AND sweep = ?")) {
            ps.setObject(1, runId);
            ps.setString(2, sweep);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("no fan-out of sweep " + sweep + " in run " + runId);
                }
                total = rs.getLong(1);
                rule = rs.getString(2);
                basis = rs.getString(3);
            }
        }
        return new Brake.Shared() {
            @Override
            public long take(long wanted) throws SQLException {
                try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                        WITH old AS (SELECT used FROM reclaim.fanouts WHERE run_id = ? AND sweep = ? FOR UPDATE)
                        UPDATE reclaim.fanouts f SET used = f.used + greatest(0, least(?, f.budget - f.used))
                          FROM old WHERE f.run_id = ? AND f.sweep = ? RETURNING f.used - old.used""")) {
                    ps.setObject(1, runId);
                    ps.setString(2, sweep);
                    ps.setLong(3, wanted);
                    ps.setObject(4, runId);
                    ps.setString(5, sweep);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? rs.getLong(1) : 0;
                    }
                }
            }

            @Override
            public void giveBack(long unused) throws SQLException {
                try (Connection c = ds.getConnection()) {
                    update(c, "UPDATE reclaim.fanouts SET used = greatest(0, used - ?) WHERE run_id = ? AND sweep = ?",
                            unused, runId, sweep);
                }
            }

            @Override
            public long total() {
                return total;
            }

            @Override
            public String rule() {
                return rule;
            }

            @Override
            public String basis() {
                return basis;
            }
        };
    }

    /** The fanned-out sweeps of the last {@code runs} runs, newest first; read only. */
    static List<Progress> recent(Connection c, int runs) throws SQLException {
        List<Progress> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT s.run_id, s.sweep, max(s.shards), jsonb_object_agg(s.status, s.n), sum(s.purged),
                       sum(s.failed), f.budget, f.used
                  FROM (SELECT run_id, sweep, status, count(*) AS n, max(shards) AS shards, sum(purged) AS purged,
                               sum(failed) AS failed, min(created_at) AS created_at
                          FROM reclaim.shards
                         WHERE run_id IN (SELECT id FROM reclaim.runs ORDER BY started_at DESC LIMIT ?)
                         GROUP BY run_id, sweep, status) s
                  JOIN reclaim.fanouts f ON f.run_id = s.run_id AND f.sweep = s.sweep
                 GROUP BY s.run_id, s.sweep, f.budget, f.used
                 ORDER BY min(s.created_at) DESC, s.sweep""")) {
            ps.setInt(1, runs);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Integer> byStatus = new TreeMap<>();
                    dev.reclaim.report.Reports.JSON.readTree(rs.getString(4)).fields()
                            .forEachRemaining(e -> byStatus.put(e.getKey(), e.getValue().asInt()));
                    out.add(new Progress(rs.getString(1), rs.getString(2), rs.getInt(3), byStatus, rs.getLong(5),
                            rs.getLong(6), rs.getLong(7), rs.getLong(8)));
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SQLException("unreadable shard counts: " + e.getMessage(), e);
        }
        return out;
    }

    private static void update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setObject(i + 1, values[i]);
            }
            ps.executeUpdate();
        }
    }
}
