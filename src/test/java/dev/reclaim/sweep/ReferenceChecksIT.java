package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Items 1 and 2 of the Trust issue: a reference query is never trusted blindly (a value it was not asked about stops
 * whatever called it), and a store's own reference check, run right before every delete call, keeps a file that any
 * row still holds, whichever sweep or step sent it.
 */
class ReferenceChecksIT {
    private static final String MOC = "00000000-0000-0000-0000-0000000000a1";
    private static final String SHIPPED_UPLOAD_REFERENCED = "SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private String shipped;

    @BeforeEach
    void setUp() throws Exception {
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms"); // S3 sets LastModified itself: everything is "old"
        shipped = Files.readString(Path.of("config/reclaim.yaml"));
        assertThat(shipped).contains(SHIPPED_UPLOAD_REFERENCED);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title) VALUES ('" + MOC + "', gen_random_uuid(), 'live')");
    }

    private RunReport run(Reclaim reclaim, String sweep, boolean dryRun) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", dryRun, List.of(sweep), null));
        }
    }

    private List<String> upload(String folder, int n) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            keys.add(folder + "f" + i + ".pdf");
        }
        TestS3.putAll(fx.mocBucket, keys);
        return keys;
    }

    private void mocFile(String key) throws Exception {
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES ('" + MOC + "', 'instructions', '" + key + "')");
    }

    @Test
    void shouldStopTheSweepAndDeleteNothing_whenItsReferenceQueryReturnsAColumnOtherThanTheKeys() throws Exception {
        List<String> uploads = upload("uploads/tmp/u1/", 5);
        mocFile(uploads.get(0));
        mocFile(uploads.get(1));
        // Passes every start-up check (one text column), but answers with MOC ids instead of keys.
        String yaml = shipped.replace(SHIPPED_UPLOAD_REFERENCED,
                "SELECT moc_id::text FROM moc_files WHERE s3_key = ANY(:keys)");

        RunReport dry = run(fx.reclaim(yaml), "upload-temp", true);
        RunReport real = run(fx.reclaim(yaml), "upload-temp", false);

        for (RunReport report : List.of(dry, real)) {
            SweepReport s = report.sweeps().get(0);
            assertThat(s.stoppedBy()).isEqualTo("referenceCheckFailed");
            assertThat(s.purged()).isZero();
            assertThat(s.error()).contains("upload-temp", MOC);
        }
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(uploads);
    }

    @Test
    void shouldCountDistinctKeysKeptAsReferenced_notRows() throws Exception {
        List<String> uploads = upload("uploads/tmp/u1/", 4);
        mocFile(uploads.get(0));
        mocFile(uploads.get(0)); // two rows, one key

        SweepReport dry = run(fx.reclaim(), "upload-temp", true).sweeps().get(0);
        SweepReport real = run(fx.reclaim(), "upload-temp", false).sweeps().get(0);

        assertThat(dry.referenced()).isEqualTo(1);
        assertThat(dry.purged()).isEqualTo(3);
        assertThat(real.referenced()).isEqualTo(1);
        assertThat(real.purged()).isEqualTo(3);
        assertThat(TestS3.keys(fx.mocBucket)).containsExactly(uploads.get(0));
    }

    @Test
    void shouldKeepAFileALiveMocStillUses_whenAnExpiredMocSharingItIsPurged() throws Exception {
        String shared = "mocs/shared/instructions.pdf";
        String own = "mocs/expired/parts.csv";
        TestS3.putAll(fx.mocBucket, List.of(shared, own));
        mocFile(shared);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES "
                + "('00000000-0000-0000-0000-0000000000b2', gen_random_uuid(), 'expired', now() - interval '40 days')");
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES "
                + "('00000000-0000-0000-0000-0000000000b2', 'instructions', '" + shared + "'), "
                + "('00000000-0000-0000-0000-0000000000b2', 'parts', '" + own + "')");

        RunReport report = run(fx.reclaim(), "moc-purge", false);

        SweepReport s = report.sweeps().get(0);
        assertThat(s.purged()).isEqualTo(1);
        assertThat(s.keysKeptReferenced()).containsEntry("moc-files", 1L);
        assertThat(report.outbox().keptReferenced()).containsEntry("moc-files", 1L);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactly(shared);
    }

    @Test
    void shouldKeepATempUploadAnotherTableReferences_evenWhenTheSweepsOwnQueryMissesIt() throws Exception {
        List<String> uploads = upload("uploads/tmp/u1/", 3);
        fx.execute("INSERT INTO gallery_images (user_id, s3_key) VALUES (gen_random_uuid(), '" + uploads.get(2) + "')");

        SweepReport dry = run(fx.reclaim(), "upload-temp", true).sweeps().get(0);
        SweepReport real = run(fx.reclaim(), "upload-temp", false).sweeps().get(0);

        assertThat(dry.referenced()).isEqualTo(1);
        assertThat(dry.purged()).isEqualTo(2);
        assertThat(real.referenced()).isEqualTo(1);
        assertThat(real.purged()).isEqualTo(2);
        assertThat(TestS3.keys(fx.mocBucket)).containsExactly(uploads.get(2));
    }

    @Test
    void shouldRunWithOnlyTheStoresCheck_whenTheSweepDeclaresNone() throws Exception {
        List<String> uploads = upload("uploads/tmp/u1/", 3);
        mocFile(uploads.get(0));
        String own = "    referenced: |\n      " + SHIPPED_UPLOAD_REFERENCED;
        int at = shipped.lastIndexOf(own); // the sweep's, after the store's
        assertThat(at).isGreaterThan(shipped.indexOf("  upload-temp:"));
        String yaml = shipped.substring(0, at) + shipped.substring(at + own.length());

        SweepReport s = run(fx.reclaim(yaml), "upload-temp", false).sweeps().get(0);

        assertThat(s.referenced()).isEqualTo(1);
        assertThat(s.purged()).isEqualTo(2);
        assertThat(TestS3.keys(fx.mocBucket)).containsExactly(uploads.get(0));
    }

    @Test
    void shouldStopDeletingFromAStore_whenItsReferenceQueryAnswersWithKeysItWasNotAsked() throws Exception {
        String other = "mocs/live/instructions.pdf";
        String own = "mocs/expired/parts.csv";
        TestS3.putAll(fx.mocBucket, List.of(other, own));
        mocFile(other);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES "
                + "('00000000-0000-0000-0000-0000000000b2', gen_random_uuid(), 'expired', now() - interval '40 days')");
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES "
                + "('00000000-0000-0000-0000-0000000000b2', 'parts', '" + own + "')");
        // A wrong WHERE clause: it answers with some live key, whatever it was asked.
        String yaml = shipped.replaceFirst("(?s)(  moc-files:\n.*?    referenced: \\|\n)(.*?)(\n\n)",
                "$1      SELECT s3_key FROM moc_files WHERE cardinality(:keys::text[]) > 0 AND s3_key LIKE 'mocs/live/%'$3");
        assertThat(yaml).contains("cardinality(:keys::text[])");

        RunReport report = run(fx.reclaim(yaml), "moc-purge", false);

        assertThat(report.sweeps().get(0).purged()).isEqualTo(1);
        assertThat(report.outbox().errors()).singleElement().satisfies(e -> assertThat(e).contains("moc-files", other));
        assertThat(fx.strings("SELECT key || ' ' || attempts FROM reclaim.pending_deletions")).containsExactly(own + " 0");
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrder(other, own);
    }
}
