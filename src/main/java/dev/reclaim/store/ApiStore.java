package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the stores behind a provider's API (S3, Cloudinary) share: name, guard, limits, the count of calls, the time
 * left before a deadline, and a delete that enforces the batch limit and splits a batch the API refuses as malformed
 * ({@link Bisection}).
 */
abstract class ApiStore implements Store {
    final AtomicLong calls = new AtomicLong();
    final Clock clock;
    private final String name;
    private final PrefixGuard guard;
    private final int maxBatch;
    private final int maxRefusedKeys;
    private final String batchLimit;

    /** {@code batchLimit}: the message's start when a delete is given more than {@code maxBatch} keys. */
    ApiStore(StoreConfig config, Clock clock, int maxBatch, int maxRefusedKeys, String batchLimit) {
        this.clock = clock;
        this.name = config.name();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.maxBatch = maxBatch;
        this.maxRefusedKeys = maxRefusedKeys;
        this.batchLimit = batchLimit;
    }

    /**
     * The time {@code call} may take, what is left before {@code deadline} (null when there is none); throws
     * {@link StoreDeadlinePassed} when none is left, so the call is not made.
     */
    Duration timeLeft(Instant deadline, String call) {
        if (deadline == null) {
            return null;
        }
        Duration left = Duration.between(clock.instant(), deadline);
        if (left.compareTo(Duration.ofMillis(1)) < 0) {
            throw new StoreDeadlinePassed(call + " not made: the run's deadline (" + deadline + ") has passed");
        }
        return left;
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
    public PrefixGuard guard() {
        return guard;
    }

    @Override
    public long apiCalls() {
        return calls.get();
    }
}
