package dev.reclaim.store;

import dev.reclaim.db.ReferenceCheckFailed;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Deletes keys in calls of at most {@link Store#maxBatch()}, the same way for the sweeps, the outbox and the retries:
 * the same batches, the same deadline, every result read, a call that failed whole counted as every key failed.
 */
public final class BatchedDeletes {

    /**
     * One call's result and the error class its failed keys report: {@code PerKeyError}, or for a call that failed
     * whole the class of its exception (or of that exception's cause), every key failed with its message.
     */
    public record Call(BatchResult result, String errorClass) {
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

    /** Deletes one batch; quota, deadline and reference check failures propagate, as they stop the caller. */
    public static Call call(Store store, List<String> batch, Instant deadline) {
        return call(store, batch, Map.of(), deadline);
    }

    /** The same, with what a listing said of each key (its path for the guard, its bytes for the journal). */
    public static Call call(Store store, List<String> batch, Map<String, StoredAsset> listed, Instant deadline) {
        try {
            return new Call(store.delete(batch, listed, deadline), "PerKeyError");
        } catch (StoreThrottled | StoreDeadlinePassed | ReferenceCheckFailed e) {
            throw e;
        } catch (RuntimeException e) {
            return new Call(BatchResult.allFailed(batch, e.getClass().getSimpleName() + ": " + e.getMessage()),
                    (e.getCause() != null ? e.getCause() : e).getClass().getName());
        }
    }

    /** The calls {@code store} made since it had made {@code callsBefore}, and the quota it last saw. */
    public static void reportCalls(RunEvents events, String sweep, Store store, long callsBefore) {
        events.emit(new RunEvent.ApiCalls(sweep, store.name(), store.apiCalls() - callsBefore));
        RunEvent.QuotaSeen quota = store.quotaSeen();
        if (quota != null) {
            events.emit(quota);
        }
    }

    /** A failure's keys that the store would refuse: retrying them can never succeed. */
    public static final class OutsidePrefixes extends RuntimeException {
        OutsidePrefixes(String message) {
            super(message);
        }
    }

    /**
     * Deletes keys of a failure once more, stopping at the first batch with failed keys: null when every key was
     * deleted (or kept as still in use), else why they failed again. A failed reference check is such a reason; a
     * call that failed whole throws, and so does a key outside the store's prefixes ({@link OutsidePrefixes}, before
     * any call). A dry run only checks the prefixes.
     */
    public static String again(Store store, List<String> keys, Instant deadline, boolean dryRun) {
        for (String k : keys) {
            if (!store.guard().allows(k)) {
                throw new OutsidePrefixes("key " + k + " is outside the allowed prefixes of store " + store.name());
            }
        }
        if (dryRun) {
            return null;
        }
        try {
            for (List<String> batch : batches(store, keys)) {
                BatchResult r = store.delete(batch, deadline);
                if (!r.failed().isEmpty()) {
                    return r.failed().size() + " of " + keys.size() + " keys failed again: "
                            + r.failed().values().iterator().next();
                }
            }
        } catch (ReferenceCheckFailed e) {
            return e.getMessage();
        }
        return null;
    }
}
