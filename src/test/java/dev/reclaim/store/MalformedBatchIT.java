package dev.reclaim.store;

import com.cloudinary.Cloudinary;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Item 7 of the Trust issue: a key the store cannot accept (a control character) makes it refuse the whole delete
 * request; the batch is split so that only that key fails, with its own error, and the others are deleted.
 */
class MalformedBatchIT {

    @Test
    void shouldDelete999KeysAndFailOnlyTheBadOne_whenS3RefusesTheWholeDeleteObjectsRequest() {
        String bucket = TestS3.freshBucket("malformed");
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < S3Store.MAX_BATCH; i++) {
            keys.add(String.format("uploads/tmp/u1/%04d.pdf", i));
        }
        String bad = "uploads/tmp/u1/bad\u0001name.pdf";
        keys.set(617, bad);
        // S3 counts a missing key as deleted, so a sample of real objects shows the deletes happened (S3Mock's
        // set-up time grows with the square of a bucket's objects).
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < keys.size(); i += 10) {
            sample.add(keys.get(i));
        }
        TestS3.putAll(bucket, sample);
        TestS3.put(bucket, bad);
        S3Store store = new S3Store(new StoreConfig.S3("moc-files", bucket, "us-east-1", null, true,
                List.of("uploads/"), null), TestS3.client());
        // What S3Mock really does: the SDK writes the key into DeleteObjects' XML body, which then is not valid XML
        // 1.0, and S3Mock answers HTTP 400 to the whole request (with an empty body, where real S3 answers
        // 400 MalformedXML); no key of the request is deleted.
        S3Exception refused = catchThrowableOfType(() -> TestS3.client().deleteObjects(b -> b.bucket(bucket)
                .delete(d -> d.objects(ObjectIdentifier.builder().key(sample.get(0)).build(),
                        ObjectIdentifier.builder().key(bad).build()))), S3Exception.class);
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(TestS3.exists(bucket, sample.get(0))).isTrue();

        BatchResult result = new GuardedStore(store, null, null).delete(keys, null);

        assertThat(result.deleted()).hasSize(999).doesNotContain(bad).containsAll(sample);
        assertThat(result.failed()).containsOnlyKeys(bad);
        assertThat(result.failed().get(bad)).contains("400").contains("refused");
        assertThat(sample).noneMatch(k -> TestS3.exists(bucket, k));
        assertThat(TestS3.exists(bucket, bad)).isTrue();
        // One call for the whole batch, then two per level of the split down to the bad key (1000 keys: 10 levels).
        assertThat(store.apiCalls()).isBetween(3L, 21L);
    }

    private static S3Exception s3Error(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build()).build();
    }

    @Test
    void shouldSplitOnlyOnS3RefusalsAboutTheRequestsContent() {
        // Real S3 names the refusal of a key it cannot parse MalformedXML; S3Mock answers a bare 400.
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "MalformedXML"))).isTrue();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "KeyTooLongError"))).isTrue();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, null))).isTrue();
        // Refused whatever the keys: splitting would only multiply calls.
        assertThat(S3Store.refusedAsMalformed(s3Error(403, "AccessDenied"))).isFalse();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "ExpiredToken"))).isFalse();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "AuthorizationHeaderMalformed"))).isFalse();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "RequestTimeout"))).isFalse();
        assertThat(S3Store.refusedAsMalformed(s3Error(400, "Throttling"))).isFalse();
        assertThat(S3Store.refusedAsMalformed(s3Error(503, "SlowDown"))).isFalse();
    }

    @Test
    void shouldDelete99IdsAndFailOnlyTheBadOne_whenCloudinaryAnswers400ToTheWholeDeleteCall() {
        try (CloudinaryEmulator emulator = CloudinaryEmulator.start()) {
            List<String> ids = new ArrayList<>();
            List<Asset> assets = new ArrayList<>();
            for (int i = 0; i < CloudinaryStore.MAX_BATCH; i++) {
                String id = i == 42 ? "users/u1/temp/bad\u0001photo" : String.format("users/u1/temp/p%03d", i);
                ids.add(id);
                assets.add(Asset.image(id, Instant.parse("2024-06-25T08:58:23Z"), 100));
            }
            emulator.seed(assets);
            String bad = ids.get(42);
            CloudinaryStore store = new CloudinaryStore(
                    new StoreConfig.Cloudinary("bobblehead-photos", "image", "upload", 0.2, Duration.ofSeconds(5), 4,
                            Duration.ofMillis(50), List.of("users/"), null, StoreConfig.FolderMode.FIXED),
                    new Cloudinary(emulator.cloudinaryUrl()), CloudinaryStore.Retries.DEFAULT, Clock.systemUTC());

            BatchResult result = new GuardedStore(store, null, null).delete(ids, null);

            assertThat(result.deleted()).hasSize(99).doesNotContain(bad);
            assertThat(result.failed()).containsOnlyKeys(bad);
            assertThat(result.failed().get(bad)).contains("Invalid public_id");
            assertThat(emulator.publicIds()).containsExactly(bad);
            // 100 ids: 7 levels of split, two calls each, after the first; a 400 is never retried as such.
            assertThat(emulator.deleteCalls()).isBetween(3L, 15L);
            assertThat(store.apiCalls()).isEqualTo(emulator.deleteCalls());
        }
    }
}
