package dev.reclaim.config;

import java.util.Locale;

/**
 * The one way Reclaim reads a yes/no setting, from the environment or the configuration file: {@code true/false},
 * {@code 1/0}, {@code yes/no}, trimmed, in any case. Anything else is refused rather than guessed: a mistyped
 * {@code RECLAIM_DRY_RUN} must never become a real run.
 */
public final class Booleans {
    private Booleans() {
    }

    /**
     * {@code dflt} when {@code text} is null or blank; throws {@link IllegalArgumentException} (saying what was read,
     * not where: callers name the variable or field) when it is no boolean.
     */
    public static boolean parse(String text, boolean dflt) {
        if (text == null || text.isBlank()) {
            return dflt;
        }
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw new IllegalArgumentException("'" + text + "' is not a boolean (true/false, 1/0 or yes/no)");
        };
    }
}
