package dev.reclaim.testing;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.DeletedObject;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** TestS3.blockDeletion answers as S3 does, on any host: HTTP 200, the refused key under Errors, the rest deleted. */
class S3DeleteRefusalsIT {

    private static DeleteObjectsResponse delete(String bucket, String... keys) {
        return TestS3.client().deleteObjects(r -> r.bucket(bucket).delete(d -> d.objects(
                java.util.Arrays.stream(keys).map(k -> ObjectIdentifier.builder().key(k).build()).toList())));
    }

    @Test
    void shouldAnswer200WithAPerKeyErrorForTheBlockedKey_andDeleteTheOthers_missingOnesIncluded() throws Exception {
        String bucket = TestS3.freshBucket("refusals");
        TestS3.putAll(bucket, List.of("a/blocked & <odd>", "a/other"));

        DeleteObjectsResponse response;
        try (AutoCloseable blocked = TestS3.blockDeletion(bucket, "a/blocked & <odd>")) {
            response = delete(bucket, "a/blocked & <odd>", "a/other", "a/missing");
        }

        assertThat(response.sdkHttpResponse().statusCode()).isEqualTo(200);
        assertThat(response.errors()).singleElement().satisfies(e -> {
            assertThat(e.key()).isEqualTo("a/blocked & <odd>");
            assertThat(e.code()).isEqualTo("InternalError");
            assertThat(e.message()).isEqualTo("We encountered an internal error. Please try again.");
        });
        assertThat(response.deleted()).extracting(DeletedObject::key).containsExactlyInAnyOrder("a/other", "a/missing");
        assertThat(TestS3.keys(bucket)).containsExactly("a/blocked & <odd>");
    }

    @Test
    void shouldAnswerOnlyErrors_whenEveryKeyOfTheCallIsBlocked_andDeleteAgainOnceUnblocked() throws Exception {
        String bucket = TestS3.freshBucket("refusals");
        TestS3.putAll(bucket, List.of("k1", "k2"));

        DeleteObjectsResponse response;
        try (AutoCloseable b1 = TestS3.blockDeletion(bucket, "k1"); AutoCloseable b2 = TestS3.blockDeletion(bucket, "k2")) {
            response = delete(bucket, "k1", "k2");
        }

        assertThat(response.sdkHttpResponse().statusCode()).isEqualTo(200);
        assertThat(response.errors()).extracting(S3Error::key).containsExactlyInAnyOrder("k1", "k2");
        assertThat(response.deleted()).isEmpty();
        assertThat(TestS3.keys(bucket)).containsExactlyInAnyOrder("k1", "k2");

        DeleteObjectsResponse unblocked = delete(bucket, "k1", "k2");
        assertThat(unblocked.errors()).isEmpty();
        assertThat(TestS3.keys(bucket)).isEmpty();
    }
}
