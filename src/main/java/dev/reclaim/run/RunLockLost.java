package dev.reclaim.run;

import java.sql.SQLException;

/**
 * The run no longer holds the run lock (its connection died: a failover, an idle timeout, a terminated backend), so
 * another run may already be working: this one must stop before its next page or drain.
 */
public final class RunLockLost extends SQLException {
    public RunLockLost(String message, Throwable cause) {
        super(message, cause);
    }
}
