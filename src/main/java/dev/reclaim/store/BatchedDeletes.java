package dev.reclaim.store;

import dev.reclaim.db.ReferenceCheckFailed;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Deletes any number of keys in calls of at most {@link Store#maxBatch()}: the one loop the sweeps and the retries
 * share, so every caller sends the same batches with the same deadline and reads every result.
 */
public final class BatchedDeletes {

    /** What a caller does around each call; its failures propagate (StoreThrottled, deadline, reference check too). */
    public interface EachBatch<E extends Exception> {
        /** Before each call: false stops here (the caller's own time budget ran out). */
        default boolean proceed() throws E {
            return true;
        }

        /** The call failed whole for another reason than quota, deadline or reference check: rethrown unless handled. */
        default boolean failedWhole(List<String> batch, RuntimeException e) throws E {
            throw e;
        }

        /** After each call: false stops before the next batch. */
        boolean settled(List<String> batch, BatchResult result) throws E;
    }

    private BatchedDeletes() {
    }

    /** {@code items} in consecutive views of at most the store's {@link Store#maxBatch()}. */
    public static <T> List<List<T>> batches(Store store, List<T> items) {
        List<List<T>> out = new ArrayList<>();
        for (int from = 0; from < items.size(); from += store.maxBatch()) {
            out.add(items.subList(from, Math.min(items.size(), from + store.maxBatch())));
        }
        return out;
    }

    /** Returns true when every batch was sent, false when {@code each} stopped the loop. */
    public static <E extends Exception> boolean delete(Store store, List<String> keys, Instant deadline,
                                                       EachBatch<E> each) throws E {
        for (List<String> batch : batches(store, keys)) {
            if (!each.proceed()) {
                return false;
            }
            BatchResult result;
            try {
                result = store.delete(batch, deadline);
            } catch (StoreThrottled | StoreDeadlinePassed | ReferenceCheckFailed e) {
                throw e;
            } catch (RuntimeException e) {
                if (!each.failedWhole(batch, e)) {
                    return false;
                }
                continue;
            }
            if (!each.settled(batch, result)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Deletes keys of a failure once more, stopping at the first batch with failed keys: null when every key was
     * deleted (or kept as still in use), else why they failed again. A failed reference check is such a reason.
     */
    public static String again(Store store, List<String> keys, Instant deadline) {
        String[] why = {null};
        try {
            delete(store, keys, deadline, (batch, r) -> {
                if (!r.failed().isEmpty()) {
                    why[0] = r.failed().size() + " of " + keys.size() + " keys failed again: "
                            + r.failed().values().iterator().next();
                }
                return why[0] == null;
            });
        } catch (ReferenceCheckFailed e) {
            return e.getMessage();
        }
        return why[0];
    }
}
