package dev.reclaim.failure;

import dev.reclaim.store.BatchedDeletes;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * Retries one failed item through the same code a run uses: a record through its sweep's claim and steps, an asset
 * batch through its sweep's reference check, outbox keys straight to their store. The sweeps are given as functions
 * so that this package stays below them.
 */
public final class Retries {
    /** A records sweep retrying one item: null when done or no longer eligible, else why it failed again. */
    public interface RecordRetry {
        String retry(String itemId, boolean dryRun) throws SQLException;
    }

    /** An assets sweep retrying a batch of keys: null when done, else why it failed again. */
    public interface AssetRetry {
        String retry(List<String> keys, boolean dryRun) throws SQLException;
    }

    /** The stores, each behind its reference check, once the run is prepared (SQL checked, schema migrated). */
    public interface PreparedStores {
        Stores prepare(boolean dryRun) throws SQLException;
    }

    private final Map<String, RecordRetry> records;
    private final Map<String, AssetRetry> assets;
    private final PreparedStores stores;

    public Retries(Map<String, RecordRetry> records, Map<String, AssetRetry> assets, PreparedStores stores) {
        this.records = records;
        this.assets = assets;
        this.stores = stores;
    }

    /**
     * Returns null on success (including an item that is no longer eligible), else why it failed again. Throws
     * {@link InvalidFailure} for a message that can never succeed, and {@link dev.reclaim.store.StoreThrottled}
     * when the store's quota does not allow it now.
     */
    public String retry(Failure failure, boolean dryRun) throws SQLException {
        Stores prepared = stores.prepare(dryRun);
        return switch (failure.kind() == null ? "" : failure.kind()) {
            case Failure.RECORD -> {
                RecordRetry records = sweep(this.records, "records", failure.sweep());
                if (failure.itemId() == null || failure.itemId().isBlank()) {
                    throw new InvalidFailure("a record failure needs itemId");
                }
                yield records.retry(failure.itemId(), dryRun);
            }
            case Failure.ASSET -> sweep(assets, "assets", failure.sweep()).retry(requireKeys(failure), dryRun);
            case Failure.DELETION -> {
                Store store = failure.store() == null ? null : prepared.get(failure.store());
                if (store == null) {
                    throw new InvalidFailure("no store named '" + failure.store() + "'");
                }
                List<String> keys = requireKeys(failure);
                for (String k : keys) {
                    if (!store.guard().allows(k)) {
                        throw new InvalidFailure("key " + k + " is outside the allowed prefixes of store " + store.name());
                    }
                }
                yield dryRun ? null : BatchedDeletes.again(store, keys, null);
            }
            default -> throw new InvalidFailure("unknown kind '" + failure.kind() + "' (record, asset, deletion)");
        };
    }

    private static <T> T sweep(Map<String, T> sweeps, String type, String name) {
        T sweep = name == null ? null : sweeps.get(name);
        if (sweep == null) {
            throw new InvalidFailure("no " + type + " sweep named '" + name + "'");
        }
        return sweep;
    }

    private static List<String> requireKeys(Failure failure) {
        if (failure.keys() == null || failure.keys().isEmpty() || failure.keys().stream().anyMatch(k -> k == null || k.isBlank())) {
            throw new InvalidFailure("a " + failure.kind() + " failure needs store and keys");
        }
        return failure.keys();
    }
}
