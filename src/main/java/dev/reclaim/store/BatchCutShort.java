package dev.reclaim.store;

/**
 * The deadline passed while a refused batch was being split ({@link GuardedStore.Bisection}): some of its keys were settled before
 * it, the others were not sent. A {@link StoreDeadlinePassed}: nothing is counted as failed and every key of the
 * batch may be sent again (deleting a key that is already gone succeeds). {@link #settled()} tells what was done, for
 * callers that report it.
 */
final class BatchCutShort extends StoreDeadlinePassed {
    private final BatchResult settled;

    BatchCutShort(String message, BatchResult settled, StoreDeadlinePassed cause) {
        super(message, cause);
        this.settled = settled;
    }

    /** The keys deleted (or failed on their own) before the deadline; the batch's other keys were not sent. */
    public BatchResult settled() {
        return settled;
    }
}
