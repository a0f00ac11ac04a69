package dev.reclaim.store;

import java.time.Instant;

/**
 * The store's API quota is spent, or down to the reserve kept for the application: work on this store stops for the
 * run, nothing is counted as failed, and the next run carries on after {@link #resetsAt()}.
 */
public class StoreThrottled extends RuntimeException {
    private final Instant resetsAt;

    public StoreThrottled(String message, Instant resetsAt) {
        super(message);
        this.resetsAt = resetsAt;
    }

    public Instant resetsAt() {
        return resetsAt;
    }
}
