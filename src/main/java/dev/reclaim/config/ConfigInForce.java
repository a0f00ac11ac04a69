package dev.reclaim.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configuration a run works with, for its start and end log lines: the parsed configuration file and the
 * environment variables that change what Reclaim does, as JSON, with every secret masked.
 */
public final class ConfigInForce {
    /** Names whose whole value is a credential: only whether they are set is shown. */
    private static final List<String> SECRET_NAMES = List.of("PASSWORD", "SECRET", "TOKEN");

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

    private ConfigInForce() {
    }

    /**
     * A hash of the configuration in force (variables resolved, secrets masked, not where the file was read from): a
     * plan is applied only under the configuration it was made under.
     */
    public static String hash(ReclaimConfig config, Map<String, String> env) {
        ObjectNode node = (ObjectNode) of(config, env).get("config").deepCopy();
        node.remove("source");
        try {
            byte[] canonical = JSON.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                    .writeValueAsBytes(JSON.treeToValue(node, Object.class));
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A hash of one sweep's configuration: a shard made under another is not purged under this one. */
    public static String hash(SweepConfig sweep) {
        try {
            byte[] canonical = JSON.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                    .writeValueAsBytes(JSON.treeToValue(JSON.valueToTree(sweep), Object.class));
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code {"config": {...}, "environment": {...}}}, redacted with {@link Redaction#of(Map)} of {@code env}. */
    public static ObjectNode of(ReclaimConfig config, Map<String, String> env) {
        Redaction redaction = Redaction.of(env);
        ObjectNode out = JSON.createObjectNode();
        out.set("config", ConfigLoader.walk(JSON.valueToTree(config), "",
                (node, path) -> node.isTextual() ? TextNode.valueOf(redaction.apply(node.textValue())) : node));
        ObjectNode shown = out.putObject("environment");
        new TreeMap<>(env).forEach((name, value) -> {
            if (value == null || Settings.SHOWN.stream().noneMatch(name::startsWith)) {
                return;
            }
            String upper = name.toUpperCase(Locale.ROOT);
            boolean secret = SECRET_NAMES.stream().anyMatch(upper::contains);
            shown.put(name, secret ? (value.isEmpty() ? "" : Redaction.MASK) : redaction.apply(value));
        });
        return out;
    }
}
