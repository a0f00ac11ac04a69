package dev.reclaim.store;

/**
 * The run's deadline passed before (or while) a store call could be made: the call was not made or was cut short.
 * Nothing is counted as failed; what was not done is left for the next run.
 */
public class StoreDeadlinePassed extends RuntimeException {
    public StoreDeadlinePassed(String message) {
        super(message);
    }

    public StoreDeadlinePassed(String message, Throwable cause) {
        super(message, cause);
    }
}
