package dev.reclaim.sweep;

import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Item 5: cron jobs and minimal containers run Java without a locale, where file names are ASCII only. The CLI runs
 * in such a child JVM (LANG, LC_ALL and LC_CTYPE removed) against this test's PostgreSQL and S3Mock, and must still
 * delete an old temp upload whose key is not ASCII.
 */
class NonAsciiKeysWithoutLocaleIT {
    private static final String JAPANESE = "uploads/tmp/u1/日本.pdf";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    @Test
    void shouldDeleteAnOldNonAsciiTempUpload_whenTheJvmRunsWithoutALocale() throws Exception {
        TestS3.putAll(fx.mocBucket, List.of(JAPANESE, "uploads/tmp/u1/plain.pdf"));
        Map<String, String> env = withoutLocale(fx.env());
        env.put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms");

        assertThat(childProperty(env, "sun.jnu.encoding")).as("the child JVM's file-name encoding").isNotEqualToIgnoringCase("UTF-8");
        Child run = child(env, "dev.reclaim.cli.ReclaimCli", "run", "--sweep", "upload-temp");

        assertThat(run.exit).as(run.output).isZero();
        assertThat(run.output).contains("outcome: completed");
        assertThat(TestS3.keys(fx.mocBucket)).as(run.output).isEmpty();
    }

    private static Map<String, String> withoutLocale(Map<String, String> fixtureEnv) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeAll(List.of("LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"));
        env.putAll(fixtureEnv);
        return env;
    }

    /** What a JVM started with {@code env} reports for a system property (same binary as the child that runs). */
    private static String childProperty(Map<String, String> env, String name) throws Exception {
        Child settings = start(env, List.of(java(), "-XshowSettings:properties", "-version"));
        Matcher m = Pattern.compile("^\\s*" + Pattern.quote(name) + " = (.*)$", Pattern.MULTILINE).matcher(settings.output);
        assertThat(m.find()).as(settings.output).isTrue();
        return m.group(1).trim();
    }

    private static Child child(Map<String, String> env, String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        return start(env, command);
    }

    private static Child start(Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish: " + command);
        }
        return new Child(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElseThrow();
    }

    private record Child(int exit, String output) {
    }
}
