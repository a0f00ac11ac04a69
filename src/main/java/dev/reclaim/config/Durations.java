package dev.reclaim.config;

import java.time.Duration;
import java.time.Period;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Retention periods as people write them: {@code 30d}, {@code 1h}, {@code 15m}, {@code 90s}, or ISO-8601 {@code P30D}, {@code PT1H}. */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d+)\\s*(d|h|m|s|ms)");
    private static final Map<String, ChronoUnit> UNITS = Map.of("d", ChronoUnit.DAYS, "h", ChronoUnit.HOURS,
            "m", ChronoUnit.MINUTES, "s", ChronoUnit.SECONDS, "ms", ChronoUnit.MILLIS);

    private Durations() {
    }

    public static Duration parse(String text) {
        String t = text == null ? "" : text.trim();
        Matcher m = SHORT.matcher(t);
        if (m.matches()) {
            return Duration.of(Long.parseLong(m.group(1)), UNITS.get(m.group(2)));
        }
        if (t.startsWith("P") || t.startsWith("p")) {
            try {
                return Duration.parse(t);
            } catch (DateTimeParseException e) {
                try {
                    Period p = Period.parse(t);
                    if (p.getYears() == 0 && p.getMonths() == 0) {
                        return Duration.ofDays(p.getDays());
                    }
                } catch (DateTimeParseException ignored) {
                    // fall through to the error below
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration (use 30d, 12h, 15m, 90s, or ISO-8601 such as P30D, PT1H)");
    }

    /** {@code name} from the environment, {@code dflt} when unset or blank; a configuration error naming it else. */
    public static Duration fromEnvironment(Map<String, String> env, String name, Duration dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return parse(v.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name + ": " + e.getMessage());
        }
    }
}
