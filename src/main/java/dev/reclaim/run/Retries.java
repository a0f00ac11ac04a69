package dev.reclaim.run;

import dev.reclaim.failure.Failure;
import dev.reclaim.failure.Failures;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.store.Store;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.sweep.Sweep;
import dev.reclaim.sweep.SweepContext;
import org.slf4j.MDC;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retries one failed item through the same code a run uses, in one context of its own: a record through its sweep's
 * claim and steps, an asset batch through its sweep's reference check, outbox keys straight to their store. Used by
 * the retry handler, {@code reclaim retry}, and a run without a retry queue for the failures stored in the database.
 */
public final class Retries {
    /** A records sweep retrying an item (its id), an assets sweep a batch of keys: null if done, else why it failed. */
    interface Retry<T> {
        String retry(SweepContext ctx, T failed) throws SQLException;
    }

    /** The one context a retried message runs in (a connection's {@code now()}, the prepared stores). */
    interface Contexts {
        SweepContext open(boolean dryRun) throws SQLException;
    }

    private final Map<String, Retry<String>> records;
    private final Map<String, Retry<List<String>>> assets;
    private final Contexts contexts;
    /** Where a record whose message waited on the queue is settled once its retry succeeds; null: nowhere. */
    private final Failures failures;

    Retries(Map<String, Retry<String>> records, Map<String, Retry<List<String>>> assets, Contexts contexts) {
        this(records, assets, contexts, null);
    }

    Retries(Map<String, Retry<String>> records, Map<String, Retry<List<String>>> assets, Contexts contexts, Failures failures) {
        this.records = records;
        this.assets = assets;
        this.contexts = contexts;
        this.failures = failures;
    }

    /** Each configured sweep's own retry, by name. */
    static Retries of(Map<String, Sweep> sweeps, Contexts contexts, Failures failures) {
        Map<String, Retry<String>> records = new LinkedHashMap<>();
        Map<String, Retry<List<String>>> assets = new LinkedHashMap<>();
        sweeps.forEach((name, sweep) -> {
            if (sweep instanceof RecordSweep r) {
                records.put(name, r::retry);
            } else if (sweep instanceof AssetSweep a) {
                assets.put(name, a::retry);
            }
        });
        return new Retries(records, assets, contexts, failures);
    }

    /** The same retries, each in a context {@code contexts} opens (a run's own, so its report counts them). */
    Retries within(Contexts contexts) {
        return new Retries(records, assets, contexts, failures);
    }

    /**
     * Returns null on success (including an item that is no longer eligible), else why it failed again. Throws
     * {@link InvalidFailure} for a message that can never succeed, and {@link dev.reclaim.store.StoreThrottled}
     * when the store's quota does not allow it now.
     */
    public String retry(Failure failure, boolean dryRun) throws SQLException {
        SweepContext ctx = contexts.open(dryRun);
        return switch (failure.kind() == null ? "" : failure.kind()) {
            case Failure.RECORD -> {
                Retry<String> records = sweep(this.records, "records", failure.sweep());
                if (failure.itemId() == null || failure.itemId().isBlank()) {
                    throw new InvalidFailure("a record failure needs itemId");
                }
                String error = records.retry(ctx, failure.itemId());
                if (error == null && !dryRun && failures != null) {
                    try (Connection c = ctx.dataSource().getConnection()) {
                        failures.settled(c, failure.sweep(), failure.itemId()); // records sweeps may take it again
                    }
                }
                yield error;
            }
            case Failure.ASSET -> {
                Retry<List<String>> assets = sweep(this.assets, "assets", failure.sweep());
                try {
                    yield assets.retry(ctx, requireKeys(failure));
                } catch (AssetSweep.OutsideTheSweep e) {
                    throw new InvalidFailure(e.getMessage());
                }
            }
            case Failure.DELETION -> {
                GuardedStore store = failure.store() == null ? null : ctx.stores().get(failure.store());
                if (store == null) {
                    throw new InvalidFailure("no store named '" + failure.store() + "'");
                }
                List<String> keys = requireKeys(failure);
                try {
                    yield store.again(keys, null, dryRun, ctx.events(), failure.sweep());
                } catch (GuardedStore.OutsidePrefixes e) {
                    throw new InvalidFailure(e.getMessage());
                }
            }
            default -> throw new InvalidFailure("unknown kind '" + failure.kind() + "' (record, asset, deletion)");
        };
    }

    /**
     * Without a retry queue the table is the queue: every failure stored before this call is retried once, in order,
     * until {@code deadline} (null: none) or {@code max}; a success deletes its row, a failure counts one more retry
     * and keeps the row for the next run. No connection is held while a retry runs (it needs the pool's).
     */
    Failures.Retried retryStored(Failures failures, DataSource ds, Instant deadline, long max) throws SQLException {
        long upTo = failures.lastStored(ds);
        long after = 0;
        long tried = 0;
        long succeeded = 0;
        while (tried < max && (deadline == null || Instant.now().isBefore(deadline))) {
            Failures.Stored next = failures.nextStored(ds, after, upTo);
            if (next == null) {
                break;
            }
            Failure f = next.failure();
            after = next.id();
            tried++;
            String error;
            String outer = MDC.get("correlationId");
            MDC.put("correlationId", f.correlationId()); // the retry's lines join those of the failure it retries
            try {
                error = retry(f, false);
            } catch (Exception e) {
                error = e.getClass().getSimpleName() + ": " + e.getMessage();
            } finally {
                if (outer == null) {
                    MDC.remove("correlationId");
                } else {
                    MDC.put("correlationId", outer);
                }
            }
            if (failures.retried(ds, next, error)) {
                succeeded++;
            }
        }
        return new Failures.Retried(tried, succeeded);
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
