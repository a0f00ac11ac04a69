package dev.reclaim.failure;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Failed items, durable first: each is written to {@code reclaim.failures} (so nothing that failed is ever only in
 * memory), then sent to the retry queue; a row is deleted only once SQS accepted its message. Without a queue, or
 * while SQS is unreachable, failures wait in the table and go out with the next flush (the next page or run).
 */
public final class Failures {
    private static final Logger log = LoggerFactory.getLogger(Failures.class);
    private static final int FLUSH_BATCH = 100;

    private final RetryQueue queue;
    private final ObjectMapper json;

    public Failures(RetryQueue queue, ObjectMapper json) {
        this.queue = queue;
        this.json = json;
    }

    public boolean queueConfigured() {
        return queue != null;
    }

    /** Writes one failure; {@code c} must be in auto-commit mode or the caller commits. */
    public void record(Connection c, Failure f) throws SQLException {
        if (Failure.RECORD.equals(f.kind()) && f.itemId() != null) {
            // An item that fails run after run is one failure waiting, not one more row per run.
            try (PreparedStatement ps = c.prepareStatement("""
                    UPDATE reclaim.failures SET error_class = ?, error_message = ?
                    WHERE kind = 'record' AND sweep = ? AND item_id = ?""")) {
                ps.setString(1, f.errorClass());
                ps.setString(2, truncate(f.errorMessage()));
                ps.setString(3, f.sweep());
                ps.setString(4, f.itemId());
                if (ps.executeUpdate() > 0) {
                    about(f, () -> log.warn("failure recorded again: sweep={} kind={} item={} error={}", f.sweep(),
                            f.kind(), f.itemId(), f.errorMessage()));
                    return;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.failures (sweep, kind, item_id, store, keys, error_class, error_message, run_id,
                                              correlation_id, first_failed_at, retry_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
            ps.setString(1, f.sweep());
            ps.setString(2, f.kind());
            ps.setString(3, f.itemId());
            ps.setString(4, f.store());
            ps.setArray(5, f.keys() == null ? null : c.createArrayOf("text", f.keys().toArray()));
            ps.setString(6, f.errorClass());
            ps.setString(7, truncate(f.errorMessage()));
            ps.setObject(8, UUID.fromString(f.runId()));
            ps.setString(9, f.correlationId());
            ps.setTimestamp(10, Timestamp.from(f.firstFailedAt()));
            ps.setInt(11, f.retryCount());
            ps.executeUpdate();
        }
        about(f, () -> log.warn("failure recorded: sweep={} kind={} item={} store={} keys={} error={}", f.sweep(),
                f.kind(), f.itemId(), f.store(), f.keys() == null ? 0 : f.keys().size(), f.errorMessage()));
    }

    /** A line about a failed item, with its correlation id, sweep and id (or first key) in the MDC. */
    private static void about(Failure f, Runnable line) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        try {
            MDC.put("correlationId", f.correlationId());
            MDC.put("sweep", f.sweep());
            if (f.itemId() != null) {
                MDC.put("item", f.itemId());
            } else if (f.keys() != null && !f.keys().isEmpty()) {
                MDC.put("store", f.store());
                MDC.put("key", f.keys().get(0));
            }
            line.run();
        } finally {
            MDC.setContextMap(before == null ? Map.of() : before);
        }
    }

    /** Sends every pending failure to the retry queue; returns how many SQS accepted. {@code c} in auto-commit. */
    public long flush(Connection c) throws SQLException {
        if (queue == null) {
            return 0;
        }
        long sent = 0;
        long after = 0;
        while (true) {
            List<Long> ids = new ArrayList<>();
            List<RetryQueue.OutgoingMessage> messages = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT id, sweep, kind, item_id, store, keys, error_class, error_message, run_id, correlation_id,
                           first_failed_at, retry_count
                    FROM reclaim.failures WHERE id > ? ORDER BY id LIMIT ?""")) {
                ps.setLong(1, after);
                ps.setInt(2, FLUSH_BATCH);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Failure f = read(rs);
                        long id = rs.getLong("id");
                        ids.add(id);
                        messages.add(new RetryQueue.OutgoingMessage(Long.toString(id), body(f), f.retryCount(), f.sweep()));
                    }
                }
            }
            if (messages.isEmpty()) {
                return sent;
            }
            after = ids.get(ids.size() - 1);
            List<Long> accepted = new ArrayList<>();
            boolean anyRefused = false;
            for (RetryQueue.Outcome o : queue.send(messages)) {
                if (o.accepted()) {
                    accepted.add(Long.parseLong(o.id()));
                } else {
                    anyRefused = true;
                    log.warn("retry queue did not accept failure {}: {}", o.id(), o.error());
                }
            }
            if (!accepted.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM reclaim.failures WHERE id = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("bigint", accepted.toArray()));
                    ps.executeUpdate();
                }
                sent += accepted.size();
            }
            if (anyRefused) {
                return sent; // SQS is struggling: the rest waits for the next flush
            }
        }
    }

    /** Retries one stored failure through the code a run uses: null on success, else why it failed again. */
    @FunctionalInterface
    public interface Retry {
        String retry(Failure failure) throws Exception;
    }

    /** What {@link #retryStored} did: failures tried, and how many of them succeeded (and left the table). */
    public record Retried(long tried, long succeeded) {
    }

    /**
     * Without a retry queue the table is the queue: every failure stored before this call is retried once, in order,
     * until {@code deadline} (null: none) or {@code max}; a success deletes its row, a failure counts one more retry
     * and keeps the row for the next run. No connection is held while a retry runs (it needs the pool's).
     */
    public Retried retryStored(javax.sql.DataSource ds, Retry retry, Instant deadline, long max) throws SQLException {
        long upTo;
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(id), 0) FROM reclaim.failures");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            upTo = rs.getLong(1);
        }
        long after = 0;
        long tried = 0;
        long succeeded = 0;
        while (tried < max && (deadline == null || Instant.now().isBefore(deadline))) {
            Failure f;
            long id;
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                    SELECT id, sweep, kind, item_id, store, keys, error_class, error_message, run_id, correlation_id,
                           first_failed_at, retry_count
                    FROM reclaim.failures WHERE id > ? AND id <= ? ORDER BY id LIMIT 1""")) {
                ps.setLong(1, after);
                ps.setLong(2, upTo);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        break;
                    }
                    f = read(rs);
                    id = rs.getLong("id");
                }
            }
            after = id;
            tried++;
            String error;
            String outer = MDC.get("correlationId");
            MDC.put("correlationId", f.correlationId()); // the retry's lines join those of the failure it retries
            try {
                error = retry.retry(f);
            } catch (Exception e) {
                error = e.getClass().getSimpleName() + ": " + e.getMessage();
            } finally {
                if (outer == null) {
                    MDC.remove("correlationId");
                } else {
                    MDC.put("correlationId", outer);
                }
            }
            try (Connection c = ds.getConnection()) {
                if (error == null) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM reclaim.failures WHERE id = ?")) {
                        ps.setLong(1, id);
                        ps.executeUpdate();
                    }
                    succeeded++;
                    Failure done = f;
                    about(f, () -> log.info("stored failure retried and done: sweep={} kind={} correlationId={}",
                            done.sweep(), done.kind(), done.correlationId()));
                } else {
                    try (PreparedStatement ps = c.prepareStatement(
                            "UPDATE reclaim.failures SET retry_count = retry_count + 1, error_message = ? WHERE id = ?")) {
                        ps.setString(1, truncate(error));
                        ps.setLong(2, id);
                        ps.executeUpdate();
                    }
                    Failure again = f;
                    String why = error;
                    about(f, () -> log.warn("stored failure failed again (retry {}): sweep={} kind={} correlationId={}: {}",
                            again.retryCount() + 1, again.sweep(), again.kind(), again.correlationId(), why));
                }
            }
        }
        return new Retried(tried, succeeded);
    }

    public long pending(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM reclaim.failures");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public String body(Failure f) {
        try {
            return json.writeValueAsString(f);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a failure as JSON", e);
        }
    }

    private static Failure read(ResultSet rs) throws SQLException {
        Array keys = rs.getArray("keys");
        return new Failure(rs.getString("sweep"), rs.getString("kind"), rs.getString("item_id"), rs.getString("store"),
                keys == null ? null : Arrays.asList((String[]) keys.getArray()), rs.getString("error_class"),
                rs.getString("error_message"), rs.getString("run_id"), rs.getString("correlation_id"),
                rs.getTimestamp("first_failed_at").toInstant(), rs.getInt("retry_count"));
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 4000 ? s : s.substring(0, 4000);
    }
}
