package dev.reclaim.handler;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What {@code sam build} runs (the Makefile's target per function, ARTIFACTS_DIR set), into a temporary directory.
 * The shaded jar this build's package phase made is reused ({@code make -o}): no Maven inside Maven.
 */
class SamBuildIT {
    private static final Path JAR = Path.of("target/reclaim.jar");

    /** sam build needs make; the test command does not, so without it these checks are skipped, and say so. */
    @BeforeAll
    static void makeIsInstalled() {
        boolean found;
        try {
            Process p = new ProcessBuilder("make", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            found = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            found = false;
        }
        assumeTrue(found, "make is not on the PATH: the Makefile's sam build targets are not checked");
    }

    @Test
    void shouldPutTheShadedJarWithBothHandlersAndTheConfigurationInTheArtifact(@TempDir Path artifacts) throws Exception {
        assertThat(JAR).as("mvn verify packages the jar before the integration tests").exists();
        for (String target : List.of("build-CleanupFunction", "build-RetryFunction", "build-WorkerFunction")) {
            Path dir = Files.createDirectories(artifacts.resolve(target));

            Process make = new ProcessBuilder("make", "-o", JAR.toString(), target, "ARTIFACTS_DIR=" + dir)
                    .redirectErrorStream(true).start();
            String output = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(make.waitFor(60, TimeUnit.SECONDS)).isTrue();

            assertThat(make.exitValue()).as(output).isZero();
            assertThat(dir.resolve("config/reclaim.yaml")).hasSameTextualContentAs(Path.of("config/reclaim.yaml"));
            try (ZipFile jar = new ZipFile(dir.resolve("lib/reclaim.jar").toFile())) {
                assertThat(jar.getEntry("dev/reclaim/handler/ScheduledRunHandler.class")).isNotNull();
                assertThat(jar.getEntry("dev/reclaim/handler/RetryHandler.class")).isNotNull();
                assertThat(jar.getEntry("dev/reclaim/handler/SnapStartHook.class")).isNotNull();
                assertThat(jar.getEntry("org/crac/Resource.class")).isNotNull();
                assertThat(jar.getEntry("com/amazonaws/services/lambda/runtime/events/SQSEvent.class")).isNotNull();
                assertThat(jar.getEntry("org/joda/time/DateTime.class")).as("the runtime's SQS event serializer needs it").isNotNull();
                assertThat(jar.getEntry("io/zonky/test/db/postgres/embedded/EmbeddedPostgres.class")).as("no test service").isNull();
            }
        }
    }

    @Test
    void shouldPackageWithoutRunningOrCompilingTheTests_whenTheJarMustBeRebuilt() throws Exception {
        // -n prints what make would run, -B as if everything were out of date.
        Process make = new ProcessBuilder("make", "-n", "-B", "build-CleanupFunction", "ARTIFACTS_DIR=/tmp/unused")
                .redirectErrorStream(true).start();
        String output = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(make.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(make.exitValue()).as(output).isZero();
        assertThat(output.lines().filter(l -> l.startsWith("mvn"))).singleElement().satisfies(mvn -> {
            assertThat(mvn).contains("-Dmaven.test.skip=true").endsWith(" package");
        });
    }

    @Test
    void shouldRefuseToBuild_whenArtifactsDirIsNotSet() throws Exception {
        Process make = new ProcessBuilder("make", "-o", JAR.toString(), "build-CleanupFunction", "ARTIFACTS_DIR=")
                .redirectErrorStream(true).start();
        String output = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(make.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(make.exitValue()).isNotZero();
        assertThat(output).contains("ARTIFACTS_DIR is not set");
    }
}
