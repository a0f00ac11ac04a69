package dev.reclaim.sweep;

import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20 part 1: an assets sweep whose listing cannot end in one run (a page limit, the Cloudinary quota reserve,
 * the cap, the time budget) carries on where it stopped the run before, and wraps around at the end, so every key is
 * looked at within ceil(pages / pages per run) + 1 runs.
 */
class ListingResumptionIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));
    private static final Instant YOUNG = Instant.now().minus(Duration.ofHours(2));

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private CloudinaryEmulator cloudinary;

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_CLOUDINARY_RETRY_DELAY", "10ms");
        cloudinary = fx.cloudinary;
    }

    private static final String PHOTOS = """
            stores:
              bobblehead-photos:
                type: cloudinary
                allowedPrefixes: [users/]
                referenced: SELECT public_id FROM bobblehead_photos WHERE public_id = ANY(:keys)
            sweeps:
              temp-photos:
                kind: assets
                store: bobblehead-photos
                prefix: ${PHOTOS_PREFIX:-users/}
                match: users/*/temp/**
                olderThan: 24h
                brake: off
            """;

    private RunReport photos(boolean dryRun) {
        return run(fx.reclaim(PHOTOS), "temp-photos", dryRun);
    }

    private static RunReport run(Reclaim reclaim, String sweep, boolean dryRun) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", dryRun, List.of(sweep), null));
        }
    }

    /** {@code n} saved photos users/u1/photos/p0000.. (outside the glob: listed, never deleted), created long ago. */
    private void seedSaved(int n) {
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assets.add(Asset.image(String.format("users/u1/photos/p%04d", i), OLD, 1000));
        }
        cloudinary.seed(assets);
    }

    private void reference(String publicId) throws Exception {
        fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('00000000-0000-0000-0000-0000000000b1',"
                + " gen_random_uuid(), 'Bob') ON CONFLICT DO NOTHING");
        fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES"
                + " ('00000000-0000-0000-0000-0000000000b1', '" + publicId + "')");
    }

    @Test
    void shouldReachTheLastOrphan_whenTheQuotaReserveStopsEveryRunAfterTwoListCalls() throws Exception {
        seedSaved(1000); // pages 1 and 2 (500 a call): users/u1/photos/..., sorted before users/u2/
        cloudinary.seed(Asset.image("users/u2/temp/orphan-1", OLD, 1000), Asset.image("users/u2/temp/orphan-2", OLD, 1000),
                Asset.image("users/u2/temp/referenced", OLD, 1000), Asset.image("users/u2/temp/young", YOUNG, 1000));
        reference("users/u2/temp/referenced");

        List<RunReport> reports = new ArrayList<>();
        for (int run = 1; run <= 4 && cloudinary.exists("users/u2/temp/orphan-2"); run++) {
            // Each run may spend 3 calls above the reserve (100 of 500): the folder-mode check and two list calls.
            cloudinary.setRemainingBudget(103);
            reports.add(photos(false));
        }

        // 3 pages, 2 a run: ceil(3 / 2) = 2 runs (+ 1 had the listing started mid-way). Before issue 20 every run
        // listed pages 1 and 2 again, and the orphans on page 3 stayed for ever.
        assertThat(cloudinary.exists("users/u2/temp/orphan-1")).isFalse();
        assertThat(cloudinary.exists("users/u2/temp/orphan-2")).isFalse();
        assertThat(reports).hasSize(2);
        assertThat(reports.get(0).sweeps().get(0).stoppedBy()).isEqualTo("rateLimited");
        SweepReport second = reports.get(1).sweeps().get(0);
        assertThat(second.purged()).isEqualTo(2);
        assertThat(cloudinary.exists("users/u2/temp/referenced")).isTrue();
        assertThat(cloudinary.exists("users/u2/temp/young")).isTrue();
        assertThat(cloudinary.publicIds()).filteredOn(id -> id.startsWith("users/u1/photos/")).hasSize(1000);
    }

    private static final String UPLOADS = """
            stores:
              moc-files:
                type: s3
                bucket: ${RECLAIM_MOC_BUCKET}
                pathStyle: true
                allowedPrefixes: [uploads/]
                referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)
            sweeps:
              upload-temp:
                kind: assets
                store: moc-files
                prefix: uploads/
                match: uploads/tmp/**
                olderThan: 1ms
                maxListPagesPerRun: 1
                brake: off
            """;

    @Test
    void shouldReachTheLastOrphanOfAnS3Prefix_inAsManyRunsAsItHasPages_whenEachRunListsOnePage() {
        List<String> saved = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            saved.add(String.format("uploads/a/%04d.pdf", i)); // page 1 (1000 a call), outside the glob
        }
        TestS3.putAll(fx.mocBucket, saved);
        TestS3.putAll(fx.mocBucket, List.of("uploads/tmp/o1.pdf", "uploads/tmp/o2.pdf")); // page 2

        RunReport first = run(fx.reclaim(UPLOADS), "upload-temp", false);

        assertThat(first.sweeps().get(0).scanned()).isEqualTo(1000);
        assertThat(TestS3.exists(fx.mocBucket, "uploads/tmp/o2.pdf")).isTrue();

        RunReport second = run(fx.reclaim(UPLOADS), "upload-temp", false);

        // 2 pages, 1 a run: the second run lists page 2, where the orphans are.
        assertThat(second.sweeps().get(0).scanned()).isEqualTo(2);
        assertThat(second.sweeps().get(0).purged()).isEqualTo(2);
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(saved);
    }
}
