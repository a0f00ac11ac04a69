package dev.reclaim.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The errors found in one configuration file, reported all at once: one a line ({@code file: path.to.field: reason}),
 * at most one per field, in file order whatever order the checks ran in.
 */
final class Problems {
    private final String file;
    /** Every path of the file, numbered in file order: errors are sorted by it. */
    private final Map<String, Integer> order = new HashMap<>();
    private final List<Problem> problems = new ArrayList<>();

    /** {@code path} places the error in the file; {@code line} is what the user reads. */
    private record Problem(String path, String line) {
    }

    Problems(String file) {
        this.file = file;
    }

    /** Numbers {@code path}; called for every path in file order, before any error. */
    void place(String path) {
        order.putIfAbsent(path, order.size());
    }

    void error(String path, String message) {
        error(path, path, message);
    }

    /** One error per field: what is already said about a field or inside it makes a later error there redundant. */
    void error(String path, String shown, String message) {
        if (problems.stream().noneMatch(p -> p.path().equals(path) || p.path().startsWith(path + ".")
                || p.path().startsWith(path + "["))) {
            // Messages quote values, and values may come from the environment: never a credential.
            problems.add(new Problem(path, file + ": " + shown + ": " + Redaction.redact(message)));
        }
    }

    /** Throws every error, one a line in file order; returns when there is none. */
    void report() {
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparingInt(p -> position(p.path())));
            throw new ConfigException(problems.stream().map(Problem::line).collect(Collectors.joining("\n")));
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
