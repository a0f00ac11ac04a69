package dev.reclaim.testing;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The project's {@code template.yaml} as CloudFormation reads it: short tags become their long form ({@code !Ref X}
 * is {@code {"Ref": "X"}}, {@code !GetAtt A.B} is {@code {"Fn::GetAtt": ["A", "B"]}}, {@code !Sub s} is
 * {@code {"Fn::Sub": "s"}}), so tests see what would be deployed rather than bare strings.
 */
public final class SamTemplate {
    public static final Path PATH = Path.of("template.yaml");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonNode root;

    private SamTemplate(JsonNode root) {
        this.root = root;
    }

    public static SamTemplate load() {
        return parse(PATH);
    }

    public static SamTemplate parse(Path file) {
        try (YAMLParser parser = new YAMLFactory().createParser(Files.readString(file))) {
            parser.nextToken();
            return new SamTemplate(node(parser));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public JsonNode root() {
        return root;
    }

    public JsonNode resource(String logicalId) {
        return root.path("Resources").path(logicalId);
    }

    /** Logical ids of the resources of a type, in file order. */
    public List<String> resourcesOfType(String type) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.path("Resources").properties()) {
            if (type.equals(e.getValue().path("Type").asText())) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** The function (logical id) with an event of this type, e.g. {@code SQS} or {@code ScheduleV2}. */
    public String functionTriggeredBy(String eventType) {
        for (String id : resourcesOfType("AWS::Serverless::Function")) {
            for (JsonNode event : resource(id).path("Properties").path("Events")) {
                if (eventType.equals(event.path("Type").asText())) {
                    return id;
                }
            }
        }
        throw new AssertionError("no function in template.yaml is triggered by a " + eventType + " event");
    }

    /** The function whose SQS event source polls the queue resource {@code queue} (e.g. WorkQueue). */
    public String functionPolling(String queue) {
        for (String id : resourcesOfType("AWS::Serverless::Function")) {
            for (JsonNode event : resource(id).path("Properties").path("Events")) {
                if ("SQS".equals(event.path("Type").asText())
                        && queue.equals(event.path("Properties").path("Queue").path("Fn::GetAtt").path(0).asText())) {
                    return id;
                }
            }
        }
        throw new AssertionError("no function in template.yaml polls " + queue);
    }

    /** A function's {@code Handler}, as Lambda is given it ({@code a.b.C::handleRequest}). */
    public String handler(String functionId) {
        return resource(functionId).path("Properties").path("Handler").asText();
    }

    /** The class part of a function's {@code Handler} ({@code a.b.C::handleRequest} gives {@code a.b.C}). */
    public String handlerClass(String functionId) {
        String handler = handler(functionId);
        int method = handler.indexOf("::");
        return method < 0 ? handler : handler.substring(0, method);
    }

    private static JsonNode node(YAMLParser p) throws IOException {
        String tag = p.getTypeId(); // a short-form intrinsic function, without its '!'
        JsonNode value;
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            ObjectNode o = NODES.objectNode();
            while (p.nextToken() != JsonToken.END_OBJECT) {
                String name = p.currentName();
                p.nextToken();
                o.set(name, node(p));
            }
            value = o;
        } else if (t == JsonToken.START_ARRAY) {
            ArrayNode a = NODES.arrayNode();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                a.add(node(p));
            }
            value = a;
        } else if (t == JsonToken.VALUE_NUMBER_INT) {
            value = NODES.numberNode(p.getLongValue());
        } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            value = NODES.numberNode(p.getDecimalValue());
        } else if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
            value = NODES.booleanNode(p.getBooleanValue());
        } else if (t == JsonToken.VALUE_NULL) {
            value = NODES.nullNode();
        } else {
            value = NODES.textNode(p.getText());
        }
        if (tag == null) {
            return value;
        }
        if ("GetAtt".equals(tag) && value.isTextual()) {
            String s = value.asText();
            int dot = s.indexOf('.');
            value = NODES.arrayNode().add(s.substring(0, dot)).add(s.substring(dot + 1));
        }
        String function = "Ref".equals(tag) || "Condition".equals(tag) ? tag : "Fn::" + tag;
        return NODES.objectNode().set(function, value);
    }
}
