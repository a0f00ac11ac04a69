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

    static void apply(JsonNode tree, Map<String, String> env, Problems problems) {
        ConfigLoader.walk(tree, "", (node, path) -> node.isTextual()
                ? TextNode.valueOf(expand(node.textValue(), path, env, problems)) : node);
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
