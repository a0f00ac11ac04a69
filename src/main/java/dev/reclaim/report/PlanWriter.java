package dev.reclaim.report;

import com.fasterxml.jackson.databind.SequenceWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a dry run's plan as JSON Lines, as its events arrive (memory is one page): a header (Reclaim's version, the
 * configuration's hash, each sweep's kind and cutoff, the time), then every record id and key that would go, every
 * asset kept with its reason, and an end line with the counts. The header needs the cutoffs, known only once each
 * sweep starts, so the lines go to a file beside the plan, and {@link #finish} writes the plan whole: a plan without
 * its end line is not a plan ({@link PlanFile} refuses it).
 */
public final class PlanWriter implements RunEvents {
    private final Path out;
    private final Path body;
    private final Writer writer;
    private final SequenceWriter lines;
    private final String version;
    private final String configHash;
    private final Map<String, ObjectNode> sweeps = new LinkedHashMap<>();
    private long records;
    private long keys;
    private long kept;
    private IOException failed;

    public PlanWriter(Path out, String version, String configHash) throws IOException {
        this.out = out;
        this.version = version;
        this.configHash = configHash;
        Path dir = out.toAbsolutePath().getParent();
        this.body = Files.createTempFile(dir, ".reclaim-plan-", ".part");
        this.writer = Files.newBufferedWriter(body, StandardCharsets.UTF_8);
        this.lines = Reports.JSON.writer().withRootValueSeparator("\n").writeValues(writer);
    }

    @Override
    public void emit(RunEvent event) {
        if (failed != null) {
            return;
        }
        try {
            if (event instanceof RunEvent.SweepStarted e && e.kind() != null) {
                ObjectNode s = sweep(e.sweep());
                s.put("kind", e.kind());
                s.put("cutoff", e.cutoff() == null ? null : e.cutoff().toString());
            } else if (event instanceof RunEvent.RunStarted e) {
                e.sweeps().forEach(this::sweep);
            } else if (event instanceof RunEvent.ItemPurged e) {
                lines.write(Map.of("type", "record", "sweep", e.sweep(), "id", e.item()));
                records++;
                for (Map.Entry<String, List<String>> byStore : e.keys().entrySet()) {
                    for (String k : byStore.getValue().stream().distinct().toList()) {
                        lines.write(Map.of("type", "key", "sweep", e.sweep(), "store", byStore.getKey(), "key", k, "item", e.item()));
                        keys++;
                    }
                }
            } else if (event instanceof RunEvent.KeysDeleted e && e.source() == RunEvent.Source.SWEEP) {
                for (String k : e.keys()) {
                    Map<String, Object> line = new LinkedHashMap<>(Map.of("type", "key", "sweep", e.sweep(),
                            "store", e.store(), "key", k));
                    Long bytes = e.sizes().get(k);
                    if (bytes != null) {
                        line.put("bytes", bytes);
                    }
                    lines.write(line);
                    keys++;
                }
            } else if (event instanceof RunEvent.KeysKept e && e.source() == RunEvent.Source.SWEEP) {
                kept(e.sweep(), e.store(), "referenced", e.keys());
            } else if (event instanceof RunEvent.KeysRefused e && e.source() == RunEvent.Source.SWEEP) {
                kept(e.sweep(), e.store(), "outsidePrefixes", e.keys());
            } else if (event instanceof RunEvent.AssetsPassedOver e) {
                kept(e.sweep(), e.store(), e.reason(), e.keys());
            } else if (event instanceof RunEvent.SweepHeld e) {
                sweep(e.sweep()).put("brakeWouldHold", e.detail());
            } else if (event instanceof RunEvent.SweepStopped e) {
                sweep(e.sweep()).put("stoppedBy", e.reason());
            }
        } catch (IOException e) {
            failed = e;
        }
    }

    /** The header's entry of sweep {@code name}, made when first heard of. */
    private ObjectNode sweep(String name) {
        return sweeps.computeIfAbsent(name, n -> Reports.JSON.createObjectNode().put("name", n));
    }

    private void kept(String sweep, String store, String reason, List<String> what) throws IOException {
        for (String k : what) {
            lines.write(Map.of("type", "kept", "sweep", sweep, "store", store, "key", k, "reason", reason));
            kept++;
        }
    }

    /**
     * Writes the plan: header, the lines, the end line; then removes the file beside it. Throws when any line could
     * not be written (a full disk, say): a plan that misses lines must never look whole.
     */
    public void finish(Instant createdAt, String runId) throws IOException {
        try {
            if (failed != null) {
                throw failed;
            }
            lines.flush();
            writer.close();
            ObjectNode header = Reports.JSON.createObjectNode();
            header.put("type", "header");
            header.put("format", PlanFile.FORMAT);
            header.put("version", PlanFile.VERSION);
            header.put("reclaim", version);
            header.put("configHash", configHash);
            header.put("createdAt", createdAt.toString());
            header.put("runId", runId);
            header.putArray("sweeps").addAll(new ArrayList<>(sweeps.values()));
            ObjectNode end = Reports.JSON.createObjectNode();
            end.put("type", "end");
            end.put("records", records);
            end.put("keys", keys);
            end.put("kept", kept);
            Path whole = Files.createTempFile(out.toAbsolutePath().getParent(), ".reclaim-plan-", ".tmp");
            try (BufferedWriter w = Files.newBufferedWriter(whole, StandardCharsets.UTF_8)) {
                w.write(Reports.JSON.writeValueAsString(header));
                w.write('\n');
                try (var in = Files.newBufferedReader(body, StandardCharsets.UTF_8)) {
                    in.transferTo(w);
                }
                if (records + keys + kept > 0) {
                    w.write('\n');
                }
                w.write(Reports.JSON.writeValueAsString(end));
                w.write('\n');
            }
            Files.move(whole, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            discard();
        }
    }

    /** Removes the lines written so far (the run failed: no plan is written). */
    public void discard() {
        try {
            writer.close();
            Files.deleteIfExists(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
