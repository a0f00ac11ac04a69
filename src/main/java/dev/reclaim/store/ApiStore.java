package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the stores behind a provider's API (S3, Cloudinary) share: name, guard, limits, the count of calls, and a
 * delete that enforces the batch limit and splits a batch the API refuses as malformed ({@link Bisection}).
 */
abstract class ApiStore implements Store {
    final AtomicLong calls = new AtomicLong();
    private final String name;
    private final PrefixGuard guard;
    private final int maxBatch;
    private final int maxListPage;
    private final int maxRefusedKeys;
    private final String batchLimit;

    /** {@code batchLimit}: the message's start when a delete is given more than {@code maxBatch} keys. */
    ApiStore(StoreConfig config, int maxBatch, int maxListPage, int maxRefusedKeys, String batchLimit) {
        this.name = config.name();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.maxBatch = maxBatch;
        this.maxListPage = maxListPage;
        this.maxRefusedKeys = maxRefusedKeys;
        this.batchLimit = batchLimit;
    }

    /** One delete call; {@link BatchRefused} when the API refuses it as a whole. */
    abstract BatchResult deleteCall(List<String> keys, Instant deadline);

    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        if (keys.size() > maxBatch) {
            throw new IllegalArgumentException(batchLimit + ", got " + keys.size());
        }
        if (keys.isEmpty()) {
            return new BatchResult(List.of(), Map.of());
        }
        return Bisection.delete(keys, maxRefusedKeys, part -> deleteCall(part, deadline));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int maxBatch() {
        return maxBatch;
    }

    @Override
    public int maxListPage() {
        return maxListPage;
    }

    @Override
    public PrefixGuard guard() {
        return guard;
    }

    @Override
    public long apiCalls() {
        return calls.get();
    }
}
