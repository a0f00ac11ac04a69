package dev.reclaim.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configuration a run works with, for its start and end log lines: the parsed configuration file and the
 * environment variables that change what Reclaim does, as JSON, with every secret masked.
 */
public final class ConfigInForce {
    /** The variables worth a line: Reclaim's own, where the AWS clients go, and Sentry's environment. */
    private static final List<String> SHOWN = List.of("RECLAIM_", "AWS_REGION", "AWS_ENDPOINT_URL", "CLOUDINARY_URL",
            "SENTRY_DSN", "SENTRY_ENVIRONMENT");
    /** Names whose whole value is a credential: only whether they are set is shown. */
    private static final List<String> SECRET_NAMES = List.of("PASSWORD", "SECRET", "TOKEN");

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .registerModule(new SimpleModule().addSerializer(SqlTemplate.class, new JsonSerializer<>() {
                @Override
                public void serialize(SqlTemplate sql, JsonGenerator g, SerializerProvider p) throws IOException {
                    g.writeString(sql.source().strip()); // the statement as written, not its JDBC form
                }
            }))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

    private ConfigInForce() {
    }

    /** {@code {"config": {...}, "environment": {...}}}, redacted with {@link Redaction#of(Map)} of {@code env}. */
    public static ObjectNode of(ReclaimConfig config, Map<String, String> env) {
        Redaction redaction = Redaction.of(env);
        ObjectNode out = JSON.createObjectNode();
        out.set("config", redacted(JSON.valueToTree(config), redaction));
        ObjectNode shown = out.putObject("environment");
        new TreeMap<>(env).forEach((name, value) -> {
            if (value == null || SHOWN.stream().noneMatch(name::startsWith)) {
                return;
            }
            String upper = name.toUpperCase(Locale.ROOT);
            boolean secret = SECRET_NAMES.stream().anyMatch(upper::contains);
            shown.put(name, secret ? (value.isEmpty() ? "" : Redaction.MASK) : redaction.apply(value));
        });
        return out;
    }

    private static JsonNode redacted(JsonNode node, Redaction redaction) {
        if (node.isTextual()) {
            return TextNode.valueOf(redaction.apply(node.asText()));
        }
        if (node instanceof ObjectNode o) {
            List<String> names = new java.util.ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            names.forEach(f -> o.set(f, redacted(o.get(f), redaction)));
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, redacted(a.get(i), redaction));
            }
        }
        return node;
    }
}
