package dev.reclaim.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One function as AWS Lambda runs it: the deployment layout {@code sam build} makes (the Makefile's target, or the
 * same copy when make is absent) as the task root, AWS's runtime interface client in a JVM of its own on the runtime
 * class path only (what the managed java21 runtime puts there, copied by the pom to {@code target/lambda-runtime}),
 * and the test's {@link LambdaRuntimeApi} as the Runtime API. Nothing from the test class path reaches it.
 */
public final class DeployedFunction implements AutoCloseable {
    private static final Path JAR = Path.of("target/reclaim.jar");
    private static final Path RUNTIME = Path.of("target/lambda-runtime");
    private static final String RUNTIME_MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

    private final Process process;
    private final Path log;

    private DeployedFunction(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Lays out {@code function} under {@code dir} and starts the runtime with {@code handler}, the function's
     * variables {@code env} (plus the reserved ones Lambda sets) and {@code api} as its Runtime API.
     */
    public static DeployedFunction start(String function, String handler, Map<String, String> env, LambdaRuntimeApi api,
                                         Path dir) throws IOException {
        Path taskRoot = layout(function, dir.resolve("task"));
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", // as the managed runtime starts the JVM
                "-cp", runtimeClassPath(), RUNTIME_MAIN, handler));
        ProcessBuilder pb = new ProcessBuilder(command).directory(taskRoot.toFile()); // Lambda's cwd is the task root
        Map<String, String> vars = pb.environment();
        vars.clear(); // Lambda gives the function its variables and the reserved ones, nothing of this JVM's
        vars.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        vars.putAll(env);
        vars.put("_HANDLER", handler);
        vars.put("LAMBDA_TASK_ROOT", taskRoot.toString());
        vars.put("AWS_LAMBDA_RUNTIME_API", api.address());
        vars.put("AWS_LAMBDA_FUNCTION_NAME", function);
        vars.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        vars.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024");
        vars.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + function);
        vars.put("AWS_LAMBDA_LOG_STREAM_NAME", "2026/12/07/[$LATEST]0123456789abcdef");
        vars.put("AWS_EXECUTION_ENV", "AWS_Lambda_java21");
        vars.putIfAbsent("AWS_REGION", "us-east-1");
        Path log = dir.resolve(function + ".log");
        Process process = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new DeployedFunction(process, log);
    }

    /** What {@code sam build} puts in the function's artifact directory: lib/reclaim.jar and the configuration. */
    static Path layout(String function, Path artifacts) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: the package phase makes it before the integration tests");
        }
        Files.createDirectories(artifacts);
        if (makeIsInstalled()) {
            run("make", "-o", JAR.toString(), "build-" + function, "ARTIFACTS_DIR=" + artifacts.toAbsolutePath());
        } else { // the Makefile's artifact target, step for step
            Files.createDirectories(artifacts.resolve("lib"));
            Files.createDirectories(artifacts.resolve("config"));
            Files.copy(JAR, artifacts.resolve("lib/reclaim.jar"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(Path.of("config/reclaim.yaml"), artifacts.resolve("config/reclaim.yaml"), StandardCopyOption.REPLACE_EXISTING);
        }
        return artifacts.toAbsolutePath();
    }

    private static String runtimeClassPath() throws IOException {
        try (Stream<Path> jars = Files.list(RUNTIME)) {
            List<String> found = jars.filter(p -> p.toString().endsWith(".jar")).map(p -> p.toAbsolutePath().toString()).sorted().toList();
            if (found.stream().noneMatch(j -> j.contains("aws-lambda-java-runtime-interface-client"))) {
                throw new IllegalStateException(RUNTIME + " lacks the runtime interface client: the pom copies it at pre-integration-test");
            }
            return String.join(":", found);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalStateException(RUNTIME + " is missing: the pom copies the Lambda runtime there at pre-integration-test", e);
        }
    }

    private static boolean makeIsInstalled() {
        try {
            Process p = new ProcessBuilder("make", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static void run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Everything the runtime and the function printed so far (Lambda would send it to CloudWatch Logs). */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends the runtime, as Lambda ends an idle execution environment. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
