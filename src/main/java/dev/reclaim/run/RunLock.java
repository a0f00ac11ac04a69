package dev.reclaim.run;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * One run at a time, across Lambda containers and CLI invocations: a session-level PostgreSQL advisory lock held on
 * its own connection for the whole run. A crashed run's lock goes with its connection, and so does a live run's when
 * that connection dies: the run {@link #verify() verifies} it before each page and each drain.
 */
final class RunLock implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunLock.class);

    /** "RECLAIM" in ASCII: the advisory lock key. */
    static final long KEY = 0x5245434C41494DL;

    /** A bigint advisory lock shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1. */
    private static final String HELD = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            + " AND pid = pg_backend_pid() AND granted AND classid::bigint = " + (KEY >>> 32)
            + " AND objid::bigint = " + (KEY & 0xFFFFFFFFL) + " AND objsubid = 1)";

    private final Connection connection;

    private RunLock(Connection connection) {
        this.connection = connection;
    }

    public static Optional<RunLock> tryAcquire(DataSource ds) throws SQLException {
        Connection c = ds.getConnection();
        boolean locked = false;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                locked = rs.getBoolean(1);
            }
        } finally {
            if (!locked) {
                c.close();
            }
        }
        return locked ? Optional.of(new RunLock(c)) : Optional.empty();
    }

    /** The connection that holds the lock; usable for short bookkeeping statements. */
    public Connection connection() {
        return connection;
    }

    /**
     * One cheap query on the lock's own connection: this session still holds the lock. Throws {@link RunLockLost}
     * when it does not, or when the connection is gone (and the lock with it).
     */
    public void verify() throws RunLockLost {
        boolean held;
        try (PreparedStatement ps = connection.prepareStatement(HELD); ResultSet rs = ps.executeQuery()) {
            held = rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            throw new RunLockLost("lost the run lock (its connection failed: " + e.getMessage() + ")", e);
        }
        if (!held) {
            throw new RunLockLost("lost the run lock (its session no longer holds it)", null);
        }
    }

    /** Releases the lock. Never throws: a lock whose connection failed is already gone with it. */
    @Override
    public void close() {
        try (Connection c = connection; PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, KEY);
            ps.execute();
        } catch (SQLException e) {
            log.warn("could not release the run lock (it goes with its connection): {}", e.getMessage());
        }
    }
}
