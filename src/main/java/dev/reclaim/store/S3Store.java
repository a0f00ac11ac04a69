package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An S3 bucket. DeleteObjects takes up to 1000 keys; its per-key {@code Errors} arrive inside an HTTP 200. A request
 * S3 refuses whole as malformed (a key with a control character makes its XML body invalid) is split until only the
 * keys S3 refuses alone fail ({@link Bisection}). Every call's total time, the SDK's own retries included, is capped
 * by the time left before the deadline it is given.
 */
final class S3Store implements Store {
    public static final int MAX_BATCH = 1000;
    public static final int MAX_LIST_PAGE = 1000;
    /** Refused keys isolated per batch before a refusal is taken as not about the keys (calls are cheap on S3). */
    static final int MAX_REFUSED_KEYS = 10;
    // 400s about the request's content. Others (credentials, signature, region, RequestTimeout, 403 AccessDenied,
    // 404 NoSuchBucket) would be refused whatever the keys: splitting would only multiply calls.
    private static final Set<String> MALFORMED = Set.of("MalformedXML", "InvalidArgument", "KeyTooLongError");

    private final String name;
    private final String bucket;
    private final PrefixGuard guard;
    private final S3Client s3;
    private final Clock clock;
    private final AtomicLong calls = new AtomicLong();

    public S3Store(StoreConfig.S3 config, S3Client s3) {
        this(config, s3, Clock.systemUTC());
    }

    public S3Store(StoreConfig.S3 config, S3Client s3, Clock clock) {
        this.name = config.name();
        this.bucket = config.bucket();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.s3 = s3;
        this.clock = clock;
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
        return Bisection.delete(keys, MAX_REFUSED_KEYS, part -> deleteObjects(part, deadline));
    }

    /** One DeleteObjects call; {@link BatchRefused} when S3 refuses the whole request as malformed. */
    private BatchResult deleteObjects(List<String> keys, Instant deadline) {
        Duration left = TimeLeft.before(deadline, clock, "S3 DeleteObjects on " + bucket);
        List<ObjectIdentifier> objects = new ArrayList<>(keys.size());
        for (String k : keys) {
            objects.add(ObjectIdentifier.builder().key(k).build());
        }
        DeleteObjectsResponse response;
        try {
            calls.incrementAndGet();
            // Quiet mode: the answer lists only the keys that failed.
            response = s3.deleteObjects(b -> b.bucket(bucket)
                    .delete(Delete.builder().objects(objects).quiet(true).build())
                    .overrideConfiguration(o -> capped(o, left)));
        } catch (ApiCallTimeoutException e) {
            throw cutShort("S3 DeleteObjects on " + bucket, deadline, e);
        } catch (S3Exception e) {
            if (refusedAsMalformed(e)) {
                String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
                throw new BatchRefused("refused by S3 (HTTP " + e.statusCode() + (code == null ? "" : " " + code)
                        + ") in a request of " + keys.size() + (keys.size() == 1 ? " key" : " keys"), e);
            }
            throw e;
        }
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

    /**
     * A 400 about the request's content: one of {@link #MALFORMED}, or a bare 400 without an error code (as S3Mock
     * answers malformed XML). Throttling is never a refusal.
     */
    static boolean refusedAsMalformed(S3Exception e) {
        if (e.statusCode() != 400 || e.isThrottlingException()) {
            return false;
        }
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return code == null || code.isEmpty() || MALFORMED.contains(code);
    }

    @Override
    public int maxListPage() {
        return MAX_LIST_PAGE;
    }

    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        Duration left = TimeLeft.before(deadline, clock, "S3 ListObjectsV2 on " + bucket);
        ListObjectsV2Response page;
        try {
            calls.incrementAndGet();
            page = s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).maxKeys(MAX_LIST_PAGE)
                    .continuationToken(cursor).overrideConfiguration(o -> capped(o, left)));
        } catch (ApiCallTimeoutException e) {
            throw cutShort("S3 ListObjectsV2 on " + bucket, deadline, e);
        }
        List<StoredAsset> assets = new ArrayList<>(page.contents().size());
        for (S3Object o : page.contents()) {
            assets.add(new StoredAsset(o.key(), o.lastModified(), o.size() == null ? 0 : o.size()));
        }
        return new Listing(assets, Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null);
    }

    /** The call's whole time, the SDK's retries and their backoff included, ends with the time left. */
    private static void capped(AwsRequestOverrideConfiguration.Builder o, Duration left) {
        if (left != null) {
            o.apiCallTimeout(left);
        }
    }

    private static StoreDeadlinePassed cutShort(String call, Instant deadline, ApiCallTimeoutException e) {
        return new StoreDeadlinePassed(call + " cut short: the run's deadline (" + deadline + ") passed", e);
    }

    @Override
    public long apiCalls() {
        return calls.get();
    }
}
