package dev.reclaim.config;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The standard AWS variables, read from the environment map Reclaim was given (the process environment in Lambda,
 * an explicit map in tests and the local run), so every AWS client is configured the same way.
 */
public final class AwsEnvironment {
    private AwsEnvironment() {
    }

    /** {@code AWS_REGION}, else {@code AWS_DEFAULT_REGION}, else null. */
    public static String region(Map<String, String> env) {
        return firstSet(env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"));
    }

    /** {@code AWS_ENDPOINT_URL_<SERVICE>}, else {@code AWS_ENDPOINT_URL}, else null (the service's real endpoint). */
    public static String endpoint(Map<String, String> env, String service) {
        return firstSet(env.get("AWS_ENDPOINT_URL_" + service), env.get("AWS_ENDPOINT_URL"));
    }

    /** Explicit keys from the map when present (local runs), else the SDK's default chain (Lambda's role). */
    public static AwsCredentialsProvider credentials(Map<String, String> env) {
        String id = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        if (id != null && secret != null && env.get("AWS_SESSION_TOKEN") == null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /** {@code value} as a URI (null when null); {@code variable} names it when it is not one. */
    public static URI url(String variable, String value) {
        try {
            return value == null ? null : URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(variable + ": '" + value + "' is not a URL");
        }
    }

    public static String firstSet(String... values) {
        return Stream.of(values).filter(v -> v != null && !v.isBlank()).findFirst().orElse(null);
    }
}
