package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.S3Error;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** An S3 bucket. DeleteObjects takes up to 1000 keys; its per-key {@code Errors} arrive inside an HTTP 200. */
public final class S3Store implements Store {
    public static final int MAX_BATCH = 1000;
    public static final int MAX_LIST_PAGE = 1000;

    private final String name;
    private final String bucket;
    private final PrefixGuard guard;
    private final S3Client s3;
    private final AtomicLong calls = new AtomicLong();

    public S3Store(StoreConfig.S3 config, S3Client s3) {
        this.name = config.name();
        this.bucket = config.bucket();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.s3 = s3;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int maxBatch() {
        return MAX_BATCH;
    }

    @Override
    public PrefixGuard guard() {
        return guard;
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        if (keys.size() > MAX_BATCH) {
            throw new IllegalArgumentException("S3 DeleteObjects takes at most " + MAX_BATCH + " keys, got " + keys.size());
        }
        if (keys.isEmpty()) {
            return new BatchResult(List.of(), Map.of());
        }
        List<ObjectIdentifier> objects = new ArrayList<>(keys.size());
        for (String k : keys) {
            objects.add(ObjectIdentifier.builder().key(k).build());
        }
        // Quiet mode: the answer lists only the keys that failed.
        calls.incrementAndGet();
        DeleteObjectsResponse response = s3.deleteObjects(b -> b.bucket(bucket)
                .delete(Delete.builder().objects(objects).quiet(true).build()));
        Map<String, String> failed = new LinkedHashMap<>();
        for (S3Error e : response.errors()) {
            failed.put(e.key(), e.code() + ": " + e.message());
        }
        List<String> deleted = new ArrayList<>(keys.size() - failed.size());
        for (String k : keys) {
            if (!failed.containsKey(k)) {
                deleted.add(k);
            }
        }
        return new BatchResult(deleted, failed);
    }

    @Override
    public int maxListPage() {
        return MAX_LIST_PAGE;
    }

    @Override
    public Listing list(String prefix, String cursor, Instant deadline) {
        calls.incrementAndGet();
        ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).maxKeys(MAX_LIST_PAGE)
                .continuationToken(cursor));
        List<StoredAsset> assets = new ArrayList<>(page.contents().size());
        for (S3Object o : page.contents()) {
            assets.add(new StoredAsset(o.key(), o.lastModified(), o.size() == null ? 0 : o.size()));
        }
        return new Listing(assets, Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null);
    }

    @Override
    public long apiCalls() {
        return calls.get();
    }
}
