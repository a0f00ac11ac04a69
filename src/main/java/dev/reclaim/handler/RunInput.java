package dev.reclaim.handler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The scheduled handler's input. Two shapes: an EventBridge scheduled-event envelope (options, if any, in
 * {@code detail}), or the plain JSON that EventBridge Scheduler and {@code sam local invoke} deliver:
 * {@code {"dryRun": true, "sweeps": ["moc-purge"]}}. Unknown fields are an error: a mistyped {@code dryrun} must
 * never turn into a real run.
 */
final class RunInput {
    private static final Set<String> FIELDS = Set.of("dryRun", "sweeps", "trigger");

    private RunInput() {
    }

    static RunRequest parse(JsonNode input, Map<String, String> env, Deadline deadline) {
        boolean envDryRun = RunRequest.dryRunForced(env);
        if (input == null || input.isNull() || input.isMissingNode()) {
            return new RunRequest("lambda", envDryRun, List.of(), deadline);
        }
        if (!input.isObject()) {
            throw new UsageException("input must be a JSON object such as {\"dryRun\": true}, got " + input.getNodeType());
        }
        String trigger = "lambda";
        JsonNode options = input;
        if (input.has("detail-type") || "aws.events".equals(input.path("source").asText())) {
            JsonNode resources = input.path("resources");
            trigger = "schedule:" + (resources.isArray() && !resources.isEmpty() ? resources.get(0).asText()
                    : input.path("time").asText("unknown"));
            options = input.path("detail");
            if (options.isMissingNode() || options.isNull()) {
                options = null;
            }
        }
        boolean dryRun = envDryRun;
        List<String> sweeps = List.of();
        if (options != null) {
            if (!options.isObject()) {
                throw new UsageException("detail must be a JSON object, got " + options.getNodeType());
            }
            for (var it = options.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f)) {
                    throw new UsageException("unknown input field '" + f + "' (expected: dryRun, sweeps, trigger)");
                }
            }
            JsonNode d = options.get("dryRun");
            if (d != null && !d.isNull()) {
                if (!d.isBoolean()) {
                    throw new UsageException("dryRun must be true or false, got " + d);
                }
                dryRun = dryRun || d.booleanValue();
            }
            JsonNode s = options.get("sweeps");
            if (s != null && !s.isNull()) {
                if (!s.isArray()) {
                    throw new UsageException("sweeps must be a list of sweep names, got " + s);
                }
                List<String> names = new ArrayList<>();
                for (JsonNode n : s) {
                    if (!n.isTextual() || n.asText().isBlank()) {
                        throw new UsageException("sweeps must be a list of sweep names, got " + s);
                    }
                    names.add(n.asText());
                }
                sweeps = names;
            }
            JsonNode t = options.get("trigger");
            if (t != null && t.isTextual() && !t.asText().isBlank()) {
                trigger = t.asText();
            }
        }
        return new RunRequest(trigger, dryRun, sweeps, deadline);
    }
}
