package dev.reclaim.db;

import dev.reclaim.config.SqlTemplate;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A configured {@code referenced} query (a sweep's or a store's): of {@code :keys}, those a row of the application still
 * holds. Its answer is checked, not trusted: a value it was not asked about means it checks something else (a wrong
 * column, a wrong table), and {@link ReferenceCheckFailed} stops whatever was about to delete.
 */
public final class ReferenceQuery {
    private final String owner;
    private final SqlTemplate sql;

    /** {@code owner} names it in messages, e.g. "sweep upload-temp" or "store moc-files". */
    public ReferenceQuery(String owner, SqlTemplate sql) {
        this.owner = owner;
        this.sql = sql;
    }

    /**
     * Which of {@code keys} are still referenced. {@code cutoff} binds {@code :cutoff} where the query uses it;
     * {@code timeoutSeconds} > 0 bounds the statement.
     */
    public Set<String> stillReferenced(Connection c, Collection<String> keys, Instant cutoff, int timeoutSeconds)
            throws SQLException {
        Set<String> out = new LinkedHashSet<>();
        if (keys.isEmpty()) {
            return out;
        }
        Set<String> asked = new HashSet<>(keys);
        try (PreparedStatement ps = c.prepareStatement(sql.jdbcSql())) {
            if (timeoutSeconds > 0) {
                ps.setQueryTimeout(timeoutSeconds);
            }
            Array array = c.createArrayOf("text", keys.toArray());
            int i = 0;
            for (String p : sql.parameters()) {
                if (p.equals("keys")) {
                    ps.setArray(++i, array);
                } else {
                    ps.setObject(++i, cutoff.atOffset(ZoneOffset.UTC));
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String v = rs.getString(1);
                    if (v == null || !asked.contains(v)) {
                        throw new ReferenceCheckFailed("the reference query of " + owner, String.valueOf(v));
                    }
                    out.add(v);
                }
            }
        }
        return out;
    }
}
