package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An S3 bucket. DeleteObjects takes up to 1000 keys; its per-key {@code Errors} arrive inside an HTTP 200. A request
 * S3 refuses whole as malformed (a key with a control character makes its XML body invalid) is split until only the
 * keys S3 refuses alone fail ({@link GuardedStore.Bisection}). A service that does not implement DeleteObjects (HTTP 501)
 * fails the call, naming {@code batchDelete: false}, with which the store deletes one key a DeleteObject call instead.
 * Every call's total time, the SDK's own retries included, is capped by the time left before the deadline it is given.
 */
final class S3Store implements Store {
    public static final int MAX_BATCH = 1000;
    /** Keys one delete call settles with one DeleteObject each: the reference check before it stays seconds old. */
    static final int MAX_SINGLE_BATCH = 100;
    public static final int MAX_LIST_PAGE = 1000;
    /** Refused keys isolated per batch before a refusal is taken as not about the keys (calls are cheap on S3). */
    static final int MAX_REFUSED_KEYS = 10;
    // 400s about the request's content. Others (credentials, signature, region, RequestTimeout, 403 AccessDenied,
    // 404 NoSuchBucket) would be refused whatever the keys: splitting would only multiply calls.
    private static final Set<String> MALFORMED = Set.of("MalformedXML", "InvalidArgument", "KeyTooLongError");

    private final String bucket;
    private final S3Client s3;
    /** False: the service does not implement DeleteObjects, so each key is one DeleteObject call. */
    private final boolean batchDelete;
    /** Null until {@link #prepare} asked the bucket; then null again when versioned (deletions undoable), else why not. */
    private volatile String notUndoable = "the bucket's versioning was not asked yet";
    private volatile boolean versioned;

    private final String name;
    private final PrefixGuard guard;
    private final AtomicLong calls = new AtomicLong();
    private final Clock clock = Clock.systemUTC();

    public S3Store(StoreConfig.S3 config, S3Client s3) {
        this.name = config.name();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.bucket = config.bucket();
        this.s3 = s3;
        this.batchDelete = config.batchDelete();
    }

