package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code reclaim.yaml}: substitutes {@code ${NAME}} / {@code ${NAME:-default}} from the environment in every
 * value, binds the stores and sweeps, and checks everything that can be checked without the database. Every error
 * names the file and the path of the offending field.
 */
public final class ConfigLoader {
    public static final String DEFAULT_PATH = "config/reclaim.yaml";

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SWEEP_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Map<String, String> env;
    private String file;

    private ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    /** Loads from {@code RECLAIM_CONFIG}, else {@code config/reclaim.yaml}. */
    public static ReclaimConfig load(Map<String, String> env) {
        String path = env.getOrDefault("RECLAIM_CONFIG", DEFAULT_PATH);
        return load(Path.of(path), env);
    }

    public static ReclaimConfig load(Path path, Map<String, String> env) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot read the configuration file (" + e.getMessage()
                    + "); set RECLAIM_CONFIG to its path");
        }
        return parse(path.toString(), text, env);
    }

    public static ReclaimConfig parse(String file, String yaml, Map<String, String> env) {
        ConfigLoader loader = new ConfigLoader(env);
        loader.file = file;
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": expected a mapping with 'stores' and 'sweeps'");
        }
        return loader.bind(root);
    }

    private ReclaimConfig bind(JsonNode root) {
        onlyKeys(root, "", Set.of("stores", "sweeps"));
        Map<String, StoreConfig> stores = new LinkedHashMap<>();
        JsonNode storesNode = mapping(root, "stores", "stores");
        for (Iterator<Map.Entry<String, JsonNode>> it = storesNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            stores.put(e.getKey(), store(e.getKey(), e.getValue()));
        }
        Map<String, SweepConfig> sweeps = new LinkedHashMap<>();
        JsonNode sweepsNode = mapping(root, "sweeps", "sweeps");
        for (Iterator<Map.Entry<String, JsonNode>> it = sweepsNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = "sweeps." + e.getKey();
            if (!SWEEP_NAME.matcher(e.getKey()).matches()) {
                throw error(path, "sweep names are lower-case words joined by '-' (got '" + e.getKey() + "')");
            }
            sweeps.put(e.getKey(), sweep(e.getKey(), e.getValue(), stores));
        }
        if (sweeps.isEmpty()) {
            throw error("sweeps", "no sweeps are configured");
        }
        // File order everywhere: checks and their errors come out the same way on every run.
        return new ReclaimConfig(file, java.util.Collections.unmodifiableMap(stores), java.util.Collections.unmodifiableMap(sweeps));
    }

    private StoreConfig store(String name, JsonNode node) {
        String path = "stores." + name;
        if (!node.isObject()) {
            throw error(path, "expected a mapping");
        }
        String type = text(node, path, "type", true);
        List<String> prefixes = prefixes(node, path);
        return switch (type) {
            case "s3" -> {
                onlyKeys(node, path, Set.of("type", "bucket", "region", "endpoint", "pathStyle", "allowedPrefixes",
                        "referenced"));
                yield new StoreConfig.S3(name, text(node, path, "bucket", true), text(node, path, "region", false),
                        text(node, path, "endpoint", false), bool(node, path, "pathStyle", false), prefixes,
                        storeReferenced(node, path));
            }
            case "cloudinary" -> {
                onlyKeys(node, path, Set.of("type", "resourceType", "deliveryType", "quotaReserve", "timeout",
                        "maxAttempts", "retryDelay", "allowedPrefixes", "referenced", "folderMode"));
                String resourceType = optional(text(node, path, "resourceType", false), "image");
                String deliveryType = optional(text(node, path, "deliveryType", false), "upload");
                double reserve = fraction(node, path, "quotaReserve", 0.2);
                Duration timeout = optionalDuration(node, path, "timeout", Duration.ofSeconds(30));
                int attempts = (int) number(node, path, "maxAttempts", 4, 1, 10);
                Duration retryDelay = optionalDuration(node, path, "retryDelay", Duration.ofMillis(500));
                String mode = optional(text(node, path, "folderMode", false), "auto").trim();
                StoreConfig.FolderMode folderMode = switch (mode.toLowerCase(java.util.Locale.ROOT)) {
                    case "fixed" -> StoreConfig.FolderMode.FIXED;
                    case "dynamic" -> StoreConfig.FolderMode.DYNAMIC;
                    case "auto" -> StoreConfig.FolderMode.AUTO;
                    default -> throw error(path + ".folderMode", "'" + mode + "' is not a folder mode (fixed, dynamic, auto)");
                };
                yield new StoreConfig.Cloudinary(name, resourceType, deliveryType, reserve, timeout, attempts,
                        retryDelay, prefixes, storeReferenced(node, path), folderMode);
            }
            default -> throw error(path + ".type", "unknown store type '" + type + "' (known: s3, cloudinary)");
        };
    }

    /** Optional: of :keys, those any row of the application still holds; run before every delete in this store. */
    private SqlTemplate storeReferenced(JsonNode node, String path) {
        if (text(node, path, "referenced", false) == null) {
            return null;
        }
        SqlTemplate referenced = sql(node, path, "referenced", Set.of("keys"));
        if (!referenced.uses("keys")) {
            throw error(path + ".referenced", "the reference query must take the keys as :keys and return those still"
                    + " in use (e.g. SELECT s3_key FROM files WHERE s3_key = ANY(:keys) UNION ALL SELECT ...)");
        }
        return referenced;
    }

    private List<String> prefixes(JsonNode node, String path) {
        JsonNode list = node.get("allowedPrefixes");
        String field = path + ".allowedPrefixes";
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw error(field, "every store must list the key prefixes it may delete under (e.g. [\"users/\"])");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String p = substitute(list.get(i).asText(), field + "[" + i + "]").trim();
            if (p.isEmpty()) {
                throw error(field + "[" + i + "]", "an empty prefix would allow every key");
            }
            out.add(p);
        }
        return List.copyOf(out);
    }

    private SweepConfig sweep(String name, JsonNode node, Map<String, StoreConfig> stores) {
        String path = "sweeps." + name;
        if (!node.isObject()) {
            throw error(path, "expected a mapping");
        }
        String kind = text(node, path, "kind", true);
        if (kind.equals("assets")) {
            return assets(name, node, path, stores);
        }
        if (!kind.equals("records")) {
            throw error(path + ".kind", "unknown sweep kind '" + kind + "' (known: records, assets)");
        }
        onlyKeys(node, path, Set.of("kind", "olderThan", "pageSize", "maxDeletesPerRun", "eligible", "claim", "steps"));
        Duration olderThan = duration(node, path, "olderThan");
        int pageSize = (int) number(node, path, "pageSize", 100, 1, 10_000);
        long cap = number(node, path, "maxDeletesPerRun", Long.MAX_VALUE, 1, Long.MAX_VALUE);

        SqlTemplate eligible = sql(node, path, "eligible", Set.of("cutoff"));
        SqlTemplate claim = sql(node, path, "claim", Set.of("id", "cutoff"));
        if (!claim.uses("id")) {
            throw error(path + ".claim", "the claim query must lock the item by :id (e.g. ... WHERE id = :id ... FOR UPDATE)");
        }
        JsonNode stepsNode = node.get("steps");
        if (stepsNode == null || !stepsNode.isArray() || stepsNode.isEmpty()) {
            throw error(path + ".steps", "a records sweep needs at least one step");
        }
        List<SweepConfig.Step> steps = new ArrayList<>();
        Set<String> known = new LinkedHashSet<>(List.of("id", "cutoff"));
        Set<String> stepNames = new HashSet<>();
        for (int i = 0; i < stepsNode.size(); i++) {
            JsonNode s = stepsNode.get(i);
            String sp = path + ".steps[" + i + "]";
            if (!s.isObject()) {
                throw error(sp, "expected a mapping with name and sql");
            }
            onlyKeys(s, sp, Set.of("name", "sql", "collect", "count", "keep"));
            String stepName = text(s, sp, "name", true);
            if (!stepNames.add(stepName)) {
                throw error(sp + ".name", "duplicate step name '" + stepName + "'");
            }
            SqlTemplate sql = sql(s, sp, "sql", known);
            // A step that names neither the item nor what earlier steps found for it acts on every row of its table.
            if (sql.parameters().stream().allMatch("cutoff"::equals)) {
                throw error(path + ".steps[" + i + "] (" + stepName + ").sql", "uses neither :id nor a value an earlier"
                        + " step keeps, so it is not limited to the item being purged and would act on every row"
                        + " (e.g. ... WHERE moc_id = :id, or ... WHERE id = ANY(:keptName))");
            }
            String collect = text(s, sp, "collect", false);
            if (collect != null && !stores.containsKey(collect)) {
                throw error(sp + ".collect", "unknown store '" + collect + "' (configured: " + String.join(", ", stores.keySet()) + ")");
            }
            String count = identifier(s, sp, "count");
            String keep = identifier(s, sp, "keep");
            if (keep != null) {
                if (!known.add(keep)) {
                    throw error(sp + ".keep", "'" + keep + "' is already a parameter name");
                }
            }
            steps.add(new SweepConfig.Step(stepName, sql, collect, count, keep));
        }
        return new SweepConfig.Records(name, olderThan, pageSize, cap, eligible, claim, List.copyOf(steps));
    }

    private SweepConfig assets(String name, JsonNode node, String path, Map<String, StoreConfig> stores) {
        onlyKeys(node, path, Set.of("kind", "store", "prefix", "match", "olderThan", "maxDeletesPerRun", "referenced"));
        String store = text(node, path, "store", true);
        if (!stores.containsKey(store)) {
            throw error(path + ".store", "unknown store '" + store + "' (configured: " + String.join(", ", stores.keySet()) + ")");
        }
        String prefix = text(node, path, "prefix", true);
        String match = text(node, path, "match", true);
        KeyGlob glob;
        try {
            glob = KeyGlob.compile(match);
        } catch (IllegalArgumentException e) {
            throw error(path + ".match", "'" + match + "' is not a glob such as users/*/temp/** (" + e.getMessage() + ")");
        }
        // What a sweep may delete must be pinned to a folder: its literal start, inside the prefix and the guard.
        String literal = glob.literalStart();
        if (literal.isEmpty()) {
            throw error(path + ".match", "'" + match + "' has no literal start (text before its first wildcard),"
                    + " so it would match every key listed under '" + prefix + "'; begin it with the folder it may"
                    + " delete from, e.g. " + prefix + "tmp/**");
        }
        if (!literal.startsWith(prefix)) {
            throw error(path + ".match", "'" + match + "' does not start with the sweep's prefix '" + prefix + "'");
        }
        List<String> allowed = stores.get(store).allowedPrefixes();
        if (allowed.stream().noneMatch(literal::startsWith)) {
            throw error(path + ".match", "'" + match + "' lies outside the allowed prefixes of store " + store
                    + " (" + String.join(", ", allowed) + "): its literal start '" + literal + "' must begin with one");
        }
        Duration olderThan = duration(node, path, "olderThan");
        long cap = number(node, path, "maxDeletesPerRun", Long.MAX_VALUE, 1, Long.MAX_VALUE);
        // Optional when the store checks references itself (both run when both are given).
        if (stores.get(store).referenced() != null && text(node, path, "referenced", false) == null) {
            return new SweepConfig.Assets(name, store, prefix, match, olderThan, cap, null);
        }
        SqlTemplate referenced = sql(node, path, "referenced", Set.of("keys", "cutoff"));
        if (!referenced.uses("keys")) {
            throw error(path + ".referenced", "the reference query must take the page's keys as :keys "
                    + "(e.g. SELECT public_id FROM photos WHERE public_id = ANY(:keys))");
        }
        return new SweepConfig.Assets(name, store, prefix, match, olderThan, cap, referenced);
    }

    // ---- field readers -------------------------------------------------------------------------------------

    private SqlTemplate sql(JsonNode node, String path, String field, Set<String> allowed) {
        String text = text(node, path, field, true);
        SqlTemplate sql = SqlTemplate.parse(text);
        for (String p : sql.parameters()) {
            if (!allowed.contains(p)) {
                throw error(path + "." + field, "unknown parameter :" + p + " (known here: "
                        + String.join(", ", allowed.stream().map(a -> ":" + a).toList()) + ")");
            }
        }
        return sql;
    }

    private Duration duration(JsonNode node, String path, String field) {
        String text = text(node, path, field, true);
        try {
            Duration d = Durations.parse(text);
            if (d.isZero() || d.isNegative()) {
                throw error(path + "." + field, "must be positive (got '" + text + "')");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw error(path + "." + field, e.getMessage());
        }
    }

    private Duration optionalDuration(JsonNode node, String path, String field, Duration dflt) {
        return text(node, path, field, false) == null ? dflt : duration(node, path, field);
    }

    private long number(JsonNode node, String path, String field, long dflt, long min, long max) {
        String text = text(node, path, field, false);
        if (text == null) {
            return dflt;
        }
        try {
            long v = Long.parseLong(text.trim().replace("_", ""));
            if (v < min || v > max) {
                throw error(path + "." + field, "must be between " + min + " and " + max + " (got " + v + ")");
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(path + "." + field, "'" + text + "' is not a whole number");
        }
    }

    private double fraction(JsonNode node, String path, String field, double dflt) {
        String text = text(node, path, field, false);
        if (text == null) {
            return dflt;
        }
        String t = text.trim();
        try {
            double v = t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1)) / 100 : Double.parseDouble(t);
            if (v < 0 || v >= 1) {
                throw error(path + "." + field, "must be a fraction in [0, 1) such as 0.2 or 20% (got '" + text + "')");
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(path + "." + field, "'" + text + "' is not a fraction such as 0.2 or 20%");
        }
    }

    private boolean bool(JsonNode node, String path, String field, boolean dflt) {
        try {
            return Booleans.parse(text(node, path, field, false), dflt);
        } catch (IllegalArgumentException e) {
            throw error(path + "." + field, e.getMessage());
        }
    }

    private String identifier(JsonNode node, String path, String field) {
        String v = text(node, path, field, false);
        if (v != null && !IDENTIFIER.matcher(v).matches()) {
            throw error(path + "." + field, "'" + v + "' is not a plain name (letters, digits, _)");
        }
        return v;
    }

    private String text(JsonNode node, String path, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw error(path + "." + field, "is required");
            }
            return null;
        }
        if (v.isContainerNode()) {
            throw error(path + "." + field, "expected a single value, got a " + v.getNodeType().name().toLowerCase());
        }
        String s = substitute(v.asText(), path + "." + field);
        if (required && s.isBlank()) {
            throw error(path + "." + field, "is empty");
        }
        return s.isBlank() && v.getNodeType() == JsonNodeType.STRING && !required ? null : s;
    }

    private JsonNode mapping(JsonNode root, String field, String path) {
        JsonNode v = root.get(field);
        if (v == null || !v.isObject()) {
            throw error(path, "expected a mapping");
        }
        return v;
    }

    private void onlyKeys(JsonNode node, String path, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!allowed.contains(key)) {
                throw error(path.isEmpty() ? key : path + "." + key, "unknown field (expected one of: "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private String substitute(String value, String path) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String v = env.get(name);
            if (v == null || (v.isEmpty() && m.group(2) != null)) {
                v = m.group(2);
            }
            if (v == null) {
                throw error(path, "environment variable " + name + " is not set (write ${" + name + ":-default} for a default)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String optional(String v, String dflt) {
        return v == null ? dflt : v;
    }

    private ConfigException error(String path, String message) {
        // Messages quote values, and values may come from the environment: never a credential.
        return new ConfigException(file + ": " + path + ": " + Redaction.redact(message));
    }

    /** For callers that want to report a database-level problem in the same shape. */
    public static ConfigException error(ReclaimConfig config, String path, String message) {
        return new ConfigException(config.source() + ": " + path + ": " + message);
    }

}
