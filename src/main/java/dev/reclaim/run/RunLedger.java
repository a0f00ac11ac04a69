package dev.reclaim.run;

import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code reclaim.runs}: a row when a run starts, its counts kept current page by page, completed when it ends. */
final class RunLedger {
    public void started(Connection c, UUID runId, String trigger, Instant startedAt) throws SQLException {
        update(c, "INSERT INTO reclaim.runs (id, trigger, started_at, outcome) VALUES (?, ?, ?, 'running')",
                runId, trigger, Timestamp.from(startedAt));
    }

    /**
     * Rows still {@code running} when a run takes the lock belong to runs that can no longer be running (killed, or
     * their process or connection died): they become {@code interrupted}, keeping the counts of their last page.
     */
    public int interruptAbandoned(Connection c, UUID by) throws SQLException {
        return update(c, "UPDATE reclaim.runs SET outcome = 'interrupted', reason = ? WHERE outcome = 'running'",
                "ended without recording its outcome (killed, or its process or connection died); "
                        + "found by run " + by + "; its counts are as of its last page");
    }

    /** What a running run has done so far, kept current so that a killed run's row still says it. */
    public void progress(Connection c, UUID runId, long purged, long failed, long keysDeleted) throws SQLException {
        update(c, "UPDATE reclaim.runs SET purged = ?, failed = ?, keys_deleted = ? WHERE id = ? AND outcome = 'running'",
                purged, failed, keysDeleted, runId);
    }

    public void finished(Connection c, RunReport report) throws SQLException {
        String body;
        try {
            body = Reports.JSON.writeValueAsString(report);
        } catch (Exception e) {
            body = null;
        }
        update(c, """
                INSERT INTO reclaim.runs (id, trigger, started_at, finished_at, outcome, reason, purged, failed, keys_deleted, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
                ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, outcome = excluded.outcome,
                  reason = excluded.reason, purged = excluded.purged, failed = excluded.failed,
                  keys_deleted = excluded.keys_deleted, report = excluded.report""",
                UUID.fromString(report.runId()), report.trigger(), Timestamp.from(report.startedAt()),
                Timestamp.from(report.finishedAt()), report.outcome().label(), report.reason(), report.purged(),
                report.failed(), report.keysDeleted(), body);
    }

    /** The last {@code limit} runs, newest first (for {@code reclaim status}); read only. */
    public List<Status.LedgerRun> recent(Connection c, int limit) throws SQLException {
        List<Status.LedgerRun> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT id, trigger, started_at, finished_at, outcome, reason, purged, failed, keys_deleted
                  FROM reclaim.runs ORDER BY started_at DESC LIMIT ?""")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp finished = rs.getTimestamp(4);
                    out.add(new Status.LedgerRun(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                            finished == null ? null : finished.toInstant(), rs.getString(5), rs.getString(6),
                            rs.getLong(7), rs.getLong(8), rs.getLong(9),
                            finished == null ? null : finished.getTime() - rs.getTimestamp(3).getTime()));
                }
            }
        }
        return out;
    }

    private static int update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                ps.setObject(i + 1, values[i]);
            }
            return ps.executeUpdate();
        }
    }
}
