package dev.reclaim.config;

import java.net.URI;
import java.util.stream.Stream;

/** Reading the AWS settings ({@link Settings.Aws}): the first value set, and a URL that names its input when it is not one. */
public final class AwsEnvironment {
    private AwsEnvironment() {
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
