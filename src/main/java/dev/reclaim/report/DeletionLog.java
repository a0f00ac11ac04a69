package dev.reclaim.report;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One log line per hard delete and its outcome: a record purged (with its figures and the keys its rows owned), a
 * file or asset deleted, kept as still referenced, refused, or failed. Failures and refusals of a batch are one line
 * with the count and the first keys, so an outage of a store is a line per batch, not per key. Every line carries
 * {@code correlationId}, {@code sweep} and the item's id ({@code item}) or key ({@code store}, {@code key}) in its
 * MDC, so one item's lines are found by its {@code correlationId}.
 */
public final class DeletionLog implements RunEvents {
    /** How many keys a batch line names. */
    static final int FIRST_KEYS = 5;
    private static final Logger log = LoggerFactory.getLogger(DeletionLog.class);

    private boolean dryRun;
    /** The record each unsettled outbox key of this run came from (about one page's keys), for its correlation id. */
    private final Map<String, String> owners = new HashMap<>();

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.RunStarted e) {
            dryRun = e.dryRun();
            owners.clear();
        } else if (event instanceof RunEvent.ItemPurged e) {
            purged(e);
        } else if (event instanceof RunEvent.ItemSkipped e) {
            onItem(e.sweep(), e.item(), () -> log.info("record skipped: no longer eligible, or locked by the application",
                    kv("outcome", "skipped")));
        } else if (event instanceof RunEvent.ItemFailed e) {
            onItem(e.sweep(), e.item(), () -> log.warn("record {} at step {}: {}", e.refused() ? "refused" : "failed",
                    e.step(), e.error(), kv("outcome", e.refused() ? "refused" : "failed"), kv("step", e.step()),
                    kv("errorClass", e.errorClass())));
        } else if (event instanceof RunEvent.KeysDeleted e) {
            eachKey(e.sweep(), e.store(), e.keys(), e.source(),
                    dryRun && e.source() == RunEvent.Source.SWEEP ? "would be deleted" : "deleted", "deleted");
        } else if (event instanceof RunEvent.KeysKept e) {
            eachKey(e.sweep(), e.store(), e.keys(), e.source(), "kept: still referenced", "keptReferenced");
        } else if (event instanceof RunEvent.KeysRefused e) {
            batch(e.sweep(), e.store(), e.keys(), e.source(), "refused", "outside the store's allowed prefixes", null);
        } else if (event instanceof RunEvent.KeysFailed e) {
            batch(e.sweep(), e.store(), List.copyOf(e.reasons().keySet()), e.source(), "failed",
                    e.reasons().isEmpty() ? null : e.reasons().values().iterator().next(), e.errorClass());
        }
    }

    private void purged(RunEvent.ItemPurged e) {
        Map<String, Integer> keys = new LinkedHashMap<>();
        e.keys().forEach((store, list) -> {
            keys.put(store, list.size());
            if (!dryRun) {
                list.forEach(k -> owners.put(store + '\n' + k, e.item()));
            }
        });
        onItem(e.sweep(), e.item(), () -> log.info(dryRun ? "record would be purged" : "record purged",
                kv("outcome", "purged"), kv("figures", e.figures()), kv("keys", keys)));
    }

    /** A line about one record: its id and correlation id in the MDC for the line. */
    private void onItem(String sweep, String item, Runnable line) {
        withMdc(sweep, item, null, null, correlationId(item), line);
    }

    /** A line per key; an outbox key of a record purged in this run carries that record's correlation id. */
    private void eachKey(String sweep, String store, List<String> keys, RunEvent.Source source, String what,
                         String outcome) {
        String line = (source == RunEvent.Source.OUTBOX ? "file " : "asset ") + what;
        for (String key : keys) {
            String owner = source == RunEvent.Source.OUTBOX ? owners.remove(store + '\n' + key) : null;
            withMdc(sweep, owner, store, key, correlationId(owner != null ? owner : store + "/" + key),
                    () -> log.info(line, kv("outcome", outcome)));
        }
    }

    /** One line for a batch: the count and the first keys; one key is a line like any other key's. */
    private void batch(String sweep, String store, List<String> keys, RunEvent.Source source, String outcome,
                       String reason, String errorClass) {
        if (keys.isEmpty()) {
            return;
        }
        String what = (source == RunEvent.Source.OUTBOX ? "file" : "asset") + (keys.size() == 1 ? " " : "s ") + outcome;
        List<String> first = keys.subList(0, Math.min(FIRST_KEYS, keys.size()));
        String owner = source == RunEvent.Source.OUTBOX && keys.size() == 1 ? owners.get(store + '\n' + keys.get(0))
                : null;
        // The same correlation id as the failure recorded for this batch (runId/store/first key), or its record's.
        String correlationId = correlationId(owner != null ? owner : store + "/" + keys.get(0));
        withMdc(sweep, owner, store, keys.size() == 1 ? keys.get(0) : null, correlationId,
                () -> log.warn("{}{}: {}", keys.size() == 1 ? "" : keys.size() + " ", what, reason,
                        kv("outcome", outcome), kv("count", keys.size()), kv("firstKeys", first),
                        kv("source", source.name().toLowerCase(java.util.Locale.ROOT)), kv("errorClass", errorClass)));
    }

    /**
     * The correlation id in force (a retry carries the one of the failure it retries), else this run's id and
     * {@code what}: the same ids the failure pipeline gives a record ({@code runId/item}) and a batch of keys
     * ({@code runId/store/firstKey}).
     */
    private static String correlationId(String what) {
        String inForce = MDC.get("correlationId");
        return inForce != null ? inForce : MDC.get("runId") + "/" + what;
    }

    /** Runs {@code line} with the fields given (those not null) in the MDC, then puts the MDC back as it was. */
    public static void withMdc(String sweep, String item, String store, String key, String correlationId,
                               Runnable line) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        try {
            put("sweep", sweep);
            put("item", item);
            put("store", store);
            put("key", key);
            put("correlationId", correlationId);
            line.run();
        } finally {
            MDC.setContextMap(before == null ? Map.of() : before);
        }
    }

    private static void put(String name, String value) {
        if (value != null) {
            MDC.put(name, value);
        }
    }
}
