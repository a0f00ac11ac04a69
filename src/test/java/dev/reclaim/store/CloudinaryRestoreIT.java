package dev.reclaim.store;

import com.cloudinary.Cloudinary;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 18, the undo window for Cloudinary: the real {@link CloudinaryStore} deletes assets of an account with backups
 * and restores them through the emulator's restore endpoint; an account without backups says so per key; the quota
 * reserve stops a restore before its call; every call is counted.
 */
class CloudinaryRestoreIT {
    private static final Instant T0 = Instant.parse("2024-06-25T08:58:23Z");
    private static final CloudinaryStore.Retries FAST = new CloudinaryStore.Retries(3, Duration.ofMillis(10),
            Duration.ofMillis(50));

    private final CloudinaryEmulator emulator = CloudinaryEmulator.builder().backups(true).start();

    @AfterEach
    void stop() {
        emulator.close();
    }

    private CloudinaryStore store(boolean backups, StoreConfig.FolderMode mode) {
        return new CloudinaryStore(new StoreConfig.Cloudinary("bobblehead-photos", "image", "upload", 0.2,
                Duration.ofSeconds(5), FAST.maxAttempts(), FAST.initialDelay(), List.of("users/"), null, mode, backups),
                new Cloudinary(emulator.cloudinaryUrl()), FAST, Clock.systemUTC());
    }

    private static Asset photo(String publicId, long bytes) {
        return new Asset(publicId, "image", "upload", T0, bytes, "png", null, null);
    }

    @Test
    void shouldRestoreWhatItDeleted_asItWas_andFindItPresentTheSecondTime() {
        CloudinaryStore store = store(true, StoreConfig.FolderMode.FIXED);
        store.prepare(null);
        Asset a = photo("users/u1/temp/a", 1234);
        Asset b = photo("users/u2/temp/b", 5678);
        emulator.seed(a, b);
        assertThat(store.notUndoable()).isNull();
        assertThat(store.delete(List.of(a.publicId(), b.publicId()), null).deleted()).hasSize(2);
        assertThat(emulator.exists(a.publicId())).isFalse();
        long callsBefore = store.apiCalls();

        Restored first = store.restore(List.of(a.publicId(), b.publicId()), Map.of(), Instant.now().plusSeconds(30));

        assertThat(first.restored()).containsExactly(a.publicId(), b.publicId());
        assertThat(first.alreadyPresent()).isEmpty();
        assertThat(first.notRestorable()).isEmpty();
        assertThat(emulator.asset("image", "upload", a.publicId())).contains(a); // same bytes, format, folder, created_at
        assertThat(emulator.asset("image", "upload", b.publicId())).contains(b);
        assertThat(store.apiCalls() - callsBefore).as("one lookup and one restore call").isEqualTo(2);
        assertThat(emulator.restoreCalls()).isEqualTo(1);

        Restored second = store.restore(List.of(a.publicId(), b.publicId()), Map.of(), null);

        assertThat(second.restored()).isEmpty();
        assertThat(second.alreadyPresent()).containsExactly(a.publicId(), b.publicId());
        assertThat(emulator.restoreCalls()).as("nothing present is sent to restore").isEqualTo(1);
        assertThat(store.apiCalls() - callsBefore).isEqualTo(3);
        assertThat(store.quotaSeen().remaining()).isEqualTo(emulator.remainingBudget());
    }

    @Test
    void shouldSayPerKeyWhatCannotBeRestored_andNeverSendAKeyOutsideTheAllowedPrefixes() {
        CloudinaryStore store = store(true, StoreConfig.FolderMode.FIXED);
        emulator.seed(photo("users/u1/temp/kept", 1), photo("users/u1/temp/unbacked", 2), photo("admin/logo", 3));
        store.delete(List.of("users/u1/temp/kept"), null);
        emulator.setBackups(false);
        store.delete(List.of("users/u1/temp/unbacked"), null); // this one the account did not back up
        emulator.clearAsset("admin/logo"); // someone else deleted it; outside what Reclaim may touch
        emulator.resetCounters();

        Restored r = store.restore(List.of("users/u1/temp/kept", "users/u1/temp/unbacked", "admin/logo"), Map.of(),
                null);

        assertThat(r.restored()).containsExactly("users/u1/temp/kept");
        assertThat(r.notRestorable()).containsOnly(
                Map.entry("users/u1/temp/unbacked", "Cloudinary has no backup of it (no_backup)"),
                Map.entry("admin/logo", CloudinaryStore.OUTSIDE_PREFIXES));
        assertThat(emulator.recentRequests()).as("admin/logo never reached the API")
                .noneMatch(req -> req.query().toString().contains("admin/logo") || req.body().toString().contains("admin/logo"));
    }

