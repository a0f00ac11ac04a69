package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Reads {@code reclaim.yaml}: {@code ${NAME:-default}} from the environment in every value ({@link Substitution}),
 * bound with Jackson ({@link Binding}), then checked and converted to stores and sweeps without the database
 * ({@link Checks}). All errors come at once, one a line, in file order, each naming the file and its field.
 */
public final class ConfigLoader {
    public static final String DEFAULT_PATH = "config/reclaim.yaml";

    private ConfigLoader() {
    }

    public static ReclaimConfig load(Path path, Map<String, String> env) {
        try {
            return parse(path.toString(), Files.readString(path), env);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot read the configuration file (" + e.getMessage()
                    + "); set RECLAIM_CONFIG to its path");
        }
    }

    public static ReclaimConfig parse(String file, String yaml, Map<String, String> env) {
        ObjectNode root = Binding.tree(file, yaml);
        Problems problems = new Problems(file, root);
        Substitution.apply(root, env, problems);
        ConfigFile bound = Binding.bind(root, problems);
        ReclaimConfig config = bound == null ? null : new Checks(file, problems, env).convert(bound);
        problems.report();
        return config;
    }

    /**
     * The environment variables the file at {@code path} names in its values (comments aside), for {@link Settings} to
     * fill from their secrets; none when it cannot be read ({@link #load} then says why).
     */
    public static java.util.Set<String> variables(Path path) {
        try {
            return Substitution.names(Binding.tree(path.toString(), Files.readString(path)));
        } catch (IOException | ConfigException e) {
            return java.util.Set.of();
        }
    }

    /** Walks the tree in file order, giving every node and its path to {@code visit}, whose result replaces it. */
    static JsonNode walk(JsonNode node, String path, BiFunction<JsonNode, String, JsonNode> visit) {
        JsonNode out = visit.apply(node, path);
        if (out instanceof ArrayNode list) {
            for (int i = 0; i < list.size(); i++) {
                list.set(i, walk(list.get(i), path + "[" + i + "]", visit));
            }
        }
        if (out instanceof ObjectNode map) {
            List<String> names = new ArrayList<>();
            map.fieldNames().forEachRemaining(names::add);
            names.forEach(n -> map.set(n, walk(map.get(n), path.isEmpty() ? n : path + "." + n, visit)));
        }
        return out;
    }

    /** For callers that want to report a database-level problem in the same shape. */
    public static ConfigException error(ReclaimConfig config, String path, String message) {
        return new ConfigException(config.source() + ": " + path + ": " + message);
    }
}
