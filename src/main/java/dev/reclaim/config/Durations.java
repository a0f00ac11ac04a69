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
    /** Longer than any retention or budget means anything: beyond it, clock arithmetic could overflow. */
    public static final Duration LONGEST = Duration.ofDays(36_500);

    /** Which values a duration input accepts; every input names one, and its error says which. */
    public enum Accepts {
        POSITIVE("more than zero"),
        ZERO_OR_MORE("zero or more");

        private final String rule;

        Accepts(String rule) {
            this.rule = rule;
        }

        boolean accepts(Duration d) {
            return this == POSITIVE ? !d.isZero() && !d.isNegative() : !d.isNegative();
        }
    }

    private Durations() {
    }

    /** {@code text} as a duration, in the range {@code accepts} names and at most {@link #LONGEST}. */
    public static Duration parse(String text, Accepts accepts) {
        Duration d = parse(text);
        if (!accepts.accepts(d)) {
            throw new IllegalArgumentException("must be " + accepts.rule + ", e.g. 30s or 15m (got '" + text + "')");
        }
        return d;
    }

    /** Any duration at most {@link #LONGEST} either way; prefer {@link #parse(String, Accepts)} for an input. */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.trim();
        try {
            Duration d = parseUnbounded(t);
            if (d.abs().compareTo(LONGEST) <= 0) {
                return d;
            }
        } catch (ArithmeticException | NumberFormatException e) {
            // too many digits for a long, or too long for a Duration: too long all the same
        }
        throw new IllegalArgumentException("'" + text + "' is too long a duration (at most 36500d)");
    }

    private static Duration parseUnbounded(String t) {
        Matcher m = SHORT.matcher(t);
        if (m.matches()) {
            return Duration.of(Long.parseLong(m.group(1)), UNITS.get(m.group(2)));
        }
        if (t.startsWith("P") || t.startsWith("p") || t.startsWith("-P") || t.startsWith("-p")) {
            try {
                return Duration.parse(t);
            } catch (DateTimeParseException e) {
                if (e.getCause() instanceof ArithmeticException overflow) {
                    throw overflow;
                }
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
        throw new IllegalArgumentException("'" + t + "' is not a duration (use 30d, 12h, 15m, 90s, or ISO-8601 such as P30D, PT1H)");
    }
}
