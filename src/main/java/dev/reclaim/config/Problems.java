package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The errors found in one file, reported all at once: one a line ({@code file: path.to.field: reason}), at most one
 * per field, in file order whatever order the checks ran in.
 */
final class Problems {
    private final String file;
    /** Every path of the file, numbered in file order: errors are sorted by it. */
    private final Map<String, Integer> order = new HashMap<>();
    /** What the user reads, by the path that places it in the file, in the order found. */
    private final Map<String, String> lines = new LinkedHashMap<>();

    Problems(String file, JsonNode tree) {
        this.file = file;
        ConfigLoader.walk(tree, "", (node, path) -> {
            order.putIfAbsent(path, order.size());
            return node;
        });
    }

    void error(String path, String message) {
        error(path, path, message);
    }

    /** One error per field: what is already said about a field or inside it makes a later error there redundant. */
    void error(String path, String shown, String message) {
        if (lines.keySet().stream().noneMatch(p -> p.equals(path) || p.startsWith(path + ".")
                || p.startsWith(path + "["))) {
            // Messages quote values, and values may come from the environment: never a credential.
            lines.put(path, file + ": " + shown + ": " + Redaction.redact(message));
        }
    }

    /** Throws every error, one a line in file order; returns when there is none. */
    void report() {
        if (!lines.isEmpty()) {
            throw new ConfigException(lines.keySet().stream().sorted(Comparator.comparingInt(this::position))
                    .map(lines::get).collect(Collectors.joining("\n")));
        }
    }

    /** The file position of a path, or of its nearest enclosing one (a missing field sits where its mapping is). */
    private int position(String path) {
        String p = path;
        while (!order.containsKey(p)) {
            p = p.substring(0, Math.max(0, Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))));
        }
        return order.get(p);
    }
}
