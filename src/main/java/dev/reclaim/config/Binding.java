package dev.reclaim.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Jackson's part of reading the file: its YAML tree, then that tree bound to {@link ConfigFile} with unknown fields
 * refused. What Jackson refuses is an error naming its field, and the rest of the file still binds.
 */
final class Binding {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectReader FILE = YAML.readerFor(ConfigFile.class)
            .with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private Binding() {
    }

    /** The file as a tree; a file that is no YAML, or no mapping, is the one error there is. */
    static ObjectNode tree(String file, String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(file + ": expected a mapping with 'stores' and 'sweeps'");
        }
        return (ObjectNode) root;
    }

    /** Binds with Jackson; what it refuses becomes an error and leaves the tree, and binding starts over. */
    static ConfigFile bind(ObjectNode root, Problems problems) {
        while (true) {
            try {
                return FILE.readValue(root);
            } catch (IOException e) {
                List<JsonMappingException.Reference> at = e instanceof JsonMappingException m ? m.getPath() : List.of();
                JsonNode parent = root;
                JsonNode node = root;
                StringBuilder path = new StringBuilder();
                for (JsonMappingException.Reference r : at) {
                    parent = node;
                    node = r.getIndex() < 0 ? node.path(r.getFieldName()) : node.path(r.getIndex());
                    path.append(r.getIndex() < 0 ? "." + r.getFieldName() : "[" + r.getIndex() + "]");
                }
                String where = path.substring(Math.min(1, path.length()));
                if (e instanceof UnrecognizedPropertyException u) {
                    problems.error(where, "unknown field (expected one of: " + u.getKnownPropertyIds().stream()
                            .map(String::valueOf).sorted().collect(Collectors.joining(", ")) + ")");
                    ((ObjectNode) parent).remove(u.getPropertyName());
                    continue;
                }
                if (at.isEmpty() || node.isMissingNode() || node.isNull() || !(e instanceof MismatchedInputException m)) {
                    problems.error(where, e.getMessage()); // nothing to drop: binding cannot go on
                    return null;
                }
                Class<?> target = Objects.requireNonNullElse(m.getTargetType(), Object.class);
                if (m instanceof InvalidTypeIdException t && node.isObject()) {
                    boolean store = t.getBaseType().hasRawClass(ConfigFile.Store.class);
                    problems.error(where + (store ? ".type" : ".kind"), t.getTypeId() == null ? "is required" : store
                            ? "unknown store type '" + t.getTypeId() + "' (known: s3, cloudinary)"
                            : "unknown sweep kind '" + t.getTypeId() + "' (known: records, assets)");
                } else {
                    problems.error(where, target != String.class
                            ? "expected a " + (Collection.class.isAssignableFrom(target) ? "list" : "mapping")
                            : "expected a single value, got a " + (node.isArray() ? "list" : "mapping"));
                }
                if (parent instanceof ArrayNode list) {
                    list.set(at.get(at.size() - 1).getIndex(), NullNode.getInstance());
                } else {
                    ((ObjectNode) parent).putNull(at.get(at.size() - 1).getFieldName());
                }
            }
        }
    }
}
