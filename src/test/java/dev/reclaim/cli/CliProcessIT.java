package dev.reclaim.cli;

import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The first deployment as an operator runs it, through the packaged jar in a process of its own: its exit code,
 * stdout and stderr. Plan, apply the plan, and a plan that was cut short refused with nothing deleted.
 */
class CliProcessIT {
    private static final Path JAR = Path.of("target/reclaim.jar");

    @TempDir
    Path dir;
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9);

    /** What the process left: its exit code and both streams. */
    private record Exit(int code, String out, String err) {
    }

    private Exit reclaim(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("RECLAIM_") || k.startsWith("AWS_") || k.equals("SENTRY_DSN")
                || k.equals("CLOUDINARY_URL"));
        env.putAll(fx.env());
        env.put("RECLAIM_LOG_FORMAT", "text");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("reclaim %s finished", String.join(" ", args)).isTrue();
        return new Exit(p.exitValue(), Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void shouldPlanThenApplyThePlan_andRefuseATruncatedOne_throughThePackagedJar() throws Exception {
        Path plan = dir.resolve("plan.jsonl");
        String expired = "SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'";
        long mocs = fx.count(expired);
        assertThat(mocs).isPositive();

        Exit planned = reclaim("plan", "--out", plan.toString(), "--sweep", "moc-purge");

        assertThat(planned.code()).as(planned.err()).isZero();
        assertThat(planned.out()).contains("DRY RUN", "would purge " + mocs);
        assertThat(planned.err()).contains("plan written to " + plan);
        assertThat(fx.count(expired)).isEqualTo(mocs);

        Path truncated = dir.resolve("truncated.jsonl");
        List<String> lines = Files.readAllLines(plan, StandardCharsets.UTF_8);
        Files.write(truncated, lines.subList(0, lines.size() - 1), StandardCharsets.UTF_8);
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        Exit refused = reclaim("apply", truncated.toString());

        assertThat(refused.code()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err()).contains("no end line: the file is truncated", "Nothing was run and nothing was deleted.");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);

        Exit applied = reclaim("apply", plan.toString());

        assertThat(applied.code()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("Applied plan " + plan, "held " + mocs + " records", "applied " + mocs + " records");
        assertThat(fx.count(expired)).isZero();
    }
}
