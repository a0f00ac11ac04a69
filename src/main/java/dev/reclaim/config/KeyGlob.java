package dev.reclaim.config;

import java.util.regex.Pattern;

/**
 * A glob over storage keys, matched on the key string itself: no file system, no locale (a {@code java.nio.file.Path}
 * cannot even be made from a non-ASCII key when the JVM runs without a locale). Semantics of the glob Java offers for
 * paths, with {@code /} as the folder separator: {@code *} matches within one folder, {@code **} across folders,
 * {@code ?} one character other than {@code /}, {@code [a-z]} / {@code [!a-z]} one character of (not of) a class,
 * {@code {a,b}} one of the alternatives (not nested), and {@code \} makes the next character literal.
 * {@code literalStart} is the text before the first wildcard ({@code * ? [ {}), escapes resolved: every key that
 * matches starts with it.
 */
public record KeyGlob(String literalStart, Pattern pattern) {
    private static final String REGEX_SPECIAL = "\\^$.|?*+()[]{}";

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
            if (c == '\\') {
                if (i == n) {
                    throw invalid(glob, i - 1, "nothing follows the escape character \\");
                }
                c = glob.charAt(i++);
            } else if ("*?[{".indexOf(c) >= 0 || inGroup && (c == ',' || c == '}')) {
                switch (c) {
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
                        regex.append("))");
                        inGroup = false;
                    }
                    default -> regex.append(")|(?:"); // ',' between alternatives
                }
                literalOpen = false;
                continue;
            }
            // A character that stands for itself: it extends the literal start while no wildcard came before it.
            if (REGEX_SPECIAL.indexOf(c) >= 0) {
                regex.append('\\');
            }
            regex.append(c);
            if (literalOpen) {
                literal.append(c);
            }
        }
        if (inGroup) {
            throw invalid(glob, n, "a { is never closed by }");
        }
        // DOTALL: a key holding a newline or another control character must still match * and **.
        return new KeyGlob(literal.toString(), Pattern.compile(regex.toString(), Pattern.DOTALL));
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

    private static IllegalArgumentException invalid(String glob, int index, String why) {
        return new IllegalArgumentException(why + " (at index " + index + " of " + glob + ")");
    }

    /** Whether the whole key matches. Never throws: any string, of any characters, can be tested. */
    public boolean matches(String key) {
        return key != null && pattern.matcher(key).matches();
    }
}
