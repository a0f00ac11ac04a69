package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.reclaim.Reclaim;
import dev.reclaim.config.Settings;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The daily run (EventBridge). Thin: parse the input, run, write the report. A run that failed as a whole is
 * thrown, so Lambda counts an error; failed items are in the report, not errors.
 */
public final class ScheduledRunHandler implements RequestStreamHandler {
    private final Reclaim reclaim;
    private final Settings settings;

    /** Used by Lambda: wiring is built once per container and reused by every invocation. */
    public ScheduledRunHandler() {
        this(SnapStartHook.start(Settings.processEnvironment(), s -> new ScheduledRunHandler(SnapStartHook.container(s), s)));
    }

    private ScheduledRunHandler(ScheduledRunHandler started) {
        this(started.reclaim, started.settings);
    }

    public ScheduledRunHandler(Reclaim reclaim, Settings settings) {
        this.reclaim = reclaim;
        this.settings = settings;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (Invocation ignored = Invocation.start(context, null)) {
            RunRequest request = Input.parse(input.readAllBytes(), settings.dryRun(), deadline(context));
            RunReport report;
            try {
                report = reclaim.run(request);
            } finally {
                SentryReporter.flush(); // Lambda freezes the process once the handler returns
            }
            if (report.outcome() == Outcome.FAILED) {
                // The ledger row holds the full report; the error says what was done up to the failure.
                throw new IllegalStateException("Reclaim run " + report.runId() + " failed: " + report.reason() + ". "
                        + Reports.doneBeforeFailure(report));
            }
            Reports.JSON.writeValue(output, report);
        }
    }

    /** The margin is {@code RECLAIM_TIME_MARGIN} (60s; more than zero: a negative one would pass the Lambda timeout). */
    private Deadline deadline(Context context) {
        return Invocation.deadline(context, settings.timeMargin());
    }

    /**
     * The scheduled handler's input. Two shapes: an EventBridge scheduled-event envelope (options, if any, in
     * {@code detail}), or the plain JSON that EventBridge Scheduler and {@code sam local invoke} deliver:
     * {@code {"dryRun": true, "sweeps": ["moc-purge"]}}. Unknown fields and values of another type are an error: a
     * mistyped {@code dryrun} or a {@code "dryRun": "false"} must never turn into a real run.
     */
    static final class Input {
        private static final ObjectReader OPTIONS = JsonMapper.builder().disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build().readerFor(Options.class).with(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        private static final Map<String, String> EXPECTED = Map.of("dryRun", "true or false", "sweeps",
                "a list of sweep names", "trigger", "a text");

        /** What a run may be asked; a field left out is null. */
        private record Options(Boolean dryRun, List<String> sweeps, String trigger) {
        }

        /** The raw body Lambda hands over; empty is no options. A body that is not JSON is bad input like any other. */
        static RunRequest parse(byte[] body, boolean envDryRun, Deadline deadline) {
            try {
                return parse(Reports.JSON.readTree(body), envDryRun, deadline); // empty: a missing node, no options
            } catch (JsonProcessingException e) {
                throw new UsageException("input is not JSON (expected an object such as {\"dryRun\": true}): "
                        + e.getOriginalMessage());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {@code envDryRun}: {@code RECLAIM_DRY_RUN} forces a dry run, whatever the input says. */
        static RunRequest parse(JsonNode input, boolean envDryRun, Deadline deadline) {
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
                    return new RunRequest(trigger, envDryRun, List.of(), deadline);
                }
                if (!options.isObject()) {
                    throw new UsageException("detail must be a JSON object, got " + options.getNodeType());
                }
            }
            Options o = bind(options);
            return new RunRequest(o.trigger() == null || o.trigger().isBlank() ? trigger : o.trigger(),
                    envDryRun || Boolean.TRUE.equals(o.dryRun()), Objects.requireNonNullElse(o.sweeps(), List.of()), deadline);
        }

        private static Options bind(JsonNode options) {
            String field = "sweeps";
            try {
                Options o = OPTIONS.readValue(options);
                if (o.sweeps() == null || o.sweeps().stream().noneMatch(n -> n == null || n.isBlank())) {
                    return o;
                }
            } catch (UnrecognizedPropertyException e) {
                throw new UsageException("unknown input field '" + e.getPropertyName() + "' (expected: dryRun, sweeps, trigger)");
            } catch (JsonMappingException e) { // a field of another type: the path names it
                field = e.getPath().get(0).getFieldName();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new UsageException(field + " must be " + EXPECTED.get(field) + ", got " + options.get(field));
        }
    }
}
