package dev.reclaim.run;

import dev.reclaim.db.Database;
import dev.reclaim.report.PlanFile;
import dev.reclaim.sweep.PlanScope;

import javax.sql.DataSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

/**
 * A checked plan loaded into {@code reclaim.plan_entries} for the run that applies it: streamed in batches, looked
 * up a page at a time, removed when the run is over. Memory is one batch whatever the plan's size.
 */
public final class AppliedPlan implements PlanScope, AutoCloseable {
    private static final int BATCH = 5_000;

    private final DataSource dataSource;
    private final UUID id = UUID.randomUUID();

    private AppliedPlan(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Loads {@code plan} (already checked by {@link PlanFile#check}); Reclaim's schema is brought up to date first. */
    public static AppliedPlan load(DataSource dataSource, PlanFile.Summary plan) throws SQLException, IOException {
        Database.migrate(dataSource);
        AppliedPlan applied = new AppliedPlan(dataSource);
        try (Connection c = dataSource.getConnection();
             BufferedReader in = Files.newBufferedReader(plan.file(), StandardCharsets.UTF_8)) {
            c.setAutoCommit(false);
            in.readLine(); // the header
            Iterator<PlanFile.Entry> entries = PlanFile.entries(in);
            List<PlanFile.Entry> batch = new ArrayList<>(BATCH);
            while (entries.hasNext()) {
                batch.add(entries.next());
                if (batch.size() == BATCH) {
                    applied.insert(c, batch);
                    batch.clear();
                }
            }
            applied.insert(c, batch);
            c.commit();
            c.setAutoCommit(true);
            try (var st = c.createStatement()) {
                st.execute("ANALYZE reclaim.plan_entries"); // fresh statistics, or each page's lookup may scan the table
            }
        }
        return applied;
    }

    private void insert(Connection c, List<PlanFile.Entry> batch) throws SQLException {
        if (batch.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.plan_entries (plan_id, sweep, store, value)
                SELECT ?, s, t, v FROM unnest(?::text[], ?::text[], ?::text[]) AS e(s, t, v)
                ON CONFLICT DO NOTHING""")) {
            ps.setObject(1, id);
            ps.setArray(2, c.createArrayOf("text", batch.stream().map(PlanFile.Entry::sweep).toArray()));
            ps.setArray(3, c.createArrayOf("text", batch.stream().map(e -> e.store() == null ? "" : e.store()).toArray()));
            ps.setArray(4, c.createArrayOf("text", batch.stream().map(PlanFile.Entry::value).toArray()));
            ps.executeUpdate();
        }
    }

    @Override
    public List<String> admit(Connection c, String sweep, String store, List<String> values) throws SQLException {
        List<String> held = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT v FROM unnest(?::text[]) WITH ORDINALITY AS t(v, n)
                WHERE EXISTS (SELECT 1 FROM reclaim.plan_entries e
                              WHERE e.plan_id = ? AND e.sweep = ? AND e.store = ? AND e.value = t.v)
                ORDER BY n""")) {
            ps.setArray(1, c.createArrayOf("text", values.toArray()));
            ps.setObject(2, id);
            ps.setString(3, sweep);
            ps.setString(4, store == null ? "" : store);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    held.add(rs.getString(1));
                }
            }
        }
        return held;
    }

    /** The plan's rows leave with the run that applied it. */
    @Override
    public void close() throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM reclaim.plan_entries WHERE plan_id = ?")) {
            ps.setObject(1, id);
            ps.executeUpdate();
        }
    }
}
