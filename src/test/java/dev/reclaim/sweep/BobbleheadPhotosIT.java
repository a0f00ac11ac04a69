package dev.reclaim.sweep;

import dev.reclaim.testing.TestSettings;

import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.SweepReport;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.db.Database;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Listing;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The shipped bobblehead-temp-photos sweep against the Cloudinary emulator and a real PostgreSQL. */
class BobbleheadPhotosIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));
    private static final Instant FRESH = Instant.now().minus(Duration.ofHours(2));

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private CloudinaryEmulator cloudinary;

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_CLOUDINARY_RETRY_DELAY", "10ms");
        cloudinary = fx.cloudinary;
    }

    private RunReport run() {
        return run(fx.reclaim(), false);
    }

    private RunReport run(Reclaim reclaim, boolean dryRun) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", dryRun, List.of("bobblehead-temp-photos"), null));
        }
    }

    /** n photos in users/{user}/temp/, created at the given time, 1000 bytes each. */
    private List<String> seedTemp(String user, int n, Instant createdAt) {
        List<String> ids = new ArrayList<>();
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "users/" + user + "/temp/" + UUID.randomUUID();
            ids.add(id);
            assets.add(Asset.image(id, createdAt, 1000));
        }
        cloudinary.seed(assets);
        return ids;
    }

    /** A saved bobblehead that references these photos. */
    private void reference(List<String> publicIds) throws Exception {
        String bobblehead = UUID.randomUUID().toString();
        fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('" + bobblehead + "', gen_random_uuid(), 'Bob')");
        for (String id : publicIds) {
            fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES ('" + bobblehead + "', '" + id + "')");
        }
    }

    private SweepReport sweep(RunReport r) {
        return r.sweeps().get(0);
    }

    @Test
    void shouldDeleteOldOrphans_andNeverAReferencedOrYoungPhoto() throws Exception {
        List<String> orphans = seedTemp("u1", 30, OLD);
        List<String> referenced = seedTemp("u1", 20, OLD);
        List<String> young = seedTemp("u2", 10, FRESH);
        reference(referenced);

        RunReport report = run();

        SweepReport s = sweep(report);
        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(s.scanned()).isEqualTo(60);
        assertThat(s.eligible()).isEqualTo(50);
        assertThat(s.referenced()).isEqualTo(20);
        assertThat(s.purged()).isEqualTo(30);
        assertThat(s.failed()).isZero();
        assertThat(s.bytesReclaimed()).isEqualTo(30_000);
        assertThat(s.keysDeleted()).containsEntry("bobblehead-photos", 30L);
        assertThat(cloudinary.publicIds()).containsExactlyInAnyOrderElementsOf(concat(referenced, young));
    }

    @Test
    void shouldNeverDeleteOutsideTheGlobOrThePrefixGuard() throws Exception {
        List<String> orphans = seedTemp("u1", 5, OLD);
        cloudinary.seed(
                Asset.image("users/u1/profile/avatar", OLD, 10),          // under the prefix, outside the glob
                Asset.image("users/u1/temporary/x", OLD, 10),             // close, but not temp/
                Asset.image("products/temp/p1", OLD, 10),                 // outside the listing prefix
                Asset.image("users/temp/x", OLD, 10));                    // users/*/temp/** needs a user folder
        String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("config/reclaim.yaml"))
                .replace("allowedPrefixes: [users/]", "allowedPrefixes: [users/u2/]");
        seedTemp("u2", 3, OLD);
        // The loader refuses a glob reaching outside the guard; the guard itself must hold even so (defence in depth).
        assertThatThrownBy(() -> fx.reclaim(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("lies outside the allowed prefixes of store bobblehead-photos");
        ReclaimConfig shipped = fx.config();
        StoreConfig.Cloudinary photos = (StoreConfig.Cloudinary) shipped.stores().get("bobblehead-photos");
        Map<String, StoreConfig> stores = new LinkedHashMap<>(shipped.stores());
        stores.put(photos.name(), new StoreConfig.Cloudinary(photos.name(), photos.resourceType(), photos.deliveryType(),
                photos.quotaReserve(), photos.timeout(), photos.maxAttempts(), photos.retryDelay(), List.of("users/u2/"),
                photos.referenced(), StoreConfig.FolderMode.FIXED));
        ReclaimConfig narrowed = new ReclaimConfig(shipped.source(), stores, shipped.sweeps());
        HikariDataSource pool = Database.pool(TestSettings.of(fx.env()).database());
        Stores built = ReclaimFixture.stores(narrowed, fx.env());

        RunReport guarded = run(new Reclaim(narrowed, pool, built, null, Outbox.Policy.DEFAULT, pool, built), false);

        SweepReport s = sweep(guarded);
        assertThat(s.keysRefused()).isEqualTo(5);
        assertThat(s.purged()).isEqualTo(3);
        assertThat(cloudinary.publicIds()).containsAll(orphans)
                .contains("users/u1/profile/avatar", "users/u1/temporary/x", "products/temp/p1", "users/temp/x")
                .noneMatch(id -> id.startsWith("users/u2/"));
    }

    @Test
    void shouldListAcrossManyPages_andDelete250OrphansIn3Calls() throws Exception {
        List<String> referenced = seedTemp("a", 950, OLD);
        reference(referenced);
        List<String> orphans = seedTemp("b", 250, OLD);
        cloudinary.resetCounters();

        RunReport report = run();

        SweepReport s = sweep(report);
        assertThat(s.scanned()).isEqualTo(1200);
        assertThat(cloudinary.listCalls()).isEqualTo(3);
        assertThat(cloudinary.deleteCalls()).isEqualTo(3);
        assertThat(s.apiCalls()).containsEntry("bobblehead-photos", 6L);
        assertThat(s.purged()).isEqualTo(250);
        assertThat(cloudinary.publicIds()).containsExactlyInAnyOrderElementsOf(referenced);
    }

    @Test
    void shouldCountInTheReportEveryCallThatReachedCloudinary_theFolderModeCallIncluded() throws Exception {
        reference(seedTemp("a", 950, OLD));
        seedTemp("b", 250, OLD);
        cloudinary.resetCounters();

        RunReport report = run();

        assertThat(cloudinary.configCalls()).isEqualTo(1); // the folder mode, asked once by this process
        assertThat(cloudinary.totalCalls()).isEqualTo(7);  // + 3 listings + 3 deletes
        assertThat(report.apiCalls()).containsEntry("bobblehead-photos", cloudinary.totalCalls());
        assertThat(sweep(report).apiCalls()).containsEntry("bobblehead-photos", 6L); // the sweep's own calls
    }

    @Test
    void shouldFillEveryDeleteCallAcrossPages_soCallsAreExactlyOrphansOver100() throws Exception {
        List<Asset> assets = new ArrayList<>();
        List<String> referenced = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            String id = String.format("users/u/temp/%04d", i);
            assets.add(Asset.image(id, OLD, 10));
            if (i % 2 == 0) {
                referenced.add(id); // every page of 500 holds 250 orphans
            }
        }
        cloudinary.seed(assets);
        reference(referenced);
        cloudinary.resetCounters();

        SweepReport s = sweep(run());

        assertThat(s.purged()).isEqualTo(500);
        assertThat(cloudinary.listCalls()).isEqualTo(2);
        assertThat(cloudinary.deleteCalls()).isEqualTo(5); // not 3 + 3: the half batch waits for the next page
        assertThat(cloudinary.publicIds()).containsExactlyInAnyOrderElementsOf(referenced);
    }

    @Test
    void shouldStopAtTheQuotaReserve_withoutFailures_andResumeOnTheNextRun() throws Exception {
        seedTemp("u", 3000, OLD); // 6 list pages, 30 delete calls
        cloudinary.setBudgetLimit(100);
        cloudinary.setRemainingBudget(30);

        RunReport first = run();

        SweepReport s = sweep(first);
        assertThat(s.stoppedBy()).isEqualTo("rateLimited");
        assertThat(s.complete()).isFalse();
        assertThat(s.failed()).isZero();
        assertThat(s.quotaResetsAt()).isNotNull();
        assertThat(cloudinary.remainingBudget()).isEqualTo(20); // 20% of 100 kept for the application
        assertThat(cloudinary.rateLimitedCalls()).isZero();
        long left = cloudinary.assetCount();
        assertThat(left).isLessThan(3000).isPositive();
        assertThat(first.outcome()).isEqualTo(Outcome.COMPLETED);

        cloudinary.resetBudget(); // the hour turned
        try (Reclaim reclaim = fx.reclaim()) {
            reclaim.approve("bobblehead-temp-photos", null); // what is left is past a first run's brake: approved
        }
        RunReport next = run();

        assertThat(sweep(next).complete()).isTrue();
        assertThat(sweep(next).purged()).isEqualTo(left);
        assertThat(cloudinary.assetCount()).isZero();
    }

    @Test
    void shouldStopOn420WithoutCountingFailures() {
        seedTemp("u", 50, OLD);
        cloudinary.setRemainingBudget(0);

        RunReport report = run();

        SweepReport s = sweep(report);
        assertThat(s.stoppedBy()).isEqualTo("rateLimited");
        assertThat(s.failed()).isZero();
        assertThat(s.quotaResetsAt()).isNotNull();
        assertThat(cloudinary.rateLimitedCalls()).isEqualTo(1);
        assertThat(cloudinary.assetCount()).isEqualTo(50);
    }

    @Test
    void shouldStopOn429TheSameWay() {
        seedTemp("u", 50, OLD);
        cloudinary.failNext(1, 429);

        SweepReport s = sweep(run());

        assertThat(s.stoppedBy()).isEqualTo("rateLimited");
        assertThat(s.failed()).isZero();
        assertThat(cloudinary.assetCount()).isEqualTo(50);
    }

    @Test
    void shouldCountNotFoundAsDeleted() throws Exception {
        List<String> orphans = seedTemp("u", 10, OLD);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        // Someone else deletes half of them between our listing and our delete call.
        stores.put("bobblehead-photos", new ForwardingStore(real.get("bobblehead-photos")) {
            @Override
            public BatchResult delete(List<String> keys, java.time.Instant deadline) {
                orphans.subList(0, 5).forEach(id -> cloudinary.clearAsset(id));
                return super.delete(keys, deadline);
            }
        });

        SweepReport s = sweep(run(fx.reclaim(new Stores(stores, real)), false));

        assertThat(s.purged()).isEqualTo(10);
        assertThat(s.failed()).isZero();
        assertThat(cloudinary.assetCount()).isZero();
    }

    @Test
    void shouldRetryA5xxAndThenSucceed() {
        seedTemp("u", 20, OLD);
        cloudinary.failNext(2, 500);

        SweepReport s = sweep(run());

        assertThat(s.purged()).isEqualTo(20);
        assertThat(s.failed()).isZero();
        assertThat(cloudinary.assetCount()).isZero();
    }

    @Test
    void shouldRetryATimeoutAndThenSucceed() {
        fx.env().put("RECLAIM_CLOUDINARY_TIMEOUT", "400ms");
        seedTemp("u", 20, OLD);
        cloudinary.setTimeoutHold(Duration.ofSeconds(3));
        SweepReport s;
        try (Reclaim reclaim = fx.reclaim()) {
            reclaim.run(new RunRequest("test", false, List.of("render-outputs"), null)); // the store asks its folder mode
            cloudinary.timeoutNext(1);
            s = sweep(reclaim.run(new RunRequest("test", false, List.of("bobblehead-temp-photos"), null)));
        }

        assertThat(s.purged()).isEqualTo(20);
        assertThat(s.failed()).isZero();
        assertThat(s.apiCalls().get("bobblehead-photos")).isEqualTo(3); // list timed out once, list again, delete
        assertThat(cloudinary.assetCount()).isZero();
    }

    @Test
    void shouldReportABatchThatKeepsFailing_andGoOn() throws Exception {
        List<String> orphans = seedTemp("u", 150, OLD);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        int[] deletes = {0};
        stores.put("bobblehead-photos", new ForwardingStore(real.get("bobblehead-photos")) {
            @Override
            public BatchResult delete(List<String> keys, java.time.Instant deadline) {
                if (deletes[0]++ == 0) {
                    cloudinary.failNext(4, 503); // every one of the store's 4 attempts
                }
                return super.delete(keys, deadline);
            }
        });

        SweepReport s = sweep(run(fx.reclaim(new Stores(stores, real)), false));

        assertThat(s.failed()).isEqualTo(100);
        assertThat(s.keysFailed()).containsEntry("bobblehead-photos", 100L);
        assertThat(s.failures()).isNotEmpty().allSatisfy(f -> assertThat(f.error()).contains("503"));
        assertThat(s.purged()).isEqualTo(50);
        assertThat(cloudinary.assetCount()).isEqualTo(100);
    }

    @Test
    void shouldKeepAPhotoReferencedBetweenListingAndDeletion() throws Exception {
        List<String> orphans = seedTemp("u", 10, OLD);
        String saved = orphans.get(3);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        // The user saves the bobblehead right after Reclaim listed the folder.
        stores.put("bobblehead-photos", new ForwardingStore(real.get("bobblehead-photos")) {
            @Override
            public Listing list(String prefix, java.time.Instant createdBefore, String cursor, java.time.Instant deadline) {
                Listing page = super.list(prefix, createdBefore, cursor, deadline);
                try {
                    reference(List.of(saved));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return page;
            }
        });

        SweepReport s = sweep(run(fx.reclaim(new Stores(stores, real)), false));

        assertThat(s.purged()).isEqualTo(9);
        assertThat(s.referenced()).isEqualTo(1);
        assertThat(cloudinary.publicIds()).containsExactly(saved);
    }

    @Test
    void dryRunShouldDeleteNothing_andSayWhatWouldGo() throws Exception {
        List<String> orphans = seedTemp("u", 120, OLD);
        cloudinary.resetCounters();

        RunReport report = run(fx.reclaim(), true);

        SweepReport s = sweep(report);
        assertThat(report.dryRun()).isTrue();
        assertThat(s.purged()).isEqualTo(120);
        assertThat(s.bytesReclaimed()).isEqualTo(120_000);
        assertThat(s.sampleIds()).hasSize(10).allSatisfy(id -> assertThat(orphans).contains(id));
        assertThat(cloudinary.deleteCalls()).isZero();
        assertThat(cloudinary.assetCount()).isEqualTo(120);
    }

    @Test
    void shouldStopCleanlyAtTheCap() {
        seedTemp("u", 300, OLD);
        fx.env().put("RECLAIM_BOBBLEHEAD_MAX_DELETES", "120");

        SweepReport s = sweep(run());

        assertThat(s.purged()).isEqualTo(120);
        assertThat(s.stoppedBy()).isEqualTo("cap");
        assertThat(cloudinary.assetCount()).isEqualTo(180);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
