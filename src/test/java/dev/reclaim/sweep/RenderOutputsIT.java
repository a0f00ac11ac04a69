package dev.reclaim.sweep;

import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped render-outputs sweep: completed jobs past the retention that no user asset references. */
class RenderOutputsIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(0, 30);

    @Test
    void shouldDeleteUnreferencedExpiredJobsAndTheirOutputs_only() throws Exception {
        List<String> referenced = fx.strings("""
                SELECT j.output_key FROM render_jobs j WHERE EXISTS
                  (SELECT 1 FROM user_assets a WHERE a.metadata ->> 'render_job_id' = j.id::text)""");
        List<String> recent = fx.strings("SELECT output_key FROM render_jobs WHERE completed_at > now() - interval '1 hour'");
        List<String> orphaned = fx.strings("""
                SELECT j.output_key FROM render_jobs j WHERE j.completed_at < now() - interval '1 hour' AND NOT EXISTS
                  (SELECT 1 FROM user_assets a WHERE a.metadata ->> 'render_job_id' = j.id::text)""");

        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = reclaim.run(new RunRequest("test", false, List.of("render-outputs"), null));
        }

        assertThat(orphaned).hasSize(10);
        assertThat(report.sweeps().get(0).purged()).isEqualTo(10);
        assertThat(report.sweeps().get(0).figures()).containsEntry("renderJobsDeleted", 10L);
        assertThat(report.sweeps().get(0).keysDeleted()).containsEntry("render-outputs", 10L);
        assertThat(fx.strings("SELECT output_key FROM render_jobs")).containsExactlyInAnyOrderElementsOf(concat(referenced, recent));
        assertThat(TestS3.keys(fx.renderBucket)).containsExactlyInAnyOrderElementsOf(concat(referenced, recent))
                .doesNotContainAnyElementsOf(orphaned);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