    @Test
    void shouldCallNothing_andSayEveryKeyIsNotRestorable_forAnAccountWithoutBackups() {
        CloudinaryStore store = store(false, StoreConfig.FolderMode.FIXED);
        emulator.seed(photo("users/u1/temp/a", 1));
        store.delete(List.of("users/u1/temp/a"), null);
        long calls = store.apiCalls();
        emulator.resetCounters();

        Restored r = store.restore(List.of("users/u1/temp/a", "users/u1/temp/b"), Map.of(), null);

        assertThat(store.notUndoable()).startsWith("Cloudinary account without backups");
        assertThat(r.restored()).isEmpty();
        assertThat(r.notRestorable()).containsOnlyKeys("users/u1/temp/a", "users/u1/temp/b")
                .allSatisfy((k, why) -> assertThat(why).isEqualTo(store.notUndoable()));
        assertThat(store.apiCalls()).isEqualTo(calls);
        assertThat(emulator.totalCalls()).isZero();
    }

    @Test
    void shouldStopAtTheQuotaReserve_beforeTheRestoreCall() {
        emulator.setBudgetLimit(100);
        CloudinaryStore store = store(true, StoreConfig.FolderMode.FIXED);
        store.prepare(null);
        emulator.seed(photo("users/u1/temp/a", 1));
        store.delete(List.of("users/u1/temp/a"), null);
        emulator.setRemainingBudget(21); // the lookup leaves 20 = the reserve (20% of 100)
        long calls = store.apiCalls();

        assertThatThrownBy(() -> store.restore(List.of("users/u1/temp/a"), Map.of(), null))
                .isInstanceOf(StoreThrottled.class).hasMessageContaining("reserve");

        assertThat(emulator.restoreCalls()).isZero();
        assertThat(emulator.exists("users/u1/temp/a")).isFalse();
        assertThat(store.apiCalls() - calls).as("the lookup only").isEqualTo(1);
        assertThatThrownBy(() -> store.restore(List.of("users/u1/temp/a"), Map.of(), null))
                .isInstanceOf(StoreThrottled.class);
        assertThat(store.apiCalls() - calls).as("nothing once at the reserve").isEqualTo(1);
    }

    @Test
    void shouldRetryAServerErrorWithinTheDeadline_andCountEveryAttempt() {
        CloudinaryStore store = store(true, StoreConfig.FolderMode.FIXED);
        store.prepare(null);
        emulator.seed(photo("users/u1/temp/a", 1));
        store.delete(List.of("users/u1/temp/a"), null);
        long calls = store.apiCalls();
        emulator.failNext(2, 503); // the lookup's first two attempts; its third and the restore call pass

        Restored r = store.restore(List.of("users/u1/temp/a"), Map.of(), Instant.now().plusSeconds(30));

        assertThat(r.restored()).containsExactly("users/u1/temp/a");
        assertThat(store.apiCalls() - calls).as("two failed attempts, the lookup, the restore").isEqualTo(4);
    }

    @Test
    void shouldRefuseMoreThanOneBatch() {
        CloudinaryStore store = store(true, StoreConfig.FolderMode.FIXED);
        List<String> keys = IntStream.range(0, 101).mapToObj(i -> "users/u1/temp/" + i).collect(Collectors.toList());
        assertThatThrownBy(() -> store.restore(keys, Map.of(), null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(emulator.totalCalls()).isZero();
    }

    @Test
    void shouldJudgeADynamicModeKeyByTheFolderTheLookupReports() {
        emulator.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        CloudinaryStore store = store(true, StoreConfig.FolderMode.DYNAMIC);
        emulator.seed(Asset.dynamic("k3x9qz7abc", "users/u1/temp", "selfie", T0, 10),
                Asset.dynamic("p0q1r2s3t4", "admin", "logo", T0, 20));
        store.delete(List.of("k3x9qz7abc", "p0q1r2s3t4"), null);

        Restored r = store.restore(List.of("k3x9qz7abc", "p0q1r2s3t4", "never-was"), Map.of(), null);

        assertThat(r.restored()).containsExactly("k3x9qz7abc");
        assertThat(r.notRestorable()).containsEntry("p0q1r2s3t4", CloudinaryStore.OUTSIDE_PREFIXES)
                .containsKey("never-was");
        assertThat(emulator.exists("p0q1r2s3t4")).isFalse();
    }
}
