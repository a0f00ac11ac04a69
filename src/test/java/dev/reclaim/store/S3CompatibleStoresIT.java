package dev.reclaim.store;

import dev.reclaim.Reclaim;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.Status;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.S3Front;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Two S3-compatible services in one run (issue 23): two real S3 servers (S3Mock) on two ports, each behind a fake
 * front door ({@link S3Front}) that knows one access key id, can lack an operation (501 NotImplemented), and records
 * the key id every request was signed with. Both servers hold a bucket of the same name with the same keys, so a
 * store that reached the other server would delete there.
 */
class S3CompatibleStoresIT {
    private static final String KEY_ID_A = "service-a-key-id";
    private static final String KEY_ID_B = "service-b-key-id";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private S3Client serverB;
    private S3Front frontA;
    private S3Front frontB;
    private String bucket;

    @BeforeEach
    void setUp() throws Exception {
        serverB = TestS3.client(TestS3.otherEndpoint());
        bucket = TestS3.freshBucket("files");
        serverB.createBucket(b -> b.bucket(bucket));
        frontA = S3Front.before(TestS3.endpoint(), KEY_ID_A);
        frontB = S3Front.before(TestS3.otherEndpoint(), KEY_ID_B);
        fx.env().put("FRONT_A", frontA.endpoint().toString());
        fx.env().put("FRONT_B", frontB.endpoint().toString());
        fx.env().put("SERVICE_A_KEY_ID", KEY_ID_A);
        fx.env().put("SERVICE_A_SECRET", "service-a-secret-access-key");
        fx.env().put("SERVICE_B_KEY_ID", KEY_ID_B);
        fx.env().put("SERVICE_B_SECRET", "service-b-secret-access-key");
        fx.execute("""
                CREATE TABLE uploads (id bigint PRIMARY KEY, a_key text, b_key text, deleted_at timestamptz);
                INSERT INTO uploads VALUES (1, 'shared/1', 'shared/2', now() - interval '2 days'),
                                           (2, NULL, 'shared/3', now() - interval '2 days'),
                                           (3, NULL, 'shared/4', now() - interval '2 days');
                """);
        for (String key : List.of("shared/1", "shared/2", "shared/3", "shared/4", "shared/keep")) {
            TestS3.put(bucket, key);
            serverB.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString("on server B: " + key));
        }
    }

    @AfterEach
    void tearDown() {
        frontA.close();
        frontB.close();
        serverB.close();
    }

    /** Store a on service A, store b on service B, each with its own keys; {@code storeB} adds lines to store b. */
    private String config(String storeB) {
        return """
                stores:
                  store-a:
                    type: s3
                    bucket: %1$s
                    endpoint: ${FRONT_A}
                    region: us-east-1
                    pathStyle: true
                    accessKeyId: ${SERVICE_A_KEY_ID}
                    secretAccessKey: ${SERVICE_A_SECRET}
                    allowedPrefixes: [shared/]
                  store-b:
                    type: s3
                    bucket: %1$s
                    endpoint: ${FRONT_B}
                    region: auto
                    pathStyle: true
                    accessKeyId: ${SERVICE_B_KEY_ID}
                    secretAccessKey: ${SERVICE_B_SECRET}
                    allowedPrefixes: [shared/]
                %2$s
                sweeps:
                  uploads-purge:
                    kind: records
                    olderThan: 1d
                    eligible: SELECT id FROM uploads WHERE deleted_at < :cutoff
                    claim: SELECT id FROM uploads WHERE id = :id AND deleted_at < :cutoff FOR UPDATE SKIP LOCKED
                    steps:
                      - name: collect-a
                        sql: SELECT a_key FROM uploads WHERE id = :id
                        collect: store-a
                      - name: collect-b
                        sql: SELECT b_key FROM uploads WHERE id = :id
                        collect: store-b
                      - name: delete-upload
                        sql: DELETE FROM uploads WHERE id = :id
                """.formatted(bucket, storeB.isEmpty() ? "" : "    " + storeB.strip().replace("\n", "\n    "));
    }

    private RunReport run(String storeB) {
        try (Reclaim reclaim = fx.reclaim(config(storeB))) {
            return reclaim.run(new RunRequest("test", false, List.of(), null));
        }
    }

    private Set<String> keysOnB() {
        return serverB.listObjectsV2(b -> b.bucket(bucket)).contents().stream().map(S3Object::key)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> keyIds(S3Front front) {
        return front.seen().stream().map(S3Front.Seen::keyId).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void shouldSignEachStoresCallsWithItsOwnKeys_andDeleteOnlyOnItsOwnService() {
        RunReport report = run("");

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(TestS3.keys(bucket)).containsExactly("shared/2", "shared/3", "shared/4", "shared/keep");
        assertThat(keysOnB()).containsExactly("shared/1", "shared/keep");
        assertThat(keyIds(frontA)).containsExactly(KEY_ID_A);
        assertThat(keyIds(frontB)).containsExactly(KEY_ID_B);
        assertThat(frontA.seen()).anyMatch(r -> r.is("POST", "delete")).anyMatch(r -> r.is("GET", "versioning"));
        assertThat(frontB.seen()).anyMatch(r -> r.is("POST", "delete")).anyMatch(r -> r.is("GET", "versioning"));
        assertThat(report.outbox().deleted()).containsEntry("store-a", 1L).containsEntry("store-b", 3L);
    }

    @Test
    void shouldRunAndSayDeletionsAreNotUndoable_whenTheServiceDoesNotImplementGetBucketVersioning() throws Exception {
        frontB.notImplementing("GET", "versioning");

        RunReport report = run("");

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(frontB.seen()).anyMatch(r -> r.is("GET", "versioning"));
        assertThat(keysOnB()).containsExactly("shared/1", "shared/keep");
        assertThat(report.outbox().failed()).isEmpty();
        String notUndoable = "the service of bucket " + bucket + " does not implement GetBucketVersioning (501"
                + " NotImplemented): it keeps no versions Reclaim can restore, so deletions are not undoable";
        assertThat(report.undoable()).containsEntry("store-b", notUndoable);
        assertThat(Reports.summary(report)).contains("store store-b: deletions cannot be undone: " + notUndoable);
        assertThat(Status.read(fx.db, null, 5).text()).contains("store-b").contains(notUndoable);
    }

    @Test
    void shouldFailOnlyTheDeletionsOfTheStoreWithWrongKeys_keepingThemInTheOutbox() throws Exception {
        fx.env().put("SERVICE_B_KEY_ID", "a-key-id-service-b-does-not-know");

        RunReport report = run("");

        assertThat(TestS3.keys(bucket)).doesNotContain("shared/1");
        assertThat(report.outbox().deleted()).containsEntry("store-a", 1L).doesNotContainKey("store-b");
        assertThat(report.outbox().failed()).containsEntry("store-b", 3L).doesNotContainKey("store-a");
        assertThat(keysOnB()).containsExactly("shared/1", "shared/2", "shared/3", "shared/4", "shared/keep");
        assertThat(fx.strings("SELECT key || ': ' || last_error FROM reclaim.pending_deletions WHERE store = 'store-b'"
                + " ORDER BY key")).hasSize(3).allMatch(line -> line.contains("InvalidAccessKeyId"));
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions WHERE store = 'store-a'")).isZero();
        assertThat(report.undoable().get("store-b")).contains("403 InvalidAccessKeyId");
    }

    @Test
    void shouldDeleteOneKeyACall_andCountTheCalls_whenTheServiceRejectsDeleteObjectsAndTheStoreSaysSo() {
        frontB.notImplementing("POST", "delete");

        RunReport report = run("batchDelete: false");

        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(keysOnB()).containsExactly("shared/1", "shared/keep");
        assertThat(report.outbox().deleted()).containsEntry("store-b", 3L);
        assertThat(frontB.seen()).noneMatch(r -> r.is("POST", "delete"));
        assertThat(frontB.seen().stream().filter(r -> r.method().equals("DELETE")).map(S3Front.Seen::path))
                .containsExactlyInAnyOrder("/" + bucket + "/shared/2", "/" + bucket + "/shared/3", "/" + bucket + "/shared/4");
        long versioningCalls = frontB.seen().stream().filter(r -> r.is("GET", "versioning")).count();
        assertThat(report.apiCalls()).containsEntry("store-b", 3 + versioningCalls);
        assertThat(Reports.summary(report)).contains("store-b");
    }

    @Test
    void shouldFailVisiblyAndKeepTheKeys_whenTheServiceRejectsDeleteObjectsAndTheStoreDoesNotSaySo() throws Exception {
        frontB.notImplementing("POST", "delete");

        RunReport report = run("");

        assertThat(keysOnB()).containsExactly("shared/1", "shared/2", "shared/3", "shared/4", "shared/keep");
        assertThat(report.outbox().failed()).containsEntry("store-b", 3L);
        assertThat(frontB.seen()).noneMatch(r -> r.method().equals("DELETE"));
        assertThat(fx.strings("SELECT last_error FROM reclaim.pending_deletions WHERE store = 'store-b'"))
                .hasSize(3).allMatch(e -> e.contains("501 NotImplemented") && e.contains("batchDelete: false on store store-b"));
        assertThat(TestS3.keys(bucket)).doesNotContain("shared/1");
    }

    @Test
    void shouldStopSendingSingleDeletes_atTheFirstRefusalThatIsNotAboutTheKey() throws Exception {
        frontB.notImplementing("POST", "delete");
        fx.env().put("SERVICE_B_KEY_ID", "a-key-id-service-b-does-not-know");

        RunReport report = run("batchDelete: false");

        assertThat(keysOnB()).containsExactly("shared/1", "shared/2", "shared/3", "shared/4", "shared/keep");
        assertThat(report.outbox().failed()).containsEntry("store-b", 3L);
        assertThat(frontB.seen().stream().filter(r -> r.method().equals("DELETE"))).hasSize(1);
        assertThat(fx.strings("SELECT last_error FROM reclaim.pending_deletions WHERE store = 'store-b'"))
                .hasSize(3).allMatch(e -> e.contains("403 InvalidAccessKeyId"));
    }

    @Test
    void shouldSayWhatItSettled_whenTheDeadlinePassesBetweenSingleDeletes() throws Exception {
        frontB.hangingAfter("DELETE", 1);
        StoreConfig.S3 config = new StoreConfig.S3("store-b", bucket, "us-east-1", frontB.endpoint().toString(), true,
                List.of("shared/"), null, new StoreConfig.Credentials("ID", KEY_ID_B, "SECRET", "secret"), false);

        try (Stores stores = ReclaimFixture.stores(new ReclaimConfig("test", Map.of("store-b", config), Map.of()), fx.env())) {
            Throwable thrown = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> catchThrowable(() -> stores
                    .get("store-b").delete(List.of("shared/2", "shared/3", "shared/4"), Instant.now().plusSeconds(3))));

            assertThat(thrown).isInstanceOf(BatchCutShort.class).hasMessageContaining("after 1 of 3 single deletes");
            assertThat(((BatchCutShort) thrown).settled().deleted()).containsExactly("shared/2");
            assertThat(((BatchCutShort) thrown).settled().failed()).isEmpty();
            assertThat(keysOnB()).containsExactly("shared/1", "shared/3", "shared/4", "shared/keep");
            assertThat(frontB.seen().stream().filter(r -> r.method().equals("DELETE"))).hasSize(2);
        }
    }

    /** The current version of {@code key} on server B: its version id, "delete marker", or "none". */
    private String currentOnB(String key) {
        var versions = serverB.listObjectVersions(b -> b.bucket(bucket).prefix(key));
        return versions.deleteMarkers().stream().filter(m -> key.equals(m.key()) && m.isLatest()).map(m -> "delete marker")
                .findFirst().orElse(versions.versions().stream().filter(v -> key.equals(v.key()) && v.isLatest())
                        .map(v -> v.versionId()).findFirst().orElse("none"));
    }

    @Test
    void shouldRestoreWithOneDeleteObjectAMarker_andNeverDeleteTheDataItself_whenAVersionedServiceLacksDeleteObjects()
            throws Exception {
        serverB.putBucketVersioning(b -> b.bucket(bucket).versioningConfiguration(v -> v.status(
                software.amazon.awssdk.services.s3.model.BucketVersioningStatus.ENABLED)));
        // S3Mock keeps versions only of what was written since versioning was turned on: written again.
        for (String key : List.of("shared/1", "shared/2", "shared/3", "shared/4", "shared/keep")) {
            serverB.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString("on server B: " + key));
        }
        List<String> deleted = List.of("shared/2", "shared/3", "shared/4");
        Map<String, String> data = deleted.stream().collect(Collectors.toMap(k -> k, this::currentOnB));
        frontB.notImplementing("POST", "delete");

        try (Reclaim reclaim = fx.reclaim(config("batchDelete: false"))) {
            RunReport report = reclaim.run(new RunRequest("test", false, List.of(), null));
            assertThat(report.undoable()).containsEntry("store-b", "yes");
            assertThat(deleted).allMatch(k -> currentOnB(k).equals("delete marker"));

            Undo.Report restored = reclaim.restore(new Undo.Selection(java.util.UUID.fromString(report.runId()), null,
                    null, List.of()), false);

            assertThat(restored.stores().get("store-b").restored()).isEqualTo(3);
            deleted.forEach(k -> assertThat(currentOnB(k)).as(k).isEqualTo(data.get(k)));
            assertThat(serverB.getObjectAsBytes(b -> b.bucket(bucket).key("shared/3")).asUtf8String())
                    .isEqualTo("on server B: shared/3");
            assertThat(frontB.seen()).noneMatch(r -> r.is("POST", "delete"));
        }
    }
}
