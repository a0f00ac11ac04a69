package dev.reclaim.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps credentials out of every message, log line and report. Two layers: {@link #redact(String)} removes what looks
 * like a credential in any text (the user-info of a URL, {@code password=} and {@code api_secret=} parameters), and
 * {@link #of(Map)} also removes the exact values of the secrets the environment holds, wherever they appear.
 */
public final class Redaction {
    public static final String MASK = "***";

    /** scheme://user:password@host or scheme://key@host (a Sentry DSN's key): the whole user-info goes. */
    private static final Pattern USER_INFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*:(?:[a-z][a-z0-9+.-]*:)?//)([^/?#@\\s'\"]+)@");
    /** password=..., api_secret=..., secret=... in query strings and key=value lists. */
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "(?i)((?:password|passwd|pwd|api_secret|apisecret|secret|sslpassword|token)=)([^&;\\s'\"]*)");
    /** Shorter values are too likely to occur in ordinary text; the patterns still catch them inside URLs. */
    private static final int MIN_VALUE_LENGTH = 6;

    private final List<String> values;

    private Redaction(List<String> values) {
        this.values = values;
    }

    /** Removes what looks like a credential from {@code text} (null stays null). */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = USER_INFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "@"));
        return SECRET_PARAMETER.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
    }

    /** A redaction that also removes the exact secret values {@code env} holds. */
    public static Redaction of(Map<String, String> env) {
        List<String> values = new ArrayList<>();
        Settings.SECRET_VARIABLES.forEach(name -> add(values, env.get(name)));
        // A variable filled from a secret is one, whatever its name (a store's keys among them).
        env.keySet().stream().filter(name -> name.endsWith("_SECRET_ARN"))
                .forEach(arn -> add(values, env.get(arn.substring(0, arn.length() - "_SECRET_ARN".length()))));
        for (String name : Settings.SECRET_URLS) {
            String url = Objects.requireNonNullElse(env.get(name), ""); // unset: nothing to find
            USER_INFO.matcher(url).results().map(m -> m.group(2)).forEach(info -> {
                add(values, info);
                add(values, info.substring(info.indexOf(':') + 1)); // the password alone (no colon: info again)
            });
            SECRET_PARAMETER.matcher(url).results().forEach(m -> add(values, m.group(2)));
        }
        values.sort(Comparator.comparingInt(String::length).reversed()); // longest first: no half-masked secret
        return new Redaction(List.copyOf(values));
    }

    private static void add(List<String> values, String value) {
        if (value != null && value.length() >= MIN_VALUE_LENGTH && !values.contains(value)) {
            values.add(value);
        }
    }

    /** {@link #redact(String)}, then every known secret value masked. */
    public String apply(String text) {
        String out = redact(text);
        if (out == null) {
            return null;
        }
        for (String v : values) {
            out = out.replace(v, MASK);
        }
        return out;
    }
}
