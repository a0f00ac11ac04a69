package dev.reclaim.config;

import java.util.regex.Pattern;

/**
 * A glob over storage keys, matched on the key string itself: no file system, no locale (a {@code java.nio.file.Path}
 * cannot even be made from a non-ASCII key when the JVM runs without a locale). Semantics of the glob Java offers for
 * paths, with {@code /} as the folder separator: {@code *} matches within one folder, {@code **} across folders,
 * {@code ?} one character other than {@code /}, {@code [a-z]} / {@code [!a-z]} one character of (not of) a class,
 * {@code {a,b}} one of the alternatives (not nested), and {@code \} makes the next character literal.
 */
public final class KeyGlob {
    private static final String REGEX_SPECIAL = "\\^$.|?*+()[]{}";

    private final String glob;
    private final String literalStart;
    private final Pattern pattern;

    private KeyGlob(String glob, String literalStart, Pattern pattern) {
        this.glob = glob;
        this.literalStart = literalStart;
        this.pattern = pattern;
    }

    /** Compiles {@code glob}; throws {@link IllegalArgumentException} saying what is wrong and where. */
    public static KeyGlob compile(String glob) {
        StringBuilder regex = new StringBuilder(glob.length() * 2);
        StringBuilder literal = new StringBuilder();
        boolean literalOpen = true;
        boolean inGroup = false;
        int n = glob.length();
        int i = 0;
        while (i < n) {
            char c = glob.charAt(i++);
            switch (c) {
                case '\\' -> {
                    if (i == n) {
                        throw invalid(glob, i - 1, "nothing follows the escape character \\");
                    }
                    literalChar(regex, literalOpen ? literal : null, glob.charAt(i++));
                    continue;
                }
                case '*' -> {
                    if (i < n && glob.charAt(i) == '*') {
                        regex.append(".*");
                        i++;
                    } else {
                        regex.append("[^/]*");
                    }
                }
                case '?' -> regex.append("[^/]");
                case '[' -> i = charClass(glob, i, regex);
                case '{' -> {
                    if (inGroup) {
                        throw invalid(glob, i - 1, "{...} groups cannot be nested");
                    }
                    regex.append("(?:(?:");
                    inGroup = true;
                }
                case '}' -> {
                    if (!inGroup) {
                        literalChar(regex, literalOpen ? literal : null, c);
                        continue;
                    }
                    regex.append("))");
                    inGroup = false;
                }
                case ',' -> {
                    if (!inGroup) {
                        literalChar(regex, literalOpen ? literal : null, c);
                        continue;
                    }
                    regex.append(")|(?:");
                }
                default -> {
                    literalChar(regex, literalOpen ? literal : null, c);
                    continue;
                }
            }
            literalOpen = false; // only wildcards and group syntax reach here
        }
        if (inGroup) {
            throw invalid(glob, n, "a { is never closed by }");
        }
        // DOTALL: a key holding a newline or another control character must still match * and **.
        return new KeyGlob(glob, literal.toString(), Pattern.compile(regex.toString(), Pattern.DOTALL));
    }

    /** Parses a class whose '[' precedes {@code start}; returns the index after its ']'. */
    private static int charClass(String glob, int start, StringBuilder regex) {
        int n = glob.length();
        int i = start;
        // A class never matches the folder separator, like * and ?.
        regex.append("[[^/]&&[");
        if (i < n && glob.charAt(i) == '^') {
            regex.append("\\^");
            i++;
        } else {
            if (i < n && glob.charAt(i) == '!') {
                regex.append('^');
                i++;
            }
            if (i < n && glob.charAt(i) == '-') {
                regex.append('-');
                i++;
            }
        }
        boolean rangeStartable = false;
        char last = 0;
        while (i < n) {
            char c = glob.charAt(i++);
            if (c == ']') {
                regex.append("]]");
                return i;
            }
            if (c == '/') {
                throw invalid(glob, i - 1, "a [...] class cannot hold the folder separator /");
            }
            if (c == '\\' || c == '[' || c == '&' && i < n && glob.charAt(i) == '&') {
                regex.append('\\');
            }
            regex.append(c);
            if (c == '-') {
                if (!rangeStartable) {
                    throw invalid(glob, i - 1, "a range in [...] needs a character before -");
                }
                if (i == n) {
                    break;
                }
                char end = glob.charAt(i);
                if (end == ']') {
                    continue; // a trailing '-' is literal
                }
                if (end < last) {
                    throw invalid(glob, i, "the range " + last + "-" + end + " is reversed");
                }
                if (end == '/' || end == '\\' || end == '[') {
                    throw invalid(glob, i, "a range in [...] cannot end with " + end);
                }
                regex.append(end);
                i++;
                rangeStartable = false;
            } else {
                rangeStartable = true;
                last = c;
            }
        }
        throw invalid(glob, start - 1, "a [ is never closed by ]");
    }

    /** A character that stands for itself; it extends the literal start while no wildcard came before it. */
    private static void literalChar(StringBuilder regex, StringBuilder literalStart, char c) {
        if (REGEX_SPECIAL.indexOf(c) >= 0) {
            regex.append('\\');
        }
        regex.append(c);
        if (literalStart != null) {
            literalStart.append(c);
        }
    }

    private static IllegalArgumentException invalid(String glob, int index, String why) {
        return new IllegalArgumentException(why + " (at index " + index + " of " + glob + ")");
    }

    /** Whether the whole key matches. Never throws: any string, of any characters, can be tested. */
    public boolean matches(String key) {
        return key != null && pattern.matcher(key).matches();
    }

    /** The text before the first wildcard ({@code * ? [ {}), escapes resolved: every key that matches starts with it. */
    public String literalStart() {
        return literalStart;
    }

    public String glob() {
        return glob;
    }

    /** The regular expression the glob compiles to (for tests and messages). */
    public Pattern pattern() {
        return pattern;
    }

    @Override
    public String toString() {
        return glob;
    }
}
