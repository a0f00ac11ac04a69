package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped upload-temp sweep: S3 objects under uploads/tmp/ that no MOC file references. */
class UploadTempIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    private RunReport run(boolean dryRun) {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", dryRun, List.of("upload-temp"), null));
        }
    }

    private List<String> upload(String folder, int n) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            keys.add(folder + String.format("%04d", i) + ".pdf");
        }
        TestS3.putAll(fx.mocBucket, keys);
        return keys;
    }

    @Test
    void shouldDeleteUnreferencedTempUploads_pagingAt1000_andFailOnlyTheKeysS3Refused() throws Exception {
        List<String> orphans = upload("uploads/tmp/u1/", 1100);
        List<String> referenced = upload("uploads/tmp/u2/", 3);
        List<String> outside = upload("uploads/final/", 2);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title) VALUES ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'M')");
        for (String k : referenced) {
            fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES ('00000000-0000-0000-0000-000000000001', 'instructions', '" + k + "')");
        }
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms"); // S3 sets LastModified itself: everything is "old"
        try (Reclaim reclaim = fx.reclaim()) {
            reclaim.approve("upload-temp", null); // 1,100 is past a first run's brake: approved, as an operator would
        }
        String blocked = orphans.get(1050);
        RunReport report;
        try (AutoCloseable b = TestS3.blockDeletion(fx.mocBucket, blocked)) {
            report = run(false);
        }

        SweepReport s = report.sweeps().get(0);
        assertThat(s.scanned()).isEqualTo(1103);
        assertThat(s.referenced()).isEqualTo(3);
        assertThat(s.purged()).isEqualTo(1099);
        assertThat(s.failed()).isEqualTo(1);
        assertThat(s.failures()).singleElement().satisfies(f -> {
            assertThat(f.item()).isEqualTo(blocked);
            assertThat(f.error()).startsWith("InternalError");
        });
        assertThat(s.apiCalls()).containsEntry("moc-files", 4L); // 2 list calls, 2 DeleteObjects (1000 + 100)
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(concat(concat(referenced, outside), List.of(blocked)));
    }

    @Test
    void shouldKeepUploadsYoungerThanTheRetention_andDeleteNothingInADryRun() {
        List<String> recent = upload("uploads/tmp/u1/", 5);

        SweepReport kept = run(false).sweeps().get(0);

        assertThat(kept.scanned()).isEqualTo(5);
        assertThat(kept.eligible()).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(recent);

        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms");
        SweepReport dry = run(true).sweeps().get(0);

        assertThat(dry.purged()).isEqualTo(5);
        assertThat(dry.bytesReclaimed()).isPositive();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(recent);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
