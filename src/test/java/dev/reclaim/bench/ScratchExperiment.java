package dev.reclaim.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.db.RecordPaging;
import dev.reclaim.db.SqlTemplate;
import dev.reclaim.testing.TestPostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import javax.sql.DataSource;
import java.sql.*;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.*;

/** TEMPORARY diagnostic. */
public final class ScratchExperiment {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args.length > 0 && !args[0].isBlank() ? args[0].trim() : "5000");
        EmbeddedPostgres pg = TestPostgres.server();
        try (RecordPurgeBenchmark.Dataset w = RecordPurgeBenchmark.Dataset.generate(pg, 2000)) {
            for (String v : List.of("plain", "peruse", "outbox", "peruse_outbox")) run(w, w.copy(pg, v), v);
        }
        try (RecordPurgeBenchmark.Dataset d = RecordPurgeBenchmark.Dataset.generate(pg, n)) {
            for (int round = 0; round < 2; round++)
            for (String v : List.of("plain", "peruse", "outbox", "peruse_outbox")) {
                String url = d.copy(pg, v + round);
                run(d, url, v);
            }
        }
        System.exit(0);
    }

    static void run(RecordPurgeBenchmark.Dataset d, String url, String variant) throws Exception {
        Map<String, String> env = Map.of("RECLAIM_DB_URL", url, "RECLAIM_CONFIG", "config/reclaim.yaml");
        ReclaimConfig config = ConfigLoader.load(env);
        SweepConfig.Records sweep = (SweepConfig.Records) config.sweeps().get("moc-purge");
        JdbcMeter.Tally tally = new JdbcMeter.Tally();
        Map<String, String> known = new HashMap<>();
        known.put(sweep.claim().jdbcSql(), "claim");
        for (SweepConfig.Step s : sweep.steps()) known.put(s.sql().jdbcSql(), s.name());
        boolean perUse = variant.contains("peruse");
        boolean outbox = variant.contains("outbox");
        try (HikariDataSource pool = Database.pool(env)) {
            DataSource ds = JdbcMeter.wrap(pool, tally, sql -> known.getOrDefault(sql, sql.contains("pending") ? "outbox-add" : "page"));
            long t0 = System.nanoTime();
            loop(sweep, ds, perUse, outbox);
            long nanos = System.nanoTime() - t0;
            StringBuilder sb = new StringBuilder(String.format("%-14s %7.0f MOCs/s total %6.0f us/MOC:", variant, d.expired / (nanos / 1e9), nanos / 1e3 / d.expired));
            tally.snapshot().forEach((k, v) -> sb.append(String.format(" %s=%.0f", k, v[1] / 1e3 / d.expired)));
            System.out.println(sb);
        }
    }

    static void loop(SweepConfig.Records sweep, DataSource ds, boolean perUse, boolean outbox) throws SQLException {
        List<SqlTemplate> steps = new ArrayList<>();
        steps.add(sweep.claim());
        for (SweepConfig.Step s : sweep.steps()) steps.add(s.sql());
        String ins = """
                INSERT INTO reclaim.pending_deletions (store, key, sweep, item_id, run_id)
                SELECT s, k, ?, ?, ? FROM unnest(?::text[], ?::text[]) AS t(s, k)
                ON CONFLICT (store, key) DO NOTHING""";
        UUID run = UUID.randomUUID();
        try (Connection c = ds.getConnection()) {
            OffsetDateTime cutoff;
            try (PreparedStatement ps = c.prepareStatement("SELECT now()"); ResultSet rs = ps.executeQuery()) {
                rs.next();
                cutoff = rs.getTimestamp(1).toInstant().minus(sweep.olderThan()).atOffset(ZoneOffset.UTC);
            }
            Map<String, PreparedStatement> cache = new HashMap<>();
            Object after = null;
            while (true) {
                List<Object> ids = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement(after == null ? RecordPaging.firstPage(sweep.eligible()) : RecordPaging.nextPage(sweep.eligible()))) {
                    int i = 0;
                    p.setObject(++i, cutoff);
                    if (after != null) p.setObject(++i, after);
                    p.setInt(++i, 100);
                    try (ResultSet rs = p.executeQuery()) { while (rs.next()) ids.add(rs.getObject(1)); }
                }
                for (Object id : ids) {
                    c.setAutoCommit(false);
                    Map<String, Object> params = new HashMap<>();
                    params.put("id", id);
                    params.put("cutoff", cutoff);
                    List<String> keys = new ArrayList<>();
                    int si = 0;
                    for (SqlTemplate t : steps) {
                        PreparedStatement ps = perUse ? c.prepareStatement(t.jdbcSql()) : cache.computeIfAbsent(t.jdbcSql(), sql -> { try { return c.prepareStatement(sql); } catch (SQLException e) { throw new RuntimeException(e); } });
                        int i = 0;
                        for (String name : t.parameters()) {
                            Object v = params.get(name);
                            if (v instanceof Array a) ps.setArray(++i, a); else ps.setObject(++i, v);
                        }
                        if (ps.execute()) {
                            List<Object> kept = new ArrayList<>();
                            try (ResultSet rs = ps.getResultSet()) {
                                int cols = rs.getMetaData().getColumnCount();
                                while (rs.next()) { kept.add(rs.getObject(1)); for (int col = 1; col <= cols; col++) { String s = rs.getString(col); if (s != null) keys.add(s); } }
                            }
                            if (si == 3) params.put("linkedImages", c.createArrayOf("uuid", kept.toArray()));
                            if (si == 4) params.put("orphanedImages", c.createArrayOf("uuid", kept.toArray()));
                        }
                        if (perUse) ps.close();
                        si++;
                    }
                    if (outbox) {
                        List<String> keyOnly = new ArrayList<>();
                        // keys: only the collect steps' values matter for the count; use the s3-ish ones
                        for (String k : keys) if (k.startsWith("mocs/") || k.startsWith("gallery/")) keyOnly.add(k);
                        try (PreparedStatement ps = c.prepareStatement(ins)) {
                            ps.setString(1, "moc-purge"); ps.setString(2, id.toString()); ps.setObject(3, run);
                            String[] st = new String[keyOnly.size()]; Arrays.fill(st, "moc-files");
                            ps.setArray(4, c.createArrayOf("text", st)); ps.setArray(5, c.createArrayOf("text", keyOnly.toArray()));
                            ps.executeUpdate();
                        }
                    }
                    c.commit();
                    c.setAutoCommit(true);
                }
                if (ids.size() < 100) break;
                after = ids.get(ids.size() - 1);
            }
        }
    }
}
