package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ${NAME}} and {@code ${NAME:-default}} in every value of the file, from the environment: the default stands in
 * for a variable unset or empty; a variable unset without one is an error naming the field.
 */
final class Substitution {
    // Not commons-text's StringSubstitutor: its lookup cannot see the default, and it has an escape (SubstitutionTest).
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private Substitution() {
    }

    /** A store's keys must name their variables, so they stay as written; {@link Checks} reads them. */
    private static final Pattern KEY_FIELD = Pattern.compile("stores\\..+\\.(accessKeyId|secretAccessKey)");

    static void apply(JsonNode tree, Map<String, String> env, Problems problems) {
        ConfigLoader.walk(tree, "", (node, path) -> node.isTextual() && !KEY_FIELD.matcher(path).matches()
                ? TextNode.valueOf(expand(node.textValue(), path, env, problems)) : node);
    }

    /** The variables the values of {@code tree} name ({@code ${NAME}}, {@code ${NAME:-default}}), in file order. */
    static java.util.Set<String> names(JsonNode tree) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        ConfigLoader.walk(tree, "", (node, path) -> {
            if (node.isTextual()) {
                VARIABLE.matcher(node.textValue()).results().forEach(m -> out.add(m.group(1)));
            }
            return node;
        });
        return out;
    }

    /** {@code value} with its variables replaced (values are not read again); unchanged when one is unset. */
    static String expand(String value, String path, Map<String, String> env, Problems problems) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = env.get(m.group(1));
            v = v == null || (v.isEmpty() && m.group(2) != null) ? m.group(2) : v;
            if (v == null) {
                problems.error(path, "environment variable " + m.group(1) + " is not set (write ${" + m.group(1)
                        + ":-default} for a default)");
                return value;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        return m.appendTail(out).toString();
    }
}
