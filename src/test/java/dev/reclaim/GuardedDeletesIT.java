package dev.reclaim;


import dev.reclaim.config.AwsClients;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.db.Database;
import dev.reclaim.failure.Failure;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.Modifier;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 19, item 2: no delete reaches a store's API around the prefix guard and the reference check, whoever calls.
 * The shipped configuration's {@code moc-files} store may delete under mocs/, gallery/ and uploads/tmp/ only; a key
 * elsewhere is sent by every path there is (the store itself, the batch helpers, a store wrapped by a caller, the
 * outbox, a retried deletion) and must still be in its bucket afterwards.
 */
class GuardedDeletesIT {
    private static final String OUTSIDE = "private/contracts/signed.pdf";
    private static final String INSIDE = "uploads/tmp/u1/abandoned.pdf";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private AwsClients aws;
    private ReclaimConfig config;

    @BeforeEach
    void setUp() throws Exception {
        aws = new AwsClients(TestSettings.of(fx.env()).aws());
        config = fx.config();
        TestS3.putAll(fx.mocBucket, List.of(OUTSIDE, INSIDE));
        Database.migrate(fx.db);
    }

    @AfterEach
    void tearDown() {
        aws.close();
    }

    @Test
    void shouldRefuseAKeyOutsideThePrefixes_whenTheStoreIsCalledDirectly() {
        Store store = Stores.build(config, TestSettings.of(fx.env()), aws).referenceChecked(config, fx.db).get("moc-files");

        BatchResult result = store.delete(List.of(OUTSIDE, INSIDE), null);

        assertThat(result.refused()).containsExactly(OUTSIDE);
        assertThat(result.deleted()).containsExactly(INSIDE);
        assertThat(TestS3.exists(fx.mocBucket, OUTSIDE)).isTrue();
        assertThat(TestS3.exists(fx.mocBucket, INSIDE)).isFalse();
    }

    @Test
    void shouldRefuseAKeyOutsideThePrefixes_whenACallerWrapsTheStoreInItsOwn() {
        Store real = Stores.build(config, TestSettings.of(fx.env()), aws).referenceChecked(config, fx.db).get("moc-files");
        // A caller's own Store around the real one is put behind the guard again by Stores.
        GuardedStore wrapped = new Stores(Map.of("moc-files", new ForwardingStore(real))).get("moc-files");

        BatchResult result = wrapped.deleteBatch(List.of(OUTSIDE), Map.of(), null).result();

        assertThat(result.refused()).containsExactly(OUTSIDE);
        assertThat(result.deleted()).isEmpty();
        assertThat(TestS3.exists(fx.mocBucket, OUTSIDE)).isTrue();
    }

    @Test
    void shouldRefuseToDeleteAtAll_whenAStoreWithAReferenceQueryWasNotGivenTheDatabase() {
        Store unchecked = Stores.build(config, TestSettings.of(fx.env()), aws).get("moc-files");

        assertThatThrownBy(() -> unchecked.delete(List.of(INSIDE), null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("store moc-files was not given the database its reference query needs");
        assertThat(TestS3.exists(fx.mocBucket, INSIDE)).isTrue();
    }

    @Test
    void shouldRefuseToDeleteAtAll_whenAStoreWithoutAReferenceQueryWasNotGivenTheDatabase() {
        // Without the database neither a restored key's protection nor the journal can be had: nothing may go.
        ReclaimConfig noQuery = new ReclaimConfig("test.yaml", Map.of("moc-files", new StoreConfig.S3("moc-files",
                fx.mocBucket, "us-east-1", null, true, List.of("uploads/tmp/"), null)), Map.of());
        Store unchecked = Stores.build(noQuery, TestSettings.of(fx.env()), aws).get("moc-files");

        assertThatThrownBy(() -> unchecked.delete(List.of(INSIDE), null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("store moc-files was not given the database its protected keys and journal need");
        assertThat(TestS3.exists(fx.mocBucket, INSIDE)).isTrue();
    }

    @Test
    void shouldDeleteNothingOfAFailuresKeys_whenOneIsOutsideThePrefixes() {
        GuardedStore store = Stores.build(config, TestSettings.of(fx.env()), aws).referenceChecked(config, fx.db)
                .get("moc-files");

        assertThatThrownBy(() -> store.again(List.of(INSIDE, OUTSIDE), null, false, dev.reclaim.report.RunEvents.none(), "test"))
                .isInstanceOf(GuardedStore.OutsidePrefixes.class)
                .hasMessage("key " + OUTSIDE + " is outside the allowed prefixes of store moc-files");
        assertThat(TestS3.exists(fx.mocBucket, OUTSIDE)).isTrue();
        assertThat(TestS3.exists(fx.mocBucket, INSIDE)).isTrue();
    }

    @Test
    void shouldLeaveTheKeyInItsBucketAndInTheOutbox_whenAPendingDeletionIsOutsideThePrefixes() throws Exception {
        fx.execute("INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id) VALUES ('moc-files', '" + OUTSIDE
                + "', 'expired-mocs', gen_random_uuid())");

        try (Reclaim reclaim = fx.reclaim()) {
            RunReport report = reclaim.run(new RunRequest("test", false, List.of(), Deadline.none(), null));
            assertThat(report.outcome().toString()).isNotEqualTo("FAILED");
        }

        assertThat(TestS3.exists(fx.mocBucket, OUTSIDE)).isTrue();
        assertThat(fx.strings("SELECT last_error FROM reclaim.pending_deletions WHERE key = '" + OUTSIDE + "'"))
                .containsExactly("refused: outside the store's allowed prefixes");
    }

    @Test
    void shouldDeadLetterARetriedDeletion_whenItsKeyIsOutsideThePrefixes() {
        Failure failure = Failure.keys(Failure.DELETION, "expired-mocs", "moc-files", List.of(OUTSIDE), "X", "e",
                "run-1", Instant.now());

        try (Reclaim reclaim = fx.reclaim()) {
            assertThatThrownBy(() -> reclaim.retries().retry(failure, false))
                    .hasMessage("key " + OUTSIDE + " is outside the allowed prefixes of store moc-files");
        }
        assertThat(TestS3.exists(fx.mocBucket, OUTSIDE)).isTrue();
    }

    @Test
    void shouldKeepTheApiStoresOutOfReachOfOtherPackages() throws Exception {
        for (String name : List.of("S3Store", "CloudinaryStore")) {
            Class<?> c = Class.forName("dev.reclaim.store." + name);
            assertThat(Modifier.isPublic(c.getModifiers())).as(name + " is public").isFalse();
        }
        assertThat(Stores.build(config, TestSettings.of(fx.env()), aws).all().values())
                .allSatisfy(s -> assertThat(s.getClass().getSimpleName()).isEqualTo("GuardedStore"));
    }
}
