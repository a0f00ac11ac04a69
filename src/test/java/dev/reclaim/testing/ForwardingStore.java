package dev.reclaim.testing;

import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Listing;
import dev.reclaim.store.PrefixGuard;
import dev.reclaim.store.Store;

import java.time.Instant;
import java.util.List;

/** Delegates to a real store; tests override one method to observe or break it. */
public class ForwardingStore implements Store {
    private final Store delegate;

    public ForwardingStore(Store delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public int maxBatch() {
        return delegate.maxBatch();
    }

    @Override
    public PrefixGuard guard() {
        return delegate.guard();
    }

    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        return delegate.delete(keys, deadline);
    }

    @Override
    public java.util.Map<String, dev.reclaim.store.StoredAsset> lookUp(List<String> keys, Instant deadline) {
        return delegate.lookUp(keys, deadline);
    }

    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        return delegate.list(prefix, createdBefore, cursor, deadline);
    }

    @Override
    public String listingScope() {
        return delegate.listingScope();
    }

    @Override
    public long apiCalls() {
        return delegate.apiCalls();
    }

    @Override
    public void prepare(Instant deadline) {
        delegate.prepare(deadline);
    }

    @Override
    public boolean keysArePaths() {
        return delegate.keysArePaths();
    }

    @Override
    public String folderMode() {
        return delegate.folderMode();
    }
}
