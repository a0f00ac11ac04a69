package dev.reclaim.sweep;

import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.Status;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
                match: ${PHOTOS_MATCH:-users/*/temp/**}
                olderThan: 24h
                maxListPagesPerRun: ${PHOTOS_PAGES:-}
                maxDeletesPerRun: ${PHOTOS_CAP:-}
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
        assertThat(reports.get(0).sweeps().get(0).listing())
                .isEqualTo(new SweepReport.Listing(null, "users/u1/photos/p0999", false, 0, null, true));
        assertThat(second.listing())
                .isEqualTo(new SweepReport.Listing("users/u1/photos/p0999", "users/u2/temp/young", true, 1, null, true));
        assertThat(second.scanned()).isEqualTo(4); // page 3 only
        assertThat(Reports.summary(reports.get(1))).contains("listing: resumed after users/u1/photos/p0999, wrapped at"
                + " the end after users/u2/temp/young, full passes 1");

        cloudinary.setRemainingBudget(103);
        SweepReport third = photos(false).sweeps().get(0);

        assertThat(third.listing().resumedFrom()).isNull(); // wrapped: the next pass starts at the start
        assertThat(third.listing().stoppedAt()).isEqualTo("users/u1/photos/p0999");
        assertThat(Status.read(fx.db, null, 5).listings()).singleElement().satisfies(p -> {
            assertThat(p.sweep()).isEqualTo("temp-photos");
            assertThat(p.lastKey()).isEqualTo("users/u1/photos/p0999");
            assertThat(p.passes()).isEqualTo(1);
        });
    }

    @Test
    void shouldCountAFullPassEachTimeTheListingWrapsAround_andDeleteNothingYoungOrReferencedOnTheWay() throws Exception {
        fx.env().put("PHOTOS_PAGES", "1");
        seedSaved(1000);
        cloudinary.seed(Asset.image("users/u2/temp/orphan", OLD, 1000), Asset.image("users/u2/temp/referenced", OLD, 1000),
                Asset.image("users/u2/temp/young", YOUNG, 1000));
        reference("users/u2/temp/referenced");

        List<SweepReport.Listing> listings = new ArrayList<>();
        for (int run = 1; run <= 6; run++) {
            listings.add(photos(false).sweeps().get(0).listing());
            if (run == 2) {
                assertThat(cloudinary.exists("users/u2/temp/orphan")).isTrue(); // on page 3
            }
        }

        // 3 pages, 1 a run: ceil(3 / 1) = 3 runs a pass.
        assertThat(listings).extracting(SweepReport.Listing::resumedFrom).containsExactly(null,
                "users/u1/photos/p0499", "users/u1/photos/p0999", null, "users/u1/photos/p0499", "users/u1/photos/p0999");
        assertThat(listings).extracting(SweepReport.Listing::wrapped).containsExactly(false, false, true, false, false, true);
        assertThat(listings).extracting(SweepReport.Listing::passes).containsExactly(0L, 0L, 1L, 1L, 1L, 2L);
        assertThat(cloudinary.exists("users/u2/temp/orphan")).isFalse();
        assertThat(cloudinary.exists("users/u2/temp/referenced")).isTrue();
        assertThat(cloudinary.exists("users/u2/temp/young")).isTrue();
        assertThat(cloudinary.publicIds()).filteredOn(id -> id.startsWith("users/u1/photos/")).hasSize(1000);
    }

    @Test
    void shouldRefuseMaxListPagesPerRunOfZero_asAConfigurationError_deletingNothing() {
        fx.env().put("PHOTOS_PAGES", "0");
        cloudinary.seed(Asset.image("users/u2/temp/orphan", OLD, 1000));

        assertThatThrownBy(() -> photos(false)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.temp-photos.maxListPagesPerRun: must be at least 1 (got 0)");
        assertThat(cloudinary.exists("users/u2/temp/orphan")).isTrue();
        assertThat(cloudinary.listCalls()).isZero();
    }

    @Test
    void shouldStartOver_whenTheSweepsPrefixChanged() {
        fx.env().put("PHOTOS_PAGES", "1");
        seedSaved(1000);

        assertThat(photos(false).sweeps().get(0).listing().stoppedAt()).isEqualTo("users/u1/photos/p0499");
        fx.env().put("PHOTOS_PREFIX", "users/u1/");
        fx.env().put("PHOTOS_MATCH", "users/u1/temp/**");
        SweepReport.Listing after = photos(false).sweeps().get(0).listing();

        // Resumed, it would have listed p0500..p0999; it lists the new prefix from its start.
        assertThat(after).isEqualTo(new SweepReport.Listing(null, "users/u1/photos/p0499", false, 0,
                "configurationChanged", true));
    }

    @Test
    void shouldLeaveThePositionWhereItWas_inADryRun() throws Exception {
        fx.env().put("PHOTOS_PAGES", "1");
        seedSaved(1000);
        cloudinary.seed(Asset.image("users/u2/temp/orphan", OLD, 1000));
        photos(false);

        RunReport dry = photos(true);

        // The dry run says what the next real run would do: it starts where that run will.
        assertThat(dry.sweeps().get(0).listing()).isEqualTo(new SweepReport.Listing("users/u1/photos/p0499",
                "users/u1/photos/p0999", false, 0, null, false));
        assertThat(fx.strings("SELECT last_key FROM reclaim.listing_positions")).containsExactly("users/u1/photos/p0499");
        assertThat(photos(false).sweeps().get(0).listing().resumedFrom()).isEqualTo("users/u1/photos/p0499");
        assertThat(photos(true).sweeps().get(0).purged()).isEqualTo(1); // page 3: would delete the orphan
        assertThat(cloudinary.exists("users/u2/temp/orphan")).isTrue();
        assertThat(photos(false).sweeps().get(0).purged()).isEqualTo(1);
        assertThat(cloudinary.exists("users/u2/temp/orphan")).isFalse();
    }

    @Test
    void shouldResumeAtThePageWhereTheCapStoppedIt_withoutListingTheFolderFromItsStartAgain() {
        fx.env().put("PHOTOS_CAP", "1");
        seedSaved(1000);
        cloudinary.seed(Asset.image("users/u2/temp/o1", OLD, 1000), Asset.image("users/u2/temp/o2", OLD, 1000),
                Asset.image("users/u2/temp/o3", OLD, 1000));

        SweepReport first = photos(false).sweeps().get(0);
        SweepReport second = photos(false).sweeps().get(0);
        SweepReport third = photos(false).sweeps().get(0);

        assertThat(first.stoppedBy()).isEqualTo("cap");
        assertThat(first.scanned()).isEqualTo(1003);
        assertThat(second.listing().resumedFrom()).isEqualTo("users/u1/photos/p0999"); // page 3 again, not page 1
        assertThat(second.scanned()).isEqualTo(2);
        assertThat(third.listing().wrapped()).isTrue();
        assertThat(List.of(first.purged(), second.purged(), third.purged())).containsExactly(1L, 1L, 1L);
        assertThat(cloudinary.publicIds()).noneMatch(id -> id.startsWith("users/u2/"));
    }

    @Test
    void shouldStartOverAndSaySo_whenCloudinaryRefusesTheCursorAnEarlierRunKept() throws Exception {
        fx.env().put("PHOTOS_PAGES", "1");
        seedSaved(1000);
        photos(false);

        cloudinary.expireCursors(); // how long a next_cursor stays valid is not documented (docs/CLOUDINARY.md 7)
        RunReport report = photos(false);

        SweepReport s = report.sweeps().get(0);
        assertThat(s.listing()).isEqualTo(new SweepReport.Listing("users/u1/photos/p0499", "users/u1/photos/p0499",
                false, 0, "cursorRefused", true));
        assertThat(s.failed()).isZero();
        assertThat(Reports.summary(report)).contains("started over: cursorRefused");
        assertThat(Status.read(fx.db, null, 5).text()).contains("refused a kept cursor 1 time(s)");
        assertThat(cloudinary.publicIds()).hasSize(1000);
    }

    @Test
    void shouldResumeASearchInDynamicFolderMode_withTheCutoffItsCursorWasMadeUnder() throws Exception {
        cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        fx.env().put("PHOTOS_PAGES", "1");
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < 1000; i++) { // public ids without a path: the folder is apart from them
            assets.add(Asset.dynamic(String.format("a%04d", i), "users/u1/photos", "p" + i, OLD, 1000));
        }
        cloudinary.seed(assets);
        cloudinary.seed(Asset.dynamic("z1", "users/u2/temp", "orphan", OLD, 1000),
                Asset.dynamic("z2", "users/u2/temp", "young", YOUNG, 1000));

        List<SweepReport> runs = new ArrayList<>();
        for (int run = 1; run <= 3; run++) {
            runs.add(photos(false).sweeps().get(0));
            Thread.sleep(1100); // the next run's cutoff is another second: its search expression differs
        }

        // The search lists only what is older than the cutoff: 1001 assets, 3 pages of 500, one a run.
        assertThat(runs).extracting(r -> r.listing().resumedFrom()).containsExactly(null, "a0499", "a0999");
        assertThat(runs).extracting(r -> r.listing().restarted()).containsOnlyNulls();
        assertThat(runs.get(2).listing().wrapped()).isTrue();
        assertThat(cloudinary.exists("z1")).isFalse();
        assertThat(cloudinary.exists("z2")).isTrue();
        assertThat(cloudinary.publicIds()).hasSize(1001);
    }

    @Test
    void shouldStillMoveOn_whenEveryRunStopsHoldingAShortBatch_carriedFromPageToPage() {
        // 4 pages of 500, one orphan on each: users/uN/photos/... (499 saved) then users/uN/temp/orphan.
        List<Asset> assets = new ArrayList<>();
        for (int user = 1; user <= 4; user++) {
            for (int i = 0; i < 499; i++) {
                assets.add(Asset.image(String.format("users/u%d/photos/p%04d", user, i), OLD, 1000));
            }
            assets.add(Asset.image("users/u" + user + "/temp/orphan", OLD, 1000));
        }
        cloudinary.seed(assets);

        int runs = 0;
        while (runs < 12 && cloudinary.publicIds().stream().anyMatch(id -> id.contains("/temp/"))) {
            cloudinary.setRemainingBudget(103); // the folder-mode check and two more calls a run
            photos(false);
            runs++;
        }

        // An orphan short of a batch waits for the next page, and the quota always ends the run at its next list call:
        // were the position to stay at the page where the short batch began, every run would list the same two pages
        // and delete nothing. The run after one that stopped holding a short batch settles its first page.
        assertThat(cloudinary.publicIds()).noneMatch(id -> id.contains("/temp/")).hasSize(1996);
        assertThat(runs).isLessThanOrEqualTo(8);
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
        assertThat(first.sweeps().get(0).listing())
                .isEqualTo(new SweepReport.Listing(null, "uploads/a/0999.pdf", false, 0, null, true));
        assertThat(second.sweeps().get(0).listing())
                .isEqualTo(new SweepReport.Listing("uploads/a/0999.pdf", "uploads/tmp/o2.pdf", true, 1, null, true));
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(saved);
    }
}
