package dev.reclaim.handler;

import dev.reclaim.testing.TestSettings;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.db.Database;
import dev.reclaim.testing.TestPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The SnapStart hook, called directly as the runtime calls it around a snapshot, on a real pool and PostgreSQL. */
class SnapStartHookIT {
    private HikariDataSource pool;
    private HikariDataSource observer;
    private SnapStartHook hook;

    @BeforeEach
    void setUp() {
        String url = TestPostgres.freshDatabase();
        pool = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", url)).database());
        observer = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", url)).database());
        hook = new SnapStartHook(pool);
    }

    @AfterEach
    void tearDown() {
        pool.close();
        observer.close();
    }

    @Test
    void shouldCloseThePoolsConnections_beforeTheSnapshot() throws Exception {
        int primed = backendPid(pool);
        assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isEqualTo(1);

        hook.beforeCheckpoint(null);

        assertThat(pool.getHikariPoolMXBean().getTotalConnections()).isZero();
        assertThat(backendGone(primed)).as("the server-side session of the primed connection ends").isTrue();
    }

    @Test
    void shouldNeverLendAConnectionOpenedBeforeTheSnapshot_afterARestore() throws Exception {
        int beforeSnapshot = backendPid(pool);

        hook.afterRestore(null);

        assertThat(backendPid(pool)).isNotEqualTo(beforeSnapshot);
        assertThat(backendGone(beforeSnapshot)).isTrue();
    }

    @Test
    void shouldRetireAConnectionInUseAtTheSnapshot_whenItIsReturned() throws Exception {
        int inUse;
        try (Connection c = pool.getConnection()) {
            inUse = pid(c);
            hook.beforeCheckpoint(null);
            hook.afterRestore(null);
        }

        assertThat(backendPid(pool)).isNotEqualTo(inUse);
        assertThat(backendGone(inUse)).isTrue();
    }

    @Test
    void shouldDoNothing_whenThePoolIsClosedOrNotAHikariPool() throws Exception {
        pool.close();

        hook.beforeCheckpoint(null);
        new SnapStartHook(null).afterRestore(null);

        assertThat(pool.isClosed()).isTrue();
    }

    private static int backendPid(HikariDataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return pid(c);
        }
    }

    private static int pid(Connection c) throws SQLException {
        try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Hikari closes evicted connections on a background thread: wait up to 5 s for the session to end. */
    private boolean backendGone(int pid) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (Connection c = observer.getConnection();
                 var ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
                ps.setInt(1, pid);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) == 0) {
                        return true;
                    }
                }
            }
            Thread.sleep(50);
        }
        return false;
    }
}
