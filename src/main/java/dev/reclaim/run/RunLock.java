package dev.reclaim.run;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * One run at a time, across Lambda containers and CLI invocations: a session-level PostgreSQL advisory lock held on
 * its own connection for the whole run. A crashed run's lock goes with its connection.
 */
public final class RunLock implements AutoCloseable {
    /** "RECLAIM" in ASCII: the advisory lock key. */
    static final long KEY = 0x5245434C41494DL;

    private final Connection connection;

    private RunLock(Connection connection) {
        this.connection = connection;
    }

    public static Optional<RunLock> tryAcquire(DataSource ds) throws SQLException {
        Connection c = ds.getConnection();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return Optional.of(new RunLock(c));
                }
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        c.close();
        return Optional.empty();
    }

    /** The connection that holds the lock; usable for short bookkeeping statements. */
    public Connection connection() {
        return connection;
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = connection; PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            ps.execute();
        }
    }
}
