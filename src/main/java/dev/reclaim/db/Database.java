package dev.reclaim.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Redaction;
import org.flywaydb.core.Flyway;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/** The application's PostgreSQL: a small pool sized for Lambda, and Reclaim's own versioned schema. */
public final class Database {
    public static final String SCHEMA = "reclaim";

    private Database() {
    }

    /** {@code RECLAIM_DB_URL} (JDBC), {@code RECLAIM_DB_USER}, {@code RECLAIM_DB_PASSWORD}, {@code RECLAIM_DB_POOL_SIZE}. */
    public static HikariDataSource pool(Map<String, String> env) {
        String url = env.get("RECLAIM_DB_URL");
        if (url == null || url.isBlank()) {
            throw new ConfigException("RECLAIM_DB_URL is not set (e.g. jdbc:postgresql://host:5432/app)");
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new ConfigException("RECLAIM_DB_URL must be a PostgreSQL JDBC URL (jdbc:postgresql://...), got '"
                    + Redaction.redact(url) + "'");
        }
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("reclaim");
        hc.setJdbcUrl(url);
        hc.setUsername(env.get("RECLAIM_DB_USER"));
        hc.setPassword(env.get("RECLAIM_DB_PASSWORD"));
        int size;
        try {
            size = Integer.parseInt(env.getOrDefault("RECLAIM_DB_POOL_SIZE", "3"));
        } catch (NumberFormatException e) {
            throw new ConfigException("RECLAIM_DB_POOL_SIZE must be a whole number");
        }
        // One connection holds the run lock, one does the work (a sweep keeps it for its items), one asks the stores'
        // reference queries right before each delete; Lambda runs one invocation per container.
        hc.setMaximumPoolSize(Math.max(3, size));
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(connectTimeout(env).toMillis());
        // Do not connect while the container initialises: an unreachable database fails the run, clearly.
        hc.setInitializationFailTimeout(-1);
        hc.addDataSourceProperty("ApplicationName", "reclaim");
        hc.addDataSourceProperty("tcpKeepAlive", "true");
        try {
            return new HikariDataSource(hc);
        } catch (RuntimeException e) {
            // The pool's own message echoes the URL with any password in it; name the variable instead.
            throw new ConfigException("RECLAIM_DB_URL: the PostgreSQL driver does not accept '" + Redaction.redact(url)
                    + "' (jdbc:postgresql://host:5432/database; credentials go in RECLAIM_DB_USER and RECLAIM_DB_PASSWORD)");
        }
    }

    /** {@code RECLAIM_DB_CONNECT_TIMEOUT}: how long to wait for a connection (default 10s, at least 250ms). */
    private static java.time.Duration connectTimeout(Map<String, String> env) {
        java.time.Duration d = dev.reclaim.config.Durations.fromEnvironment(env, "RECLAIM_DB_CONNECT_TIMEOUT",
                java.time.Duration.ofSeconds(10), dev.reclaim.config.Durations.Accepts.POSITIVE); // zero: wait forever
        return d.toMillis() < 250 ? java.time.Duration.ofMillis(250) : d;
    }

    /** Creates or upgrades schema {@code reclaim} (run ledger, outbox). Never touches the application's tables. */
    public static void migrate(DataSource ds) {
        Flyway.configure()
                .dataSource(ds)
                .schemas(SCHEMA)
                .createSchemas(true)
                .table("schema_history")
                .locations("classpath:db/reclaim")
                .loggers("slf4j")
                .load()
                .migrate();
    }

    /** Whether Reclaim's tables exist yet (a dry run never creates them). */
    public static boolean schemaExists(Connection c) throws SQLException {
        try (var ps = c.prepareStatement("SELECT to_regclass('reclaim.pending_deletions') IS NOT NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Connection-level failures (SQLSTATE class 08) end the run; other errors belong to one item. */
    public static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }
}
