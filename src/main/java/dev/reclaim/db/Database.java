package dev.reclaim.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Redaction;
import dev.reclaim.config.Settings;
import org.flywaydb.core.Flyway;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The application's PostgreSQL: a small pool sized for Lambda, and Reclaim's own versioned schema. */
public final class Database {
    private Database() {
    }

    /** A pool on {@code settings}' URL, user and password, of its size (at least 3), not connecting until used. */
    public static HikariDataSource pool(Settings.Database settings) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("reclaim");
        hc.setJdbcUrl(settings.url());
        hc.setUsername(settings.user());
        hc.setPassword(settings.password());
        // One connection holds the run lock, one does the work (a sweep keeps it for its items), one asks the stores'
        // reference queries right before each delete, a fourth drains the outbox beside a records sweep's next page;
        // Lambda runs one invocation per container.
        hc.setMaximumPoolSize(settings.poolSize());
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(settings.connectTimeout().toMillis());
        // Do not connect while the container initialises: an unreachable database fails the run, clearly.
        hc.setInitializationFailTimeout(-1);
        hc.addDataSourceProperty("ApplicationName", "reclaim");
        hc.addDataSourceProperty("tcpKeepAlive", "true");
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            // The pool's own message echoes the URL with any password in it; name the variable instead.
            throw new ConfigException("RECLAIM_DB_URL: the PostgreSQL driver does not accept '"
                    + Redaction.redact(settings.url())
                    + "' (jdbc:postgresql://host:5432/database; credentials go in RECLAIM_DB_USER and RECLAIM_DB_PASSWORD)");
        }
    }

    /** How many connections {@code ds} may hold at once when it is a pool that says (Hikari, possibly wrapped), else 0. */
    public static int maxConnections(DataSource ds) {
        try {
            return ds.isWrapperFor(HikariDataSource.class) ? ds.unwrap(HikariDataSource.class).getMaximumPoolSize() : 0;
        } catch (SQLException e) {
            return 0;
        }
    }

    /** Creates or upgrades schema {@code reclaim} (run ledger, outbox). Never touches the application's tables. */
    public static void migrate(DataSource ds) throws SQLException {
        try {
            Flyway.configure()
                    .dataSource(ds)
                    .schemas("reclaim")
                    .createSchemas(true)
                    .table("schema_history")
                    .locations("classpath:db/reclaim")
                    .loggers("slf4j")
                    .load()
                    .migrate();
        } catch (org.flywaydb.core.internal.exception.FlywaySqlException e) {
            // The database's own error (a connection killed, a statement refused): a run fails naming it, as any other.
            throw new SQLException("migrating Reclaim's schema failed: " + e.getMessage().lines().findFirst().orElse("")
                    + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"), e.getSqlState(), e);
        }
    }

    /** Whether Reclaim's tables exist yet (a dry run never creates them). */
    public static boolean schemaExists(Connection c) throws SQLException {
        return tableExists(c, "reclaim.pending_deletions");
    }

    /** Whether Reclaim's schema has {@code table} (a dry run or status may meet a schema an older version made). */
    public static boolean tableExists(Connection c, String table) throws SQLException {
        try (var ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Connection-level failures (SQLSTATE class 08) end the run; other errors belong to one item. */
    public static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }
}
