package dev.reclaim.run;

import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

/** {@code reclaim.runs}: a row when a run starts, its counts kept current page by page, completed when it ends. */
final class RunLedger {
    public void started(Connection c, UUID runId, String trigger, Instant startedAt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO reclaim.runs (id, trigger, started_at, outcome) VALUES (?, ?, ?, 'running')")) {
            ps.setObject(1, runId);
            ps.setString(2, trigger);
            ps.setTimestamp(3, Timestamp.from(startedAt));
            ps.executeUpdate();
        }
    }

    /**
     * Rows still {@code running} when a run takes the lock belong to runs that can no longer be running (killed, or
     * their process or connection died): they become {@code interrupted}, keeping the counts of their last page.
     */
    public int interruptAbandoned(Connection c, UUID by) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE reclaim.runs SET outcome = 'interrupted', reason = ? WHERE outcome = 'running'")) {
            ps.setString(1, "ended without recording its outcome (killed, or its process or connection died); "
                    + "found by run " + by + "; its counts are as of its last page");
            return ps.executeUpdate();
        }
    }

    /** What a running run has done so far, kept current so that a killed run's row still says it. */
    public void progress(Connection c, UUID runId, long purged, long failed, long keysDeleted) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE reclaim.runs SET purged = ?, failed = ?, keys_deleted = ? WHERE id = ? AND outcome = 'running'")) {
            ps.setLong(1, purged);
            ps.setLong(2, failed);
            ps.setLong(3, keysDeleted);
            ps.setObject(4, runId);
            ps.executeUpdate();
        }
    }

    public void finished(Connection c, RunReport report) throws SQLException {
        String body;
        try {
            body = Reports.JSON.writeValueAsString(report);
        } catch (Exception e) {
            body = null;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.runs (id, trigger, started_at, finished_at, outcome, reason, purged, failed, keys_deleted, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
                ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, outcome = excluded.outcome,
                  reason = excluded.reason, purged = excluded.purged, failed = excluded.failed,
                  keys_deleted = excluded.keys_deleted, report = excluded.report""")) {
            ps.setObject(1, UUID.fromString(report.runId()));
            ps.setString(2, report.trigger());
            ps.setTimestamp(3, Timestamp.from(report.startedAt()));
            ps.setTimestamp(4, Timestamp.from(report.finishedAt()));
            ps.setString(5, report.outcome().label());
            ps.setString(6, report.reason());
            ps.setLong(7, report.purged());
            ps.setLong(8, report.failed());
            ps.setLong(9, report.keysDeleted());
            ps.setString(10, body);
            ps.executeUpdate();
        }
    }
}
