package dev.reclaim.bench;

import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Listing;
import dev.reclaim.store.Store;
import dev.reclaim.testing.ForwardingStore;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps a real store (everything is delegated unchanged) to count the engine's list and delete calls and keys, and,
 * for heap runs, to take a forced heap sample inside the sweep: on every {@code sampleEvery}-th listed page (page
 * in hand) and on the first delete after it (page, candidates, orphans and the batch in hand).
 */
final class AssetProbeStore extends ForwardingStore {
    private final AtomicLong lists = new AtomicLong();
    private final AtomicLong deletes = new AtomicLong();
    private final AtomicLong keysListed = new AtomicLong();
    private final AtomicLong keysDeleted = new AtomicLong();
    private volatile HeapMeter meter;
    private volatile int sampleEvery = 1;
    private volatile boolean sampleNextDelete;
    /** Calibration only: keep every listed page, as a leaking sweep would (proves the heap figure can see it). */
    private final java.util.List<Listing> retained = new java.util.ArrayList<>();
    private volatile boolean retainListed;

    AssetProbeStore(Store delegate) {
        super(delegate);
    }

    void sampleHeap(HeapMeter meter, int every) {
        this.meter = meter;
        this.sampleEvery = Math.max(1, every);
    }

    void retainListed(boolean on) {
        this.retainListed = on;
    }

    long lists() {
        return lists.get();
    }

    long deletes() {
        return deletes.get();
    }

    long keysListed() {
        return keysListed.get();
    }

    long keysDeleted() {
        return keysDeleted.get();
    }

    @Override
    public BatchResult delete(List<String> keys, java.time.Instant deadline) {
        deletes.incrementAndGet();
        HeapMeter m = meter;
        if (m != null && sampleNextDelete) {
            sampleNextDelete = false;
            m.forcedSample();
        }
        BatchResult r = super.delete(keys, deadline);
        keysDeleted.addAndGet(r.deleted().size());
        return r;
    }

    @Override
    public Listing list(String prefix, java.time.Instant createdBefore, String cursor, java.time.Instant deadline) {
        long n = lists.incrementAndGet();
        Listing page = super.list(prefix, createdBefore, cursor, deadline);
        keysListed.addAndGet(page.assets().size());
        if (retainListed) {
            synchronized (retained) {
                retained.add(page);
            }
        }
        HeapMeter m = meter;
        if (m != null && (n - 1) % sampleEvery == 0) {
            m.forcedSample();
            sampleNextDelete = true;
        }
        return page;
    }

}
