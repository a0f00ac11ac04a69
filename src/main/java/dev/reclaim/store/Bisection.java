package dev.reclaim.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Deletes a batch through one store call and, when the store refuses the whole request as malformed
 * ({@link BatchRefused}: one key it cannot accept, such as one holding a control character), splits it in halves,
 * recursively, until each refused key stands alone: only those keys fail, each with its own error; the others are
 * deleted. One bad key among n costs about 2·log2(n) extra calls (every call counts in the store's
 * {@code apiCalls()}).
 *
 * <p>Bounded: once {@code maxRefusedKeys} keys of one batch were refused alone, the store is refusing more than odd
 * keys (a refusal that has nothing to do with the keys), and a further refused part fails whole with its error, as
 * an unsplit batch would. The deadline stops the splitting: {@link StoreDeadlinePassed} when nothing was settled yet,
 * else {@link BatchCutShort} with what was.
 */
final class Bisection {

    /** One store call deleting {@code keys}; throws {@link BatchRefused} when the store refuses it as malformed. */
    interface DeleteCall {
        BatchResult delete(List<String> keys);
    }

    private final DeleteCall call;
    private final int maxRefusedKeys;
    private final List<String> deleted = new ArrayList<>();
    private final Map<String, String> failed = new LinkedHashMap<>();
    private final Map<String, String> versions = new LinkedHashMap<>();
    private int refusedAlone;

    private Bisection(DeleteCall call, int maxRefusedKeys) {
        this.call = call;
        this.maxRefusedKeys = maxRefusedKeys;
    }

    static BatchResult delete(List<String> keys, int maxRefusedKeys, DeleteCall call) {
        Bisection b = new Bisection(call, maxRefusedKeys);
        try {
            b.settle(keys);
        } catch (StoreDeadlinePassed e) {
            if (b.deleted.isEmpty() && b.failed.isEmpty()) {
                throw e;
            }
            throw new BatchCutShort("deadline passed while splitting a refused batch of " + keys.size() + " keys: "
                    + b.deleted.size() + " deleted, " + b.failed.size() + " failed, the rest not sent ("
                    + e.getMessage() + ")", b.result(), e);
        }
        return b.result();
    }

    private void settle(List<String> keys) {
        BatchResult r;
        try {
            r = call.delete(keys);
        } catch (BatchRefused e) {
            if (keys.size() == 1) {
                refusedAlone++;
                failed.put(keys.get(0), e.getMessage());
            } else if (refusedAlone >= maxRefusedKeys) {
                String why = e.getMessage() + " (not split further: " + refusedAlone + " keys of this batch were refused already)";
                keys.forEach(k -> failed.put(k, why));
            } else {
                int half = keys.size() / 2;
                settle(keys.subList(0, half));
                settle(keys.subList(half, keys.size()));
            }
            return;
        }
        deleted.addAll(r.deleted());
        failed.putAll(r.failed());
        versions.putAll(r.versions());
    }

    private BatchResult result() {
        return new BatchResult(List.copyOf(deleted), new LinkedHashMap<>(failed), List.of(), new LinkedHashMap<>(versions));
    }
}
