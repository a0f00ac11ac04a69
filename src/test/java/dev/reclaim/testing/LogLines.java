package dev.reclaim.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The log lines Reclaim writes while it is open, encoded by the same {@code LogstashEncoder} as
 * {@code logback.xml}'s JSON appender (so they are exactly what a deployment prints), at INFO as deployed.
 * {@link #lines()} parses each one as JSON: a line that is not valid JSON fails the test.
 */
public final class LogLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LogstashEncoder encoder = new LogstashEncoder();
    private final List<String> encoded = new ArrayList<>();
    private final Level level;
    private final Logger reclaim;

    private LogLines() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        setContext(context);
        encoder.setContext(context);
        encoder.start();
        start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(this);
        reclaim = context.getLogger("dev.reclaim");
        level = reclaim.getLevel();
        reclaim.setLevel(Level.INFO); // what a deployment logs, not the tests' WARN
    }

    public static LogLines capture() {
        return new LogLines();
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
        encoded.add(new String(encoder.encode(event), StandardCharsets.UTF_8));
    }

    /** Every line as written, one JSON object and its newline each. */
    public synchronized List<String> raw() {
        return List.copyOf(encoded);
    }

    /** Every line, parsed. */
    public List<JsonNode> lines() {
        List<JsonNode> out = new ArrayList<>();
        for (String line : raw()) {
            if (!line.endsWith("\n") || line.indexOf('\n') != line.length() - 1) {
                throw new AssertionError("not one line: " + line);
            }
            try {
                out.add(JSON.readTree(line));
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + line, e);
            }
        }
        return out;
    }

    public List<JsonNode> lines(Predicate<JsonNode> which) {
        return lines().stream().filter(which).toList();
    }

    /** Lines of Reclaim's own loggers. */
    public List<JsonNode> reclaimLines() {
        return lines(l -> l.path("logger_name").asText().startsWith("dev.reclaim."));
    }

    public static Predicate<JsonNode> outcome(String outcome) {
        return l -> outcome.equals(l.path("outcome").asText(null));
    }

    public static Predicate<JsonNode> message(String start) {
        return l -> l.path("message").asText().startsWith(start);
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) getContext();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
        reclaim.setLevel(level);
        stop();
        encoder.stop();
    }
}
