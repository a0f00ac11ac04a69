package dev.reclaim.testing.cloudinary;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * The subset of Cloudinary's search expression language the emulator answers (docs/CLOUDINARY.md says which parts
 * of it are documented). An expression is one or more terms joined by {@code AND}:
 * <ul>
 * <li>{@code asset_folder="users/u1/temp"} or {@code asset_folder=users/u1/temp}: the asset folder is exactly that;
 * <li>{@code asset_folder:"users/*"} or {@code asset_folder:users/*}: the asset folder starts with the text before the
 * trailing {@code *} (a plain string prefix: {@code "users/u1/temp*"} also matches {@code users/u1/temporary});
 * <li>{@code created_at<"2024-06-25T08:58:23Z"}, {@code created_at<"2024-06-25"} (midnight UTC),
 * {@code created_at>...}: strictly before / after that instant;
 * <li>{@code created_at<3d}, {@code created_at<12h} (also {@code >}): created before / after now minus that age.
 * </ul>
 * Anything else ({@code OR}, {@code NOT}, parentheses, other fields, a {@code :} term without a trailing
 * {@code *}, a wildcard elsewhere, other units) is refused with HTTP 400, so a store cannot rely on behaviour the
 * emulator does not model. The empty expression matches every asset.
 */
final class SearchExpression {

    private final List<Predicate<Asset>> terms;

    private SearchExpression(List<Predicate<Asset>> terms) {
        this.terms = terms;
    }

    boolean matches(Asset a) {
        for (Predicate<Asset> t : terms) {
            if (!t.test(a)) {
                return false;
            }
        }
        return true;
    }

    /** Parses {@code raw}; relative ages count back from {@code now}. Throws a 400 ApiError when unsupported. */
    static SearchExpression parse(String raw, Instant now) {
        List<Predicate<Asset>> terms = new ArrayList<>();
        Lexer lx = new Lexer(raw);
        lx.skipSpace();
        if (lx.done()) {
            return new SearchExpression(terms);
        }
        while (true) {
            terms.add(term(lx, now, raw));
            lx.skipSpace();
            if (lx.done()) {
                return new SearchExpression(terms);
            }
            if (!lx.word("AND")) {
                throw unsupported(raw, "only terms joined by AND are supported, at position " + lx.pos);
            }
            lx.skipSpace();
        }
    }

    private static Predicate<Asset> term(Lexer lx, Instant now, String raw) {
        String field = lx.field();
        char op = lx.op();
        Value value = lx.value(raw);
        switch (field) {
            case "asset_folder":
                return folderTerm(op, value, raw);
            case "created_at":
                return createdTerm(op, value, now, raw);
            default:
                throw unsupported(raw, "field '" + field + "' is not supported");
        }
    }

    private static Predicate<Asset> folderTerm(char op, Value v, String raw) {
        if (op == '=') {
            if (v.wildcard) {
                throw unsupported(raw, "a wildcard needs ':' (asset_folder:\"prefix/*\")");
            }
            String folder = v.text;
            return a -> a.assetFolder().equals(folder);
        }
        if (op == ':') {
            if (!v.wildcard) {
                throw unsupported(raw, "asset_folder:value (tokenized match) is not modelled; use asset_folder=\"folder\""
                        + " or asset_folder:\"prefix*\"");
            }
            String prefix = v.text;
            return a -> a.assetFolder().startsWith(prefix);
        }
        throw unsupported(raw, "asset_folder takes '=' or ':'");
    }

    private static Predicate<Asset> createdTerm(char op, Value v, Instant now, String raw) {
        if (op != '<' && op != '>') {
            throw unsupported(raw, "created_at takes '<' or '>'");
        }
        if (v.wildcard) {
            throw unsupported(raw, "created_at takes no wildcard");
        }
        Instant bound = v.quoted ? absolute(v.text, raw) : relativeOrAbsolute(v.text, now, raw);
        return op == '<' ? a -> a.createdAt().isBefore(bound) : a -> a.createdAt().isAfter(bound);
    }

    private static Instant relativeOrAbsolute(String text, Instant now, String raw) {
        if (text.matches("[0-9]{1,6}[dh]")) {
            long n = Long.parseLong(text.substring(0, text.length() - 1));
            Duration age = text.endsWith("d") ? Duration.ofDays(n) : Duration.ofHours(n);
            return now.minus(age);
        }
        return absolute(text, raw);
    }

    private static Instant absolute(String text, String raw) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            try {
                return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e2) {
                throw unsupported(raw, "'" + text + "' is neither an ISO-8601 instant or date nor an age like 3d or 12h");
            }
        }
    }

    private static RuntimeException unsupported(String raw, String why) {
        return CloudinaryEmulator.badRequest("Unsupported search expression \"" + raw + "\": " + why);
    }

    private record Value(String text, boolean quoted, boolean wildcard) {
    }

    private static final class Lexer {
        private final String s;
        private int pos;

        Lexer(String s) {
            this.s = s;
        }

        boolean done() {
            return pos >= s.length();
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        /** The upper-case word {@code w} followed by a space, consumed; false (nothing consumed) otherwise. */
        boolean word(String w) {
            int end = pos + w.length();
            if (s.startsWith(w, pos) && end < s.length() && Character.isWhitespace(s.charAt(end))) {
                pos = end;
                return true;
            }
            return false;
        }

        String field() {
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
            }
            if (start == pos) {
                throw unsupported(s, "expected a field name at position " + start);
            }
            return s.substring(start, pos).toLowerCase(Locale.ROOT);
        }

        char op() {
            if (pos >= s.length() || "=:<>".indexOf(s.charAt(pos)) < 0) {
                throw unsupported(s, "expected '=', ':', '<' or '>' at position " + pos);
            }
            char op = s.charAt(pos++);
            if (pos < s.length() && s.charAt(pos) == '=') {
                throw unsupported(s, "'" + op + "=' is not supported");
            }
            return op;
        }

        /** A quoted value ({@code \"} and {@code \\*} escape; an unescaped trailing * is the wildcard) or a bare one. */
        Value value(String raw) {
            if (pos < s.length() && s.charAt(pos) == '"') {
                pos++;
                StringBuilder b = new StringBuilder();
                boolean wildcard = false;
                while (true) {
                    if (pos >= s.length()) {
                        throw unsupported(raw, "unterminated quote");
                    }
                    char c = s.charAt(pos++);
                    if (c == '"') {
                        break;
                    }
                    if (wildcard) {
                        throw unsupported(raw, "'*' is supported only at the end of a value");
                    }
                    if (c == '\\' && pos < s.length()) {
                        b.append(s.charAt(pos++));
                    } else if (c == '*') {
                        wildcard = true;
                    } else {
                        b.append(c);
                    }
                }
                return new Value(b.toString(), true, wildcard);
            }
            int start = pos;
            while (pos < s.length() && !Character.isWhitespace(s.charAt(pos))) {
                char c = s.charAt(pos);
                if ("\"()\\=:<>".indexOf(c) >= 0 || (c == '*' && pos + 1 < s.length()
                        && !Character.isWhitespace(s.charAt(pos + 1)))) {
                    throw unsupported(raw, "character '" + c + "' at position " + pos + " is not supported unquoted");
                }
                pos++;
            }
            if (start == pos) {
                throw unsupported(raw, "expected a value at position " + start);
            }
            String text = s.substring(start, pos);
            boolean wildcard = text.endsWith("*");
            return new Value(wildcard ? text.substring(0, text.length() - 1) : text, false, wildcard);
        }
    }
}