    /**
     * One DeleteObjects call ({@link BatchRefused} when S3 refuses the whole request as malformed), or with
     * {@code batchDelete: false} one DeleteObject call a key.
     */
    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        if (keys.size() > maxBatch()) {
            throw new IllegalArgumentException("S3 " + (batchDelete ? "DeleteObjects" : "store " + name + " (batchDelete:"
                    + " false)") + " takes at most " + maxBatch() + " keys" + ", got " + keys.size());
        }
        if (keys.isEmpty()) {
            return new BatchResult(List.of(), Map.of());
        }
        if (!batchDelete) {
            return deleteEach(keys, deadline);
        }
        List<ObjectIdentifier> objects = keys.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
        DeleteObjectsResponse response;
        boolean quiet = !versioned; // a versioned bucket's answer names each delete marker: the journal keeps them
        try {
            // Quiet mode: the answer lists only the keys that failed.
            response = call("DeleteObjects", deadline, capped -> s3.deleteObjects(b -> b.bucket(bucket)
                    .delete(Delete.builder().objects(objects).quiet(quiet).build()).overrideConfiguration(capped)));
        } catch (S3Exception e) {
            if (refusedAsMalformed(e)) {
                String code = errorCode(e);
                throw new BatchRefused("refused by S3 (HTTP " + e.statusCode() + (code == null ? "" : " " + code)
                        + ") in a request of " + keys.size() + (keys.size() == 1 ? " key" : " keys"), e);
            }
            if (e.statusCode() == 501) { // never a silent fallback: single deletes only when the store says so
                throw new UnsupportedOperationException("S3 DeleteObjects on bucket " + bucket + " is not implemented by"
                        + " the service (HTTP 501" + (errorCode(e) == null ? "" : " " + errorCode(e)) + "): set"
                        + " batchDelete: false on store " + name + " to delete one key a call", e);
            }
            throw withCode(e);
        }
        Map<String, String> failed = new LinkedHashMap<>();
        for (S3Error e : response.errors()) {
            failed.put(e.key(), e.code() + ": " + e.message());
        }
        Map<String, String> markers = new LinkedHashMap<>();
        response.deleted().stream().filter(d -> d.deleteMarkerVersionId() != null)
                .forEach(d -> markers.put(d.key(), d.deleteMarkerVersionId()));
        return new BatchResult(keys.stream().filter(k -> !failed.containsKey(k)).toList(), failed, List.of(), markers);
    }

    /**
     * One DeleteObject call a key ({@code batchDelete: false}). A key the service refuses fails alone; a refusal that
     * cannot be about the key (credentials, bucket, an unimplemented call, a 5xx, no answer) fails it and the keys
     * after it, unsent. The deadline passing part-way gives {@link BatchCutShort} with what was settled.
     */
    private BatchResult deleteEach(List<String> keys, Instant deadline) {
        List<String> deleted = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        // No marker is recorded: a service may answer DeleteObject with the object's own version id (S3Mock does), which
        // restore would delete for good; restore looks the current delete marker up instead.
        Map<String, String> markers = Map.of();
        for (int i = 0; i < keys.size(); i++) {
            String k = keys.get(i);
            try {
                call("DeleteObject", deadline, capped -> s3.deleteObject(b -> b.bucket(bucket).key(k)
                        .overrideConfiguration(capped)));
                deleted.add(k);
            } catch (StoreDeadlinePassed e) {
                if (deleted.isEmpty() && failed.isEmpty()) {
                    throw e;
                }
                throw new BatchCutShort("deadline passed after " + i + " of " + keys.size() + " single deletes: "
                        + deleted.size() + " deleted, " + failed.size() + " failed, the rest not sent (" + e.getMessage()
                        + ")", new BatchResult(deleted, failed, List.of(), markers), e);
            } catch (S3Exception e) {
                String why = e.statusCode() + (errorCode(e) == null ? "" : " " + errorCode(e)) + ": "
                        + (e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage());
                failed.put(k, why);
                if (!aboutTheKey(e)) {
                    keys.subList(i + 1, keys.size()).forEach(rest -> failed.put(rest, "not sent: " + why));
                    break;
                }
            } catch (SdkClientException e) {
                keys.subList(i, keys.size()).forEach(rest -> failed.put(rest, "SdkClientException: " + e.getMessage()));
                break;
            }
        }
        return new BatchResult(deleted, failed, List.of(), markers);
    }

    /** A refusal a single key can earn (a malformed key, a policy on its prefix); any other stops the batch. */
    private static boolean aboutTheKey(S3Exception e) {
        return e.statusCode() == 400 && !e.isThrottlingException() || "AccessDenied".equals(errorCode(e));
    }

    /** Asks whether the bucket keeps versions: only then can a deletion be undone (its delete marker removed). */
    @Override
    public void prepare(Instant deadline) {
        try {
            BucketVersioningStatus status = call("GetBucketVersioning", deadline,
                    capped -> s3.getBucketVersioning(b -> b.bucket(bucket).overrideConfiguration(capped))).status();
            versioned = status == BucketVersioningStatus.ENABLED;
            notUndoable = versioned ? null : "bucket " + bucket + " does not keep versions (versioning "
                    + (status == null ? "never enabled" : status.toString().toLowerCase(java.util.Locale.ROOT))
                    + "): a deleted object is gone for good";
        } catch (S3Exception e) {
            versioned = false;
            notUndoable = e.statusCode() == 501
                    ? "the service of bucket " + bucket + " does not implement GetBucketVersioning (501"
                            + (errorCode(e) == null ? "" : " " + errorCode(e)) + "): it keeps no versions Reclaim can"
                            + " restore, so deletions are not undoable"
                    : "bucket " + bucket + " did not say whether it keeps versions (" + e.statusCode()
                            + (errorCode(e) == null ? "" : " " + errorCode(e)) + "): deletions are taken as not undoable";
        }
    }

    @Override
    public String notUndoable() {
        return notUndoable;
    }

    /**
     * Removes each key's delete marker by its version id (1000 a call): the version before it becomes current again.
     * A key whose marker was not recorded (a service that leaves it out of its answer) has it looked up: the key's
     * current version must be a delete marker; a key whose current version is an object is already present.
     */
    @Override
    public Restored restore(List<String> keys, Map<String, String> versions, Instant deadline) {
        Map<String, String> notRestorable = new LinkedHashMap<>();
        List<String> present = new ArrayList<>();
        List<ObjectIdentifier> markers = new ArrayList<>();
        for (String k : keys) {
            String version = versions.get(k);
            if (!guard().allows(k)) {
                notRestorable.put(k, "outside the allowed prefixes of store " + name());
                continue;
            }
            if (version == null && versioned) {
                version = currentDeleteMarker(k, deadline, present);
            }
            if (version != null) {
                markers.add(ObjectIdentifier.builder().key(k).versionId(version).build());
            } else if (!present.contains(k)) {
                notRestorable.put(k, versioned ? "no earlier version of it is kept (expired, or deleted for good)"
                        : "no delete marker was recorded: bucket " + bucket + " did not keep versions when it was deleted");
            }
        }
        List<String> restored = new ArrayList<>();
        if (!markers.isEmpty() && !batchDelete) {
            for (ObjectIdentifier m : markers) {
                try {
                    call("DeleteObject (restore)", deadline, capped -> s3.deleteObject(b -> b.bucket(bucket).key(m.key())
                            .versionId(m.versionId()).overrideConfiguration(capped)));
                    restored.add(m.key());
                } catch (S3Exception e) {
                    notRestorable.put(m.key(), errorCode(e) + ": " + e.getMessage());
                }
            }
        } else if (!markers.isEmpty()) {
            DeleteObjectsResponse response = call("DeleteObjects (restore)", deadline, capped -> s3.deleteObjects(b -> b
                    .bucket(bucket).delete(Delete.builder().objects(markers).quiet(true).build())
                    .overrideConfiguration(capped)));
            for (S3Error e : response.errors()) {
                notRestorable.put(e.key(), e.code() + ": " + e.message());
            }
            markers.stream().map(ObjectIdentifier::key).filter(k -> !notRestorable.containsKey(k)).forEach(restored::add);
        }
        return new Restored(restored, List.copyOf(present), notRestorable);
    }

    /** The version id of {@code key}'s delete marker when it is the current version; null (and present) else. */
    private String currentDeleteMarker(String key, Instant deadline, List<String> present) {
        ListObjectVersionsResponse page = call("ListObjectVersions", deadline, capped -> s3.listObjectVersions(b -> b
                .bucket(bucket).prefix(key).maxKeys(1000).overrideConfiguration(capped)));
        boolean current = page.versions().stream().anyMatch(v -> key.equals(v.key()) && Boolean.TRUE.equals(v.isLatest()));
        if (current) {
            present.add(key);
            return null;
        }
        boolean older = page.versions().stream().anyMatch(v -> key.equals(v.key()));
        return older ? page.deleteMarkers().stream().filter(m -> key.equals(m.key()) && Boolean.TRUE.equals(m.isLatest()))
                .map(DeleteMarkerEntry::versionId).findFirst().orElse(null) : null;
    }

    /**
     * A 400 about the request's content: one of {@link #MALFORMED}, or a bare 400 without an error code (as S3Mock
     * answers malformed XML). Throttling is never a refusal.
     */
    static boolean refusedAsMalformed(S3Exception e) {
        if (e.statusCode() != 400 || e.isThrottlingException()) {
            return false;
        }
        String code = errorCode(e);
        return code == null || code.isEmpty() || MALFORMED.contains(code);
    }

    /**
     * The cursor is the last key listed, sent as {@code StartAfter}: unlike a continuation token it stays valid
     * between runs, so a listing resumes where an earlier run stopped.
     */
    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        ListObjectsV2Response page = call("ListObjectsV2", deadline, capped -> s3.listObjectsV2(b -> b.bucket(bucket)
                .prefix(prefix).maxKeys(MAX_LIST_PAGE).startAfter(cursor).overrideConfiguration(capped)));
        List<StoredAsset> assets = page.contents().stream()
                .map(o -> new StoredAsset(o.key(), o.lastModified(), o.size() == null ? 0 : o.size())).toList();
        boolean more = Boolean.TRUE.equals(page.isTruncated()) && !assets.isEmpty();
        return new Listing(assets, more ? assets.get(assets.size() - 1).key() : null);
    }

    /**
     * One HeadObject a key (S3 has no batch lookup): its LastModified, which an upload under the same key renews. A key
     * whose current version is a delete marker, or that does not exist, answers 404 and is left out.
     */
    @Override
    public Map<String, StoredAsset> lookUp(List<String> keys, Instant deadline) {
        Map<String, StoredAsset> found = new LinkedHashMap<>();
        for (String k : keys) {
            try {
                HeadObjectResponse head = call("HeadObject", deadline, capped -> s3.headObject(b -> b.bucket(bucket)
                        .key(k).overrideConfiguration(capped)));
                found.put(k, new StoredAsset(k, head.lastModified(), head.contentLength() == null ? 0
                        : head.contentLength()));
            } catch (S3Exception e) {
                if (e.statusCode() != 404) {
                    throw withCode(e);
                }
            }
        }
        return found;
    }

    /**
     * One level under {@code prefix}: the common prefixes (each a folder of any size, one name) and the keys beside
     * them, 1000 names a call; the continuation token, unlike {@code StartAfter}, does not list a folder again.
     */
    @Override
    public Folders folders(String prefix, String token, Instant deadline) {
        ListObjectsV2Response page = call("ListObjectsV2 (folders)", deadline, capped -> s3.listObjectsV2(b -> b
                .bucket(bucket).prefix(prefix).delimiter("/").maxKeys(MAX_LIST_PAGE).continuationToken(token)
                .overrideConfiguration(capped)));
        List<String> names = new ArrayList<>();
        page.commonPrefixes().forEach(p -> names.add(p.prefix()));
        page.contents().forEach(o -> names.add(o.key()));
        names.sort(Store::compareKeys);
        return new Folders(names, Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null);
    }

    @Override
    public String listingScope() {
        return "s3 bucket " + bucket;
    }

    /** {@code e} with its error code in its message (the SDK leaves it out), so reports say InvalidAccessKeyId and the like. */
    private static S3Exception withCode(S3Exception e) {
        String code = errorCode(e);
        return code == null || code.isEmpty() ? e : (S3Exception) e.toBuilder()
                .message(code + ": " + e.awsErrorDetails().errorMessage()).build();
    }

    private static String errorCode(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /**
     * One counted call, made only with time left before {@code deadline}; {@code capped} ends its whole time, the
     * SDK's retries and their backoff included, with the time left.
     */
    private <T> T call(String what, Instant deadline,
                       Function<Consumer<AwsRequestOverrideConfiguration.Builder>, T> request) {
        String described = "S3 " + what + " on " + bucket;
        Duration left = GuardedStore.timeLeft(clock, deadline, described);
        try {
            calls.incrementAndGet();
            return request.apply(o -> {
                if (left != null) {
                    o.apiCallTimeout(left);
                }
            });
        } catch (ApiCallTimeoutException e) {
            throw new StoreDeadlinePassed(described + " cut short: the run's deadline (" + deadline + ") passed", e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int maxBatch() {
        return batchDelete ? MAX_BATCH : MAX_SINGLE_BATCH;
    }

    @Override
    public int maxRefusedKeys() {
        return MAX_REFUSED_KEYS;
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
