package dev.reclaim.store;

import dev.reclaim.config.StoreConfig;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.DeletedObject;
import software.amazon.awssdk.services.s3.model.GetBucketVersioningRequest;
import software.amazon.awssdk.services.s3.model.GetBucketVersioningResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What real S3 answers on a versioned bucket (S3Mock leaves it out): each deleted key with the version id of the
 * delete marker it created. The store keeps those ids for the journal, asks for them (no quiet mode) only where the
 * bucket keeps versions, and restores by deleting exactly those markers.
 */
class S3StoreVersionsTest {

    /** S3 as its API reference describes DeleteObjects and GetBucketVersioning; every request is kept. */
    private static final class VersionedS3 implements S3Client {
        final List<DeleteObjectsRequest> deletes = new ArrayList<>();
        BucketVersioningStatus status = BucketVersioningStatus.ENABLED;

        @Override
        public GetBucketVersioningResponse getBucketVersioning(GetBucketVersioningRequest request) {
            return GetBucketVersioningResponse.builder().status(status).build();
        }

        @Override
        public DeleteObjectsResponse deleteObjects(DeleteObjectsRequest request) {
            deletes.add(request);
            if (Boolean.TRUE.equals(request.delete().quiet())) {
                return DeleteObjectsResponse.builder().build(); // quiet: only errors, and there are none
            }
            List<DeletedObject> deleted = new ArrayList<>();
            for (ObjectIdentifier o : request.delete().objects()) {
                deleted.add(DeletedObject.builder().key(o.key()).deleteMarker(true)
                        .deleteMarkerVersionId("marker-of-" + o.key()).build());
            }
            return DeleteObjectsResponse.builder().deleted(deleted).build();
        }

        @Override
        public String serviceName() {
            return "s3";
        }

        @Override
        public void close() {
        }
    }

    private static S3Store store(VersionedS3 s3) {
        S3Store store = new S3Store(new StoreConfig.S3("moc-files", "moc-instructions", "us-east-1", null, true,
                List.of("uploads/tmp/"), null), s3);
        store.prepare(null);
        return store;
    }

    @Test
    void shouldKeepEachDeleteMarkersVersionId_andRestoreByDeletingExactlyThoseMarkers_whenTheBucketKeepsVersions() {
        VersionedS3 s3 = new VersionedS3();
        S3Store store = store(s3);

        BatchResult deleted = store.delete(List.of("uploads/tmp/a.pdf", "uploads/tmp/b.pdf"), null);

        assertThat(store.notUndoable()).isNull();
        assertThat(s3.deletes.get(0).delete().quiet()).as("the markers are in a verbose answer only").isFalse();
        assertThat(deleted.versions()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "uploads/tmp/a.pdf", "marker-of-uploads/tmp/a.pdf", "uploads/tmp/b.pdf", "marker-of-uploads/tmp/b.pdf"));

        Restored restored = store.restore(List.of("uploads/tmp/a.pdf", "uploads/tmp/b.pdf", "mocs/x.pdf"),
                deleted.versions(), null);

        assertThat(restored.restored()).containsExactly("uploads/tmp/a.pdf", "uploads/tmp/b.pdf");
        assertThat(restored.notRestorable()).containsOnlyKeys("mocs/x.pdf");
        assertThat(s3.deletes.get(1).delete().objects()).extracting(ObjectIdentifier::key, ObjectIdentifier::versionId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("uploads/tmp/a.pdf", "marker-of-uploads/tmp/a.pdf"),
                        org.assertj.core.groups.Tuple.tuple("uploads/tmp/b.pdf", "marker-of-uploads/tmp/b.pdf"));
    }

    @Test
    void shouldDeleteQuietly_andSayDeletionsCannotBeUndone_whenTheBucketKeepsNoVersions() {
        VersionedS3 s3 = new VersionedS3();
        s3.status = BucketVersioningStatus.SUSPENDED;
        S3Store store = store(s3);

        BatchResult deleted = store.delete(List.of("uploads/tmp/a.pdf"), null);

        assertThat(s3.deletes.get(0).delete().quiet()).isTrue();
        assertThat(deleted.versions()).isEmpty();
        assertThat(store.notUndoable()).contains("does not keep versions (versioning suspended)");
        assertThat(store.restore(List.of("uploads/tmp/a.pdf"), Map.of(), null).notRestorable())
                .containsOnlyKeys("uploads/tmp/a.pdf");
    }
}
