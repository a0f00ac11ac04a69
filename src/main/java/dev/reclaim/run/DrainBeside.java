package dev.reclaim.run;

import org.slf4j.MDC;

import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * The outbox drain a records sweep starts after a page, run on a thread and connection of its own while the sweep
 * purges its next page: at most one at a time, and the sweep waits for it before starting the next, so drains stay
 * in order and one page behind at most. The keys are durable in the outbox either way; this only overlaps the store
 * calls and the drain's SQL with the next page's transactions.
 */
final class DrainBeside {
    /** Connections a run needs for it: the run lock, the sweep's, the drain's, the stores' reference checks. */
    static final int CONNECTIONS = 4;

    private final boolean room;
    private FutureTask<Void> running;

    /** {@code room}: whether the pool has a connection for a drain beside the sweep's; without, drains stay inline. */
    DrainBeside(boolean room) {
        this.room = room;
    }

    boolean room() {
        return room;
    }

    /** Starts {@code drain} on its own thread, with the caller's log context; the caller awaited the previous one. */
    synchronized void start(Callable<Void> drain) {
        if (running != null) {
            throw new IllegalStateException("a drain is still running beside the sweep");
        }
        Map<String, String> context = MDC.getCopyOfContextMap();
        running = new FutureTask<>(() -> {
            if (context != null) {
                MDC.setContextMap(context);
            }
            try {
                return drain.call();
            } finally {
                MDC.clear();
            }
        });
        Thread t = new Thread(running, "reclaim-drain");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Waits for the drain running beside the sweep, if any. Its error is thrown here, or, when the sweep is already
     * failing with {@code failing}, added to that one: either way nothing is left running when the sweep returns.
     */
    void await(Throwable failing) throws SQLException {
        FutureTask<Void> task;
        synchronized (this) {
            task = running;
            running = null;
        }
        if (task == null) {
            return;
        }
        Throwable error;
        try {
            task.get();
            return;
        } catch (ExecutionException e) {
            error = e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = new SQLException("interrupted while the outbox drain beside the sweep finished", e);
        }
        if (failing != null) {
            failing.addSuppressed(error);
            return;
        }
        if (error instanceof SQLException s) {
            throw s;
        }
        if (error instanceof RuntimeException r) {
            throw r;
        }
        if (error instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(error);
    }
}
