package dev.reclaim.config;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * SQL written with named parameters ({@code :id}, {@code :cutoff}), turned into JDBC's positional form.
 * The scanner skips string literals, quoted identifiers, comments, dollar-quoted bodies and {@code ::} casts,
 * so only real parameters are replaced.
 */
public record SqlTemplate(String source, String jdbcSql, List<String> parameters) {

    public static SqlTemplate parse(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        List<String> params = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            char next = i + 1 < n ? sql.charAt(i + 1) : 0;
            int tagEnd = c == '$' ? dollarTagEnd(sql, i) : -1;
            int end = i + 1; // [i, end) is copied as written
            if (c == '\'' || c == '"') {
                end = skipQuoted(sql, i, c);
            } else if (c == '-' && next == '-') {
                end = after(sql, "\n", i + 2);
            } else if (c == '/' && next == '*') {
                end = after(sql, "*/", i + 2);
            } else if (tagEnd > 0) {
                end = after(sql, sql.substring(i, tagEnd), tagEnd);
            } else if (c == ':' && next == ':') {
                end = i + 2;
            } else if (c == ':' && Character.isJavaIdentifierStart(next)) {
                while (end < n && Character.isJavaIdentifierPart(sql.charAt(end))) {
                    end++;
                }
                params.add(sql.substring(i + 1, end));
                out.append('?');
                i = end;
                continue;
            }
            out.append(sql, i, end);
            i = end;
        }
        return new SqlTemplate(sql, out.toString(), List.copyOf(params));
    }

    /** Distinct parameter names, sorted: for messages and validation. */
    public Set<String> parameterNames() {
        return new TreeSet<>(parameters);
    }

    /** In JSON (the configuration in force), the statement as written, not its JDBC form. */
    @JsonValue
    String asWritten() {
        return source.strip();
    }

    private static int skipQuoted(String sql, int start, char quote) {
        String close = String.valueOf(quote);
        int end = after(sql, close, start + 1);
        while (end < sql.length() && sql.charAt(end) == quote) { // a doubled quote inside the literal
            end = after(sql, close, end + 1);
        }
        return end;
    }

    /** Just past the first {@code close} at or after {@code from}; the end of the text when it is never closed. */
    private static int after(String sql, String close, int from) {
        int at = sql.indexOf(close, from);
        return at < 0 ? sql.length() : at + close.length();
    }

    /** End (exclusive) of a dollar-quote tag such as $$ or $body$ starting at i, or -1. */
    private static int dollarTagEnd(String sql, int i) {
        int j = i + 1;
        while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        return j < sql.length() && sql.charAt(j) == '$' && (j == i + 1 || !Character.isDigit(sql.charAt(i + 1)))
                ? j + 1 : -1;
    }
}
