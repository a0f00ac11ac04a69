package dev.reclaim.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A plan file as {@link PlanWriter} writes it, read back line by line (memory is one line): {@link #check} reads it
 * whole and refuses anything that is not exactly a plan (no header, an unknown version, a line that is not JSON, an
 * unknown type or field, a missing end line or counts that do not match it); {@link #entries} then streams what it
 * holds.
 */
public final class PlanFile {
    public static final String FORMAT = "reclaim-plan";
    public static final int VERSION = 1;

    /** Each line type and its fields; the first names are required. */
    private static final Map<String, List<Set<String>>> FIELDS = Map.of(
            "record", List.of(Set.of("type", "sweep", "id"), Set.of()),
            "key", List.of(Set.of("type", "sweep", "store", "key"), Set.of("item", "bytes")),
            "kept", List.of(Set.of("type", "sweep", "store", "key", "reason"), Set.of()),
            "end", List.of(Set.of("type", "records", "keys", "kept"), Set.of()));
    /** One JSON value a line: anything after it makes the line no plan line. */
    private static final ObjectReader STRICT = Reports.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> HEADER = Set.of("type", "format", "version", "reclaim", "configHash", "createdAt",
            "runId", "sweeps");

    /** A file that is not a plan Reclaim can apply; the message names the line and what is wrong. */
    public static final class NotAPlan extends RuntimeException {
        NotAPlan(Path file, long line, String why) {
            super("plan " + file + (line > 0 ? ", line " + line : "") + ": " + why);
        }
    }

    /** One sweep as the plan's header lists it. */
    public record Sweep(String name, String kind, String cutoff, String stoppedBy) {
    }

    /** What a plan says of itself, and what it holds per sweep (records; keys). */
    public record Summary(Path file, String reclaim, String configHash, Instant createdAt, String runId,
                          List<Sweep> sweeps, Map<String, Long> records, Map<String, Long> keys, long kept) {
    }

    /** One record or key the plan would delete ({@code store} null for a record). */
    public record Entry(String sweep, String store, String value) {
    }

    private PlanFile() {
    }

    /** Reads the whole file; returns what it holds, or throws {@link NotAPlan}. Nothing is kept but counts. */
    public static Summary check(Path file) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = in.readLine();
            if (first == null) {
                throw new NotAPlan(file, 0, "the file is empty");
            }
            JsonNode header = json(file, 1, first);
            if (!"header".equals(header.path("type").asText()) || !FORMAT.equals(header.path("format").asText())) {
                throw new NotAPlan(file, 1, "not a Reclaim plan (its first line is no plan header)");
            }
            if (header.path("version").asInt(-1) != VERSION) {
                throw new NotAPlan(file, 1, "unknown plan version " + header.path("version")
                        + " (this Reclaim reads version " + VERSION + ")");
            }
            fieldsExactly(file, 1, header, HEADER, Set.of());
            Instant createdAt;
            try {
                createdAt = Instant.parse(header.path("createdAt").asText());
            } catch (DateTimeParseException e) {
                throw new NotAPlan(file, 1, "createdAt is not a time: " + header.path("createdAt"));
            }
            List<Sweep> sweeps = new ArrayList<>();
            for (JsonNode s : header.path("sweeps")) {
                sweeps.add(new Sweep(s.path("name").asText(), s.path("kind").asText(null), s.path("cutoff").asText(null),
                        s.path("stoppedBy").asText(null)));
            }
            Set<String> names = Set.copyOf(sweeps.stream().map(Sweep::name).toList());
            Map<String, Long> records = new LinkedHashMap<>();
            Map<String, Long> keys = new LinkedHashMap<>();
            long kept = 0;
            JsonNode end = null;
            long n = 1;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                n++;
                if (end != null) {
                    throw new NotAPlan(file, n, "a line after the end line");
                }
                JsonNode entry = json(file, n, line);
                String type = entry.path("type").asText();
                List<Set<String>> fields = FIELDS.get(type);
                if (fields == null) {
                    throw new NotAPlan(file, n, "unknown line type " + entry.path("type"));
                }
                fieldsExactly(file, n, entry, fields.get(0), fields.get(1));
                if (type.equals("end")) {
                    end = entry;
                    continue;
                }
                String sweep = entry.path("sweep").asText();
                if (!names.contains(sweep)) {
                    throw new NotAPlan(file, n, "sweep '" + sweep + "' is not in the plan's header");
                }
                switch (type) {
                    case "record" -> records.merge(sweep, 1L, Long::sum);
                    case "key" -> keys.merge(sweep, 1L, Long::sum);
                    default -> kept++;
                }
            }
            if (end == null) {
                throw new NotAPlan(file, n, "no end line: the file is truncated");
            }
            long totalRecords = records.values().stream().mapToLong(Long::longValue).sum();
            long totalKeys = keys.values().stream().mapToLong(Long::longValue).sum();
            if (end.path("records").asLong(-1) != totalRecords || end.path("keys").asLong(-1) != totalKeys
                    || end.path("kept").asLong(-1) != kept) {
                throw new NotAPlan(file, n, "the end line counts " + end + " but the file holds " + totalRecords
                        + " records, " + totalKeys + " keys, " + kept + " kept: lines were added or removed");
            }
            return new Summary(file, header.path("reclaim").asText(), header.path("configHash").asText(), createdAt,
                    header.path("runId").asText(), List.copyOf(sweeps), records, keys, kept);
        } catch (IOException e) {
            throw new NotAPlan(file, 0, "cannot be read: " + e.getMessage());
        }
    }

    /** The records and keys of a plan {@link #check} accepted, in file order, one line in memory at a time. */
    public static Iterator<Entry> entries(BufferedReader in) {
        return in.lines().map(PlanFile::entry).filter(Objects::nonNull).iterator();
    }

    /** The record or key a line holds; null for a kept or end line. */
    private static Entry entry(String line) {
        try {
            JsonNode e = Reports.JSON.readTree(line);
            return switch (e.path("type").asText()) {
                case "record" -> new Entry(e.path("sweep").asText(), null, e.path("id").asText());
                case "key" -> new Entry(e.path("sweep").asText(), e.path("store").asText(), e.path("key").asText());
                default -> null;
            };
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode json(Path file, long n, String line) {
        try {
            JsonNode node = STRICT.readTree(line);
            if (node == null || !node.isObject()) {
                throw new NotAPlan(file, n, "not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new NotAPlan(file, n, "not JSON (" + e.getOriginalMessage() + ")");
        }
    }

    private static void fieldsExactly(Path file, long n, JsonNode node, Set<String> required, Set<String> optional) {
        for (String f : required) {
            JsonNode v = node.get(f);
            if (v == null || v.isNull()) {
                throw new NotAPlan(file, n, "missing field '" + f + "'");
            }
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!required.contains(f) && !optional.contains(f)) {
                throw new NotAPlan(file, n, "unknown field '" + f + "'");
            }
        }
    }
}
