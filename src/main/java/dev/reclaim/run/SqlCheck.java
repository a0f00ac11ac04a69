package dev.reclaim.run;

import dev.reclaim.config.SqlTemplate;
import dev.reclaim.db.Database;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.sweep.RecordSweep;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Prepares every configured statement against the database without executing it (parse + describe), so a typo in
 * a table or column is a configuration error before anything runs, not a failure halfway through a purge.
 */
public final class SqlCheck {
    /** PostgreSQL's string types as the driver names them (domains are described as their base type). */
    private static final Set<String> TEXT_TYPES = Set.of("text", "varchar", "bpchar", "char", "name", "citext");

    private SqlCheck() {
    }

    public static void check(ReclaimConfig config, DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                for (StoreConfig store : config.stores().values()) {
                    if (store.referenced() != null) {
                        checkReferenced(config, c, "stores." + store.name() + ".referenced", store.referenced());
                    }
                }
                for (SweepConfig sweep : config.sweeps().values()) {
                    if (sweep instanceof SweepConfig.Records r) {
                        checkRecords(config, r, c);
                    } else if (sweep instanceof SweepConfig.Assets a && a.referenced() != null) {
                        checkReferenced(config, c, "sweeps." + a.name() + ".referenced", a.referenced());
                    }
                }
            } finally {
                c.rollback();
            }
        }
    }

    /**
     * A reference query answers "which of these keys are still in use" with the keys themselves: one column of a text
     * type. Anything else (an id, a second column) could never equal a key, so every key would look unreferenced.
     */
    private static void checkReferenced(ReclaimConfig config, Connection c, String path, SqlTemplate sql)
            throws SQLException {
        ResultSetMetaData md = describe(config, c, path, sql.jdbcSql(), true);
        if (md == null) {
            throw ConfigLoader.error(config, path, "must return the referenced keys (SELECT ...)");
        }
        if (md.getColumnCount() != 1 || !isText(md, 1)) {
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(md.getColumnLabel(i) + " (" + md.getColumnTypeName(i) + ")");
            }
            throw ConfigLoader.error(config, path, "must return exactly one column of a text type, the keys it was"
                    + " given that are still in use (e.g. SELECT s3_key FROM files WHERE s3_key = ANY(:keys)), but it"
                    + " returns " + (columns.size() == 1 ? "" : columns.size() + " columns: ") + String.join(", ", columns));
        }
    }

    private static boolean isText(ResultSetMetaData md, int column) throws SQLException {
        int type = md.getColumnType(column);
        String name = md.getColumnTypeName(column);
        return type == Types.VARCHAR || type == Types.CHAR || type == Types.LONGVARCHAR || type == Types.NVARCHAR
                || type == Types.NCHAR || type == Types.LONGNVARCHAR
                || name != null && TEXT_TYPES.contains(name.toLowerCase(Locale.ROOT));
    }

    private static void checkRecords(ReclaimConfig config, SweepConfig.Records r, Connection c) throws SQLException {
        String path = "sweeps." + r.name();
        ResultSetMetaData md = describe(config, c, path + ".eligible", r.eligible().jdbcSql(), true);
        if (md == null || !hasColumn(md, "id")) {
            throw ConfigLoader.error(config, path + ".eligible",
                    "the eligibility query must return a column named id (e.g. SELECT id FROM ... or SELECT m.id AS id ...)");
        }
        describe(config, c, path + ".eligible (paged)", RecordSweep.firstPage(r.eligible()), true);
        describe(config, c, path + ".claim", r.claim().jdbcSql(), false);
        for (int i = 0; i < r.steps().size(); i++) {
            SweepConfig.Step step = r.steps().get(i);
            String sp = path + ".steps[" + i + "] (" + step.name() + ").sql";
            ResultSetMetaData smd = describe(config, c, sp, step.sql().jdbcSql(), false);
            if ((step.collect() != null || step.keep() != null) && smd == null) {
                throw ConfigLoader.error(config, sp, "returns no rows, but the step collects keys or keeps values;"
                        + " use SELECT ... or DELETE ... RETURNING ...");
            }
        }
    }

    private static ResultSetMetaData describe(ReclaimConfig config, Connection c, String path, String sql, boolean query)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.getParameterMetaData();
            return ps.getMetaData();
        } catch (SQLException e) {
            if (Database.isConnectionFailure(e)) {
                throw e;
            }
            throw ConfigLoader.error(config, path, "does not prepare against the database: " + firstLine(e.getMessage()));
        } finally {
            c.rollback();
        }
    }

    private static boolean hasColumn(ResultSetMetaData md, String name) throws SQLException {
        for (int i = 1; i <= md.getColumnCount(); i++) {
            if (md.getColumnLabel(i).equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.split("\n", 2)[0];
    }
}
