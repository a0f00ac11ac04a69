package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped moc-purge sweep against the reference schema, a real PostgreSQL and a real S3 server. */
class MocPurgeIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 0);

    private RunReport runMocPurge() {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
    }

    @Test
    void shouldPurgeOnlyExpiredMocs() throws Exception {
        long expired = fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        long total = fx.count("SELECT count(*) FROM moc_instructions");
        long recentlyDeleted = fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at >= now() - interval '30 days'");

        RunReport report = runMocPurge();

        assertThat(expired).isEqualTo(12);
        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        SweepReport sweep = report.sweeps().get(0);
        assertThat(sweep.purged()).isEqualTo(expired);
        assertThat(sweep.failed()).isZero();
        assertThat(sweep.complete()).isTrue();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions")).isEqualTo(total - expired);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE deleted_at >= now() - interval '30 days'"))
                .isEqualTo(recentlyDeleted).isPositive();
    }

    @Test
    void shouldReturnBricksToAvailable_andDeleteNoBrickRow() throws Exception {
        long bricks = fx.count("SELECT count(*) FROM moc_parts");
        long bricksOfExpired = fx.count("""
                SELECT count(*) FROM moc_parts p JOIN moc_parts_lists l ON l.id = p.parts_list_id
                JOIN moc_instructions m ON m.id = l.moc_id WHERE m.""" + EXPIRED);

        RunReport report = runMocPurge();

        assertThat(fx.count("SELECT count(*) FROM moc_parts")).isEqualTo(bricks);
        assertThat(fx.count("SELECT count(*) FROM moc_parts WHERE status = 'available' AND parts_list_id IS NULL"))
                .isEqualTo(bricksOfExpired).isEqualTo(12 * 5);
        assertThat(report.sweeps().get(0).figures()).containsEntry("bricksReturned", bricksOfExpired);
    }

    @Test
    void shouldCascadeToFilesPartsListsAndImageLinks() throws Exception {
        RunReport report = runMocPurge();

        assertThat(report.sweeps().get(0).purged()).isEqualTo(12);
        assertThat(fx.count("SELECT count(*) FROM moc_files f WHERE NOT EXISTS (SELECT 1 FROM moc_instructions m WHERE m.id = f.moc_id)")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_files")).isEqualTo(28 * 2);
        assertThat(fx.count("SELECT count(*) FROM moc_parts_lists")).isEqualTo(28);
        assertThat(fx.count("SELECT count(*) FROM moc_gallery_images g WHERE NOT EXISTS (SELECT 1 FROM moc_instructions m WHERE m.id = g.moc_id)")).isZero();
    }

    @Test
    void shouldKeepAnImageSharedWithASurvivingMoc_andDeleteImagesNoMocUses() throws Exception {
        List<String> sharedWithSurvivor = fx.strings("""
                SELECT g.s3_key FROM gallery_images g
                WHERE EXISTS (SELECT 1 FROM moc_gallery_images l JOIN moc_instructions m ON m.id = l.moc_id
                              WHERE l.gallery_image_id = g.id AND m.""" + EXPIRED + ")"
                + """
                  AND EXISTS (SELECT 1 FROM moc_gallery_images l JOIN moc_instructions m ON m.id = l.moc_id
                              WHERE l.gallery_image_id = g.id AND NOT (m.deleted_at IS NOT NULL AND m.""" + EXPIRED + "))");
        List<String> onlyExpired = fx.strings("""
                SELECT g.s3_key FROM gallery_images g
                WHERE NOT EXISTS (SELECT 1 FROM moc_gallery_images l JOIN moc_instructions m ON m.id = l.moc_id
                                  WHERE l.gallery_image_id = g.id AND NOT (m.deleted_at IS NOT NULL AND m.""" + EXPIRED + "))");

        RunReport report = runMocPurge();

        assertThat(sharedWithSurvivor).isNotEmpty();
        assertThat(fx.strings("SELECT s3_key FROM gallery_images")).containsAll(sharedWithSurvivor)
                .doesNotContainAnyElementsOf(onlyExpired);
        assertThat(report.sweeps().get(0).figures()).containsEntry("imagesOrphaned", (long) onlyExpired.size());
        Set<String> objects = TestS3.keys(fx.mocBucket);
        assertThat(objects).containsAll(sharedWithSurvivor).doesNotContainAnyElementsOf(onlyExpired);
        for (String key : sharedWithSurvivor) {
            assertThat(fx.count("SELECT count(*) FROM moc_gallery_images l JOIN gallery_images g ON g.id = l.gallery_image_id WHERE g.s3_key = '" + key + "'"))
                    .isEqualTo(1);
        }
    }

    @Test
    void shouldDeleteEveryFileThePurgedRowsOwned_andNoOtherObject() throws Exception {
        Set<String> before = TestS3.keys(fx.mocBucket);
        List<String> expiredMocFiles = fx.strings("""
                SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m.""" + EXPIRED + """
                 UNION ALL SELECT thumbnail_key FROM moc_instructions m WHERE m.""" + EXPIRED);

        RunReport report = runMocPurge();

        Set<String> after = TestS3.keys(fx.mocBucket);
        List<String> stillOwned = fx.strings("""
                SELECT s3_key FROM moc_files UNION ALL SELECT thumbnail_key FROM moc_instructions
                UNION ALL SELECT s3_key FROM gallery_images UNION ALL SELECT thumbnail_key FROM gallery_images""");
        assertThat(after).containsExactlyInAnyOrderElementsOf(stillOwned);
        assertThat(after).doesNotContainAnyElementsOf(expiredMocFiles);
        long deleted = before.size() - after.size();
        assertThat(report.sweeps().get(0).keysDeleted()).containsEntry("moc-files", deleted);
        assertThat(report.outbox().pending()).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void shouldRecordTheRunInTheLedger() throws Exception {
        RunReport report = runMocPurge();

        assertThat(fx.strings("SELECT outcome || ' ' || purged || ' ' || failed FROM reclaim.runs WHERE id = '" + report.runId() + "'"))
                .containsExactly("completed 12 0");
        assertThat(fx.count("SELECT count(*) FROM reclaim.runs WHERE finished_at IS NOT NULL AND report ->> 'outcome' = 'completed'"))
                .isEqualTo(1);
    }

    @Test
    void shouldFindNothingToDoOnASecondRun() {
        runMocPurge();

        RunReport second = runMocPurge();

        assertThat(second.sweeps().get(0).eligible()).isZero();
        assertThat(second.sweeps().get(0).purged()).isZero();
    }
}
