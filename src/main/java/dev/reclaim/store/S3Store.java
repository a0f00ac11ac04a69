package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An S3 bucket. DeleteObjects takes up to 1000 keys; its per-key {@code Errors} arrive inside an HTTP 200. A request
 * S3 refuses whole as malformed (a key with a control character makes its XML body invalid) is split until only the
 * keys S3 refuses alone fail ({@link Bisection}). Every call's total time, the SDK's own retries included, is capped
 * by the time left before the deadline it is given.
 */
final class S3Store extends ApiStore {
    public static final int MAX_BATCH = 1000;
    public static final int MAX_LIST_PAGE = 1000;
    /** Refused keys isolated per batch before a refusal is taken as not about the keys (calls are cheap on S3). */
    static final int MAX_REFUSED_KEYS = 10;
    // 400s about the request's content. Others (credentials, signature, region, RequestTimeout, 403 AccessDenied,
    // 404 NoSuchBucket) would be refused whatever the keys: splitting would only multiply calls.
    private static final Set<String> MALFORMED = Set.of("MalformedXML", "InvalidArgument", "KeyTooLongError");

    private final String bucket;
    private final S3Client s3;

    public S3Store(StoreConfig.S3 config, S3Client s3) {
        super(config, Clock.systemUTC(), MAX_BATCH, MAX_REFUSED_KEYS,
                "S3 DeleteObjects takes at most " + MAX_BATCH + " keys");
        this.bucket = config.bucket();
        this.s3 = s3;
    }

    /** One DeleteObjects call; {@link BatchRefused} when S3 refuses the whole request as malformed. */
    @Override
    BatchResult deleteCall(List<String> keys, Instant deadline) {
        List<ObjectIdentifier> objects = keys.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
        DeleteObjectsResponse response;
        try {
            // Quiet mode: the answer lists only the keys that failed.
            response = call("DeleteObjects", deadline, capped -> s3.deleteObjects(b -> b.bucket(bucket)
                    .delete(Delete.builder().objects(objects).quiet(true).build()).overrideConfiguration(capped)));
        } catch (S3Exception e) {
            if (refusedAsMalformed(e)) {
                String code = errorCode(e);
                throw new BatchRefused("refused by S3 (HTTP " + e.statusCode() + (code == null ? "" : " " + code)
                        + ") in a request of " + keys.size() + (keys.size() == 1 ? " key" : " keys"), e);
            }
            throw e;
        }
        Map<String, String> failed = new LinkedHashMap<>();
        for (S3Error e : response.errors()) {
            failed.put(e.key(), e.code() + ": " + e.message());
        }
        return new BatchResult(keys.stream().filter(k -> !failed.containsKey(k)).toList(), failed);
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

    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        ListObjectsV2Response page = call("ListObjectsV2", deadline, capped -> s3.listObjectsV2(b -> b.bucket(bucket)
                .prefix(prefix).maxKeys(MAX_LIST_PAGE).continuationToken(cursor).overrideConfiguration(capped)));
        List<StoredAsset> assets = page.contents().stream()
                .map(o -> new StoredAsset(o.key(), o.lastModified(), o.size() == null ? 0 : o.size())).toList();
        return new Listing(assets, Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null);
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
        Duration left = timeLeft(deadline, described);
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
}
