package dev.reclaim.failure;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.reclaim.report.DeletionLog;
import dev.reclaim.report.Reports;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.util.stream.Collectors;

/**
 * Failed items, durable first: each is written to {@code reclaim.failures} (so nothing that failed is ever only in
 * memory), then sent to the retry queue; a row is deleted only once SQS accepted its message. Without a queue, or
 * while SQS is unreachable, failures wait in the table and go out with the next flush (the next page or run).
 */
public final class Failures {
    private static final Logger log = LoggerFactory.getLogger(Failures.class);
    private static final int FLUSH_BATCH = 100;
    /** SQS keeps a message 14 days at most: a record sent longer ago is no longer waiting on the queue. */
    public static final String IN_FLIGHT_AT_MOST = "interval '14 days'";
    private static final String SELECT = """
            SELECT id, sweep, kind, item_id, store, keys, error_class, error_message, run_id, correlation_id,
                   first_failed_at, retry_count
            FROM reclaim.failures WHERE sent_at IS NULL AND id > ?""";

    private final RetryQueue queue;

    public Failures(RetryQueue queue) {
        this.queue = queue;
    }

    public boolean queueConfigured() {
        return queue != null;
    }

    /** Writes one failure; {@code c} must be in auto-commit mode or the caller commits. */
    public void record(Connection c, Failure f) throws SQLException {
        if (Failure.RECORD.equals(f.kind()) && f.itemId() != null) {
            // An item that fails run after run is one failure waiting, not one more row per run.
            if (update(c, """
                    UPDATE reclaim.failures SET error_class = ?, error_message = ?, sent_at = NULL
                    WHERE kind = 'record' AND sweep = ? AND item_id = ?""",
                    f.errorClass(), truncate(f.errorMessage()), f.sweep(), f.itemId()) > 0) {
                about(f, () -> log.warn("failure recorded again: sweep={} kind={} item={} error={}", f.sweep(),
                        f.kind(), f.itemId(), f.errorMessage()));
                return;
            }
        }
        update(c, """
                INSERT INTO reclaim.failures (sweep, kind, item_id, store, keys, error_class, error_message, run_id,
                                              correlation_id, first_failed_at, retry_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                f.sweep(), f.kind(), f.itemId(), f.store(),
                f.keys() == null ? null : c.createArrayOf("text", f.keys().toArray()), f.errorClass(),
                truncate(f.errorMessage()), UUID.fromString(f.runId()), f.correlationId(),
                Timestamp.from(f.firstFailedAt()), f.retryCount());
        about(f, () -> log.warn("failure recorded: sweep={} kind={} item={} store={} keys={} error={}", f.sweep(),
                f.kind(), f.itemId(), f.store(), f.keys() == null ? 0 : f.keys().size(), f.errorMessage()));
    }

    /** A line about a failed item, with its correlation id, sweep and id (or first key) in the MDC. */
    private static void about(Failure f, Runnable line) {
        boolean byKey = f.itemId() == null && f.keys() != null && !f.keys().isEmpty();
        DeletionLog.withMdc(f.sweep(), f.itemId(), byKey ? f.store() : null, byKey ? f.keys().get(0) : null,
                f.correlationId(), line);
    }

    /** Sends every pending failure to the retry queue; returns how many SQS accepted. {@code c} in auto-commit. */
    public long flush(Connection c) throws SQLException {
        if (queue == null) {
            return 0;
        }
        update(c, "DELETE FROM reclaim.failures WHERE sent_at < now() - " + IN_FLIGHT_AT_MOST);
        long sent = 0;
        long after = 0;
        while (true) {
            List<Stored> batch = select(c, " ORDER BY id LIMIT ?", after, FLUSH_BATCH);
            if (batch.isEmpty()) {
                return sent;
            }
            after = batch.get(batch.size() - 1).id();
            List<RetryQueue.OutgoingMessage> messages = batch.stream().map(s -> new RetryQueue.OutgoingMessage(
                    Long.toString(s.id()), body(s.failure()), s.failure().retryCount(), s.failure().sweep())).toList();
            Map<Boolean, List<RetryQueue.Outcome>> byAccepted = queue.send(messages).stream()
                    .collect(Collectors.partitioningBy(RetryQueue.Outcome::accepted));
            List<RetryQueue.Outcome> refused = byAccepted.get(false);
            refused.forEach(o -> log.warn("retry queue did not accept failure {}: {}", o.id(), o.error()));
            List<Long> accepted = byAccepted.get(true).stream().map(o -> Long.parseLong(o.id())).toList();
            if (!accepted.isEmpty()) {
                // A record stays, marked sent, until its retry settles it: records sweeps leave it out meanwhile.
                Array ids = c.createArrayOf("bigint", accepted.toArray());
                update(c, "UPDATE reclaim.failures SET sent_at = now() WHERE id = ANY(?) AND kind = 'record'", ids);
                update(c, "DELETE FROM reclaim.failures WHERE id = ANY(?) AND kind <> 'record'", ids);
                sent += accepted.size();
            }
            if (!refused.isEmpty()) {
                return sent; // SQS is struggling: the rest waits for the next flush
            }
        }
    }

    /** What a retry of the stored failures did: failures tried, and how many of them succeeded (and left the table). */
    public record Retried(long tried, long succeeded) {
    }

    /** One failure waiting in {@code reclaim.failures}. */
    public record Stored(long id, Failure failure) {
    }

    /** The id of the last failure stored now: a retry of the table stops there, not at what it adds itself. */
    public long lastStored(javax.sql.DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return query(c, "SELECT coalesce(max(id), 0) FROM reclaim.failures", rs -> rs.getLong(1)).get(0);
        }
    }

    /** The stored failure after {@code after}, up to {@code upTo}; null when there is none. */
    public Stored nextStored(javax.sql.DataSource ds, long after, long upTo) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return select(c, " AND id <= ? ORDER BY id LIMIT 1", after, upTo).stream().findFirst().orElse(null);
        }
    }

    /**
     * Records a retry of a stored failure: a success ({@code error} null) deletes its row, a failure counts one more
     * retry and keeps the row for the next run. Returns whether it succeeded.
     */
    public boolean retried(javax.sql.DataSource ds, Stored stored, String error) throws SQLException {
        Failure f = stored.failure();
        try (Connection c = ds.getConnection()) {
            if (error == null) {
                update(c, "DELETE FROM reclaim.failures WHERE id = ?", stored.id());
                about(f, () -> log.info("stored failure retried and done: sweep={} kind={} correlationId={}",
                        f.sweep(), f.kind(), f.correlationId()));
                return true;
            }
            update(c, "UPDATE reclaim.failures SET retry_count = retry_count + 1, error_message = ?"
                    + " WHERE id = ?", truncate(error), stored.id());
            about(f, () -> log.warn("stored failure failed again (retry {}): sweep={} kind={} correlationId={}: {}",
                    f.retryCount() + 1, f.sweep(), f.kind(), f.correlationId(), error));
            return false;
        }
    }

    public long pending(Connection c) throws SQLException {
        return query(c, "SELECT count(*) FROM reclaim.failures WHERE sent_at IS NULL", rs -> rs.getLong(1)).get(0);
    }

    /**
     * A record's retry from the queue settled it (purged, or no longer eligible): its row, kept while its message
     * waited, goes, and records sweeps take the item again should it ever be eligible.
     */
    public void settled(Connection c, String sweep, String itemId) throws SQLException {
        update(c, "DELETE FROM reclaim.failures WHERE kind = 'record' AND sweep = ? AND item_id = ? AND sent_at IS NOT NULL",
                sweep, itemId);
    }

    /** Failures of one sweep and kind waiting in the table: how many, since when, and the most retries one has had. */
    public record Waiting(String sweep, String kind, long count, Instant oldest, int maxRetries, String lastError) {
    }

    /** The failures waiting in {@code reclaim.failures}, per sweep and kind (for {@code reclaim status}); read only. */
    public static List<Waiting> waiting(Connection c) throws SQLException {
        return query(c, """
                SELECT sweep, kind, count(*), min(first_failed_at), max(retry_count),
                       (array_agg(error_class || ': ' || coalesce(error_message, '') ORDER BY id DESC))[1]
                  FROM reclaim.failures WHERE sent_at IS NULL GROUP BY sweep, kind ORDER BY sweep, kind""",
                rs -> new Waiting(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getTimestamp(4).toInstant(),
                        rs.getInt(5), rs.getString(6)));
    }

    /** The stored failures with an id above {@code values[0]}, narrowed and ordered by {@code rest}. */
    private static List<Stored> select(Connection c, String rest, Object... values) throws SQLException {
        return query(c, SELECT + rest, rs -> new Stored(rs.getLong("id"), read(rs)), values);
    }

    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** What {@code row} reads of each row {@code sql} returns, {@code values} bound to its parameters. */
    private static <T> List<T> query(Connection c, String sql, Row<T> row, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, values);
            List<T> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(row.read(rs));
                }
            }
            return rows;
        }
    }

    private static int update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, values);
            return ps.executeUpdate();
        }
    }

    private static void bind(PreparedStatement ps, Object... values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            ps.setObject(i + 1, values[i]);
        }
    }

    /** A failure as the retry queue's message body: its JSON. */
    public static String body(Failure f) {
        try {
            return Reports.JSON.writeValueAsString(f);
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
