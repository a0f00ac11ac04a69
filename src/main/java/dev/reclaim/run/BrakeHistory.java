package dev.reclaim.run;

import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.sweep.Brake;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * A sweep's brake for one run, from the ledger: its last completed runs' deletions give the limit, their reference
 * checks the share of candidates usually referenced; a pending {@code reclaim approve} lifts it once.
 */
public final class BrakeHistory {
    /** Runs the volume rule looks back on ... */
    static final int RUNS = 7;
    /** ... and how many completed runs a sweep needs before its history counts: until then, firstRunLimit. */
    static final int FIRST_RUNS = 3;

    private BrakeHistory() {
    }

    /** One earlier run of the sweep: what it deleted, how many candidates it checked and found referenced. */
    record Past(long deleted, long eligible, long referenced) {
    }

    /**
     * The brake of {@code sweep} for the run {@code runId}; a real run ({@code !dryRun}) takes a pending approval for
     * itself. Without Reclaim's schema (a dry run before the first real one) the sweep has no history.
     */
    static Brake of(Connection c, SweepConfig sweep, UUID runId, boolean dryRun) throws SQLException {
        SweepConfig.Brake settings = sweep.brake();
        if (!settings.on()) {
            return Brake.none(sweep.name(), "brake: off");
        }
        if (!Database.schemaExists(c)) {
            return new Brake(sweep.name(), settings.firstRunLimit(), "firstRuns",
                    "first runs: no completed run yet, limit firstRunLimit " + settings.firstRunLimit(), null);
        }
        OptionalLong[] approval = approval(c, sweep.name(), runId, dryRun);
        if (approval != null) {
            long limit = approval[0].orElse(Long.MAX_VALUE);
            return new Brake(sweep.name(), limit, "approved", "approved by reclaim approve"
                    + (approval[0].isPresent() ? " up to " + limit : ""), null);
        }
        List<Past> past = past(c, sweep.name());
        Double share = referencedShare(past);
        if (past.size() < FIRST_RUNS) {
            return new Brake(sweep.name(), settings.firstRunLimit(), "firstRuns", "first runs: " + past.size()
                    + " completed of " + FIRST_RUNS + ", limit firstRunLimit " + settings.firstRunLimit(), share);
        }
        long median = median(past.stream().map(Past::deleted).toList());
        long limit = Math.max(settings.minItems(), (long) Math.ceil(settings.factor() * median));
        return new Brake(sweep.name(), limit, "volume", "max(minItems " + settings.minItems() + ", factor "
                + settings.factor() + " × median " + median + " of the last " + past.size() + " completed runs)", share);
    }

    /** Deletions (records purged, assets deleted, a fanned-out run's by its shards) of the sweep's last completed runs. */
    static List<Past> past(Connection c, String sweep) throws SQLException {
        List<Past> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce((s ->> 'purged')::bigint, 0) + %s,
                       coalesce((s ->> 'eligible')::bigint, 0), coalesce((s ->> 'referenced')::bigint, 0)
                FROM reclaim.runs r CROSS JOIN LATERAL jsonb_array_elements(r.report -> 'sweeps') s
                WHERE r.outcome = 'completed' AND s ->> 'name' = ?
                ORDER BY r.started_at DESC LIMIT ?""".formatted(Database.tableExists(c, "reclaim.shards") ? """
                coalesce((SELECT sum(h.purged) FROM reclaim.shards h WHERE h.run_id = r.id AND h.sweep = s ->> 'name'), 0)"""
                : "0"))) {
            ps.setString(1, sweep);
            ps.setInt(2, RUNS);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Past(rs.getLong(1), rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        return out;
    }

    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** The share of checked candidates the recent runs found referenced; null when they checked none. */
    static Double referencedShare(List<Past> past) {
        long eligible = past.stream().mapToLong(Past::eligible).sum();
        return eligible == 0 ? null : (double) past.stream().mapToLong(Past::referenced).sum() / eligible;
    }

    /**
     * The oldest pending approval of the sweep ({@code [limit or empty]}), or null; a real run marks it used by itself
     * in the same statement, so two runs never share one.
     */
    private static OptionalLong[] approval(Connection c, String sweep, UUID runId, boolean dryRun) throws SQLException {
        String sql = dryRun
                ? "SELECT max_items FROM reclaim.approvals WHERE sweep = ? AND used_by_run IS NULL ORDER BY id LIMIT 1"
                : """
                UPDATE reclaim.approvals SET used_by_run = ?, used_at = coalesce(used_at, now())
                WHERE id = (SELECT id FROM reclaim.approvals WHERE sweep = ?
                              AND (used_by_run IS NULL OR used_by_run = ?)
                            ORDER BY used_by_run IS NULL, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING max_items""";
        // A run asks again for a sweep it fanned out and then purges itself: the approval it took is still its own.
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 0;
            if (!dryRun) {
                ps.setObject(++i, runId);
            }
            ps.setString(++i, sweep);
            if (!dryRun) {
                ps.setObject(++i, runId);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long max = rs.getLong(1);
                return new OptionalLong[] {rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(max)};
            }
        }
    }

    /** An approval not used yet. */
    public record Approval(String sweep, Long maxItems, java.time.Instant createdAt) {
    }

    /** The approvals no run has used yet, oldest first; none before the table exists (status never migrates). */
    static List<Approval> pending(Connection c) throws SQLException {
        List<Approval> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT sweep, max_items, created_at FROM reclaim.approvals WHERE used_by_run IS NULL ORDER BY id""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long max = rs.getLong(2);
                out.add(new Approval(rs.getString(1), rs.wasNull() ? null : max, rs.getTimestamp(3).toInstant()));
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) { // an older schema without the table: nothing pending
                throw e;
            }
        }
        return out;
    }

    /** Records an approval for the next real run of {@code sweep} ({@code maxItems} null: no limit then). */
    public static void approve(Connection c, String sweep, Long maxItems) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO reclaim.approvals (sweep, max_items) VALUES (?, ?)")) {
            ps.setString(1, sweep);
            ps.setObject(2, maxItems);
            ps.executeUpdate();
        }
    }
}
