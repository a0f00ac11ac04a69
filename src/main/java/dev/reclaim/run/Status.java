package dev.reclaim.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.reclaim.db.Database;
import dev.reclaim.failure.Failures;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.Reports;
import dev.reclaim.sweep.ListingPosition;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code reclaim status} shows: the last runs of the ledger, the outbox per store, the failures waiting and the
 * retry queues' depths. Only read: it never creates nor migrates Reclaim's schema, and a database Reclaim never ran
 * against says so. Ages are by the database's clock ({@code readAt}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Status(Instant readAt, boolean schemaExists, List<LedgerRun> runs,
                     List<Outbox.StoreBacklog> pendingDeletions, List<Failures.Waiting> failures,
                     List<RetryQueue.Depth> queues, List<BrakeHistory.Approval> approvals,
                     Map<String, String> undoable, List<ListingPosition> listings, List<Shards.Progress> fanOuts) {
    /** Most frequent last errors shown per store. */
    static final int ERRORS_SHOWN = 3;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    /** One row of {@code reclaim.runs}; {@code durationMs} is null while it runs (or was never closed). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LedgerRun(String runId, String trigger, Instant startedAt, Instant finishedAt, String outcome,
                            String reason, long purged, long failed, long keysDeleted, Long durationMs) {
    }

    /**
     * Reads the status on one read-only connection, then asks SQS for the queues' depths ({@code queue} null: none
     * configured). An unreachable database is the caller's {@link SQLException} ({@link #whyUnreadable}).
     */
    public static Status read(DataSource ds, RetryQueue queue, int runs) throws SQLException {
        return read(ds, queue, null, runs);
    }

    /** The same, with the work queue's depths too ({@code work} null: none configured). */
    public static Status read(DataSource ds, RetryQueue queue, RetryQueue work, int runs) throws SQLException {
        Status status;
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true); // status never writes, whatever a later change to it does
            Instant now = databaseNow(c);
            status = Database.schemaExists(c)
                    ? new Status(now, true, new RunLedger().recent(c, runs), Outbox.backlog(c, ERRORS_SHOWN),
                    Failures.waiting(c), List.of(), BrakeHistory.pending(c), undoable(c), ListingPosition.all(c),
                    Database.tableExists(c, "reclaim.shards") ? Shards.recent(c, runs) : List.of())
                    : new Status(now, false, List.of(), List.of(), List.of(), List.of(), List.of(), Map.of(), List.of(),
                    List.of());
        }
        List<RetryQueue.Depth> depths = new ArrayList<>();
        if (queue != null) {
            depths.addAll(queue.depths());
        }
        if (work != null) {
            depths.addAll(work.depths("RECLAIM_WORK_QUEUE_URL", "RECLAIM_WORK_DLQ_URL"));
        }
        return new Status(status.readAt, status.schemaExists, status.runs, status.pendingDeletions, status.failures,
                List.copyOf(depths), status.approvals, status.undoable, status.listings, status.fanOuts);
    }

    /** Per store, whether its deletions can be undone, as the last run that asked the stores found. */
    private static Map<String, String> undoable(Connection c) throws SQLException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT u.key, u.value FROM (SELECT report -> 'undoable' AS undoable FROM reclaim.runs
                  WHERE report -> 'undoable' IS NOT NULL ORDER BY started_at DESC LIMIT 1) r, jsonb_each_text(r.undoable) u""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    /** One run of the ledger, by id (for {@code reclaim restore --run}). */
    public static java.util.Optional<LedgerRun> run(DataSource ds, java.util.UUID runId) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("""
                SELECT id, trigger, started_at, finished_at, outcome, reason, purged, failed, keys_deleted
                  FROM reclaim.runs WHERE id = ?""")) {
            ps.setObject(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return java.util.Optional.empty();
                }
                java.sql.Timestamp finished = rs.getTimestamp(4);
                return java.util.Optional.of(new LedgerRun(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                        finished == null ? null : finished.toInstant(), rs.getString(5), rs.getString(6), rs.getLong(7),
                        rs.getLong(8), rs.getLong(9), null));
            }
        }
    }

    /** One line on why the status could not be read. */
    public static String whyUnreadable(SQLException e) {
        boolean unreachable = e instanceof SQLTransientConnectionException || Database.isConnectionFailure(e);
        return (unreachable ? "cannot reach the database: " : "database error: ") + Run.rootMessage(e);
    }

    private static Instant databaseNow(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT now()"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    /** The status as text tables, for a person at a terminal. */
    public String text() {
        StringBuilder sb = new StringBuilder("Reclaim status at " + TIME.format(readAt) + " (database clock)\n");
        if (!schemaExists) {
            sb.append("\nno reclaim schema: Reclaim has never run against this database (nothing to show; status "
                    + "creates nothing)\n");
            queues(sb);
            return sb.toString();
        }
        sb.append('\n').append(runs.isEmpty() ? "No runs in reclaim.runs yet.\n"
                : "Last " + runs.size() + " runs (reclaim.runs), newest first:\n");
        Table t = new Table("STARTED", "OUTCOME", "TRIGGER", "PURGED", "FAILED", "KEYS DELETED", "DURATION", "RUN");
        for (LedgerRun r : runs) {
            t.row(TIME.format(r.startedAt()), r.outcome(), r.trigger(), r.purged(), r.failed(), r.keysDeleted(),
                    r.durationMs() == null ? "-" : age(Duration.ofMillis(r.durationMs())), r.runId());
            t.note(r.reason() == null ? null : "why: " + r.reason());
        }
        t.appendTo(sb);
        sb.append(undoable.isEmpty() ? "" : "\n");
        undoable.forEach((store, how) -> sb.append("Store ").append(store).append(": deletions ")
                .append("yes".equals(how) ? "can be undone (reclaim restore)" : "cannot be undone: " + how).append('\n'));
        runs.stream().filter(r -> "held".equals(r.outcome())).findFirst().ifPresent(r -> sb.append('\n')
                .append("Held by the brake (run ").append(r.runId()).append("): ").append(r.reason()).append('\n'));
        if (!fanOuts.isEmpty()) {
            sb.append('\n').append("Fanned-out runs (reclaim.shards), newest first:\n");
            Table f = new Table("SWEEP", "SHARDS", "DONE", "WAITING", "RUNNING", "HELD", "FAILED", "PARKED", "PURGED",
                    "LIMIT USED", "RUN");
            for (Shards.Progress p : fanOuts) {
                Map<String, Integer> n = p.byStatus();
                f.row(p.sweep(), p.shards(), n.getOrDefault("done", 0), n.getOrDefault("waiting", 0)
                                + n.getOrDefault("unsent", 0), n.getOrDefault("running", 0), n.getOrDefault("held", 0),
                        n.getOrDefault("failed", 0), n.getOrDefault("parked", 0), p.purged(),
                        p.used() + " of " + p.budget(), p.runId());
                f.note(n.containsKey("unsent") ? n.get("unsent") + " shards the work queue refused: the run purged "
                        + "the sweep itself" : null);
            }
            f.appendTo(sb);
        }
        sb.append('\n').append(approvals.isEmpty() ? "No pending approvals (reclaim approve).\n"
                : "Pending approvals (reclaim approve): the next run of each sweep goes past its brake once:\n");
        Table a = new Table("SWEEP", "LIMIT", "APPROVED");
        approvals.forEach(p -> a.row(p.sweep(), p.maxItems() == null ? "none" : p.maxItems(),
                age(Duration.between(p.createdAt(), readAt)) + " ago"));
        a.appendTo(sb);

        sb.append('\n').append(listings.isEmpty() ? "No listing positions kept (reclaim.listing_positions is empty).\n"
                : "Listing positions (reclaim.listing_positions): where each assets sweep's next run resumes:\n");
        Table l = new Table("SWEEP", "RESUMES AFTER", "FULL PASSES", "KEPT");
        for (ListingPosition p : listings) {
            l.row(p.sweep(), p.cursor() == null ? "the start" : p.lastKey() == null ? "(a cursor)" : p.lastKey(),
                    p.passes(), age(Duration.between(p.updatedAt(), readAt)) + " ago");
            l.note(p.cursorRefused() == 0 ? null : "the store refused a kept cursor " + p.cursorRefused()
                    + " time(s): the listing started over");
        }
        l.appendTo(sb);

        sb.append('\n').append(pendingDeletions.isEmpty() ? "No pending deletions (reclaim.pending_deletions is empty).\n"
                : "Pending deletions (reclaim.pending_deletions), per store:\n");
        Table outbox = new Table("STORE", "KEYS", "FAILING", "OLDEST", "NEXT ATTEMPT");
        for (Outbox.StoreBacklog b : pendingDeletions) {
            outbox.row(b.store(), b.keys(), b.failing(), age(Duration.between(b.oldest(), readAt)) + " ago",
                    b.nextAttempt() == null || !b.nextAttempt().isAfter(readAt) ? "due now"
                            : "in " + age(Duration.between(readAt, b.nextAttempt())));
            b.topErrors().forEach(e -> outbox.note(e.keys() + (e.keys() == 1 ? " key: " : " keys: ") + e.error()));
        }
        outbox.appendTo(sb);

        long waiting = failures.stream().mapToLong(Failures.Waiting::count).sum();
        sb.append('\n').append(waiting == 0 ? "No failures waiting (reclaim.failures is empty).\n"
                : waiting + " failures waiting in reclaim.failures (not yet accepted by a retry queue, or no queue):\n");
        t = new Table("SWEEP", "KIND", "COUNT", "OLDEST", "MOST RETRIES");
        for (Failures.Waiting f : failures) {
            t.row(f.sweep(), f.kind(), f.count(), age(Duration.between(f.oldest(), readAt)) + " ago", f.maxRetries());
            t.note("last error: " + f.lastError());
        }
        t.appendTo(sb);
        queues(sb);
        return sb.toString();
    }

    private void queues(StringBuilder sb) {
        sb.append('\n');
        if (queues.isEmpty()) {
            sb.append("No retry queue (RECLAIM_RETRY_QUEUE_URL unset): failures wait in reclaim.failures and each run "
                    + "retries them.\n");
            return;
        }
        sb.append("Queues (approximate number of visible messages):\n");
        Table t = new Table("QUEUE", "MESSAGES", "URL");
        queues.forEach(q -> {
            t.row(q.queue(), q.messages() == null ? "unknown" : q.messages(), q.url());
            t.note(q.error() == null ? null : "SQS did not answer: " + q.error());
        });
        t.appendTo(sb);
    }

    /** 850 ms, 12.3 s, 4m 05s, 3h 12m, 2d 4h. */
    static String age(Duration d) {
        long ms = Math.max(0, d.toMillis());
        if (ms < 1_000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format("%.1f s", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format("%dm %02ds", s / 60, s % 60);
        }
        if (s < 86_400) {
            return String.format("%dh %02dm", s / 3600, s % 3600 / 60);
        }
        return String.format("%dd %dh", s / 86_400, s % 86_400 / 3600);
    }

    /** Columns padded to their widest cell; a row's notes go under it, indented, whatever their line count. */
    private static final class Table {
        private final List<List<String>> rows = new ArrayList<>();
        private final List<List<String>> notes = new ArrayList<>();

        Table(String... headers) {
            row((Object[]) headers);
        }

        void row(Object... cells) {
            rows.add(java.util.Arrays.stream(cells).map(String::valueOf).toList());
            notes.add(new ArrayList<>());
        }

        void note(String text) {
            if (text != null) {
                notes.get(notes.size() - 1).add(text);
            }
        }

        void appendTo(StringBuilder sb) {
            if (rows.size() == 1) {
                return; // headers only
            }
            int[] width = new int[rows.get(0).size()];
            rows.forEach(r -> {
                for (int i = 0; i < r.size(); i++) {
                    width[i] = Math.max(width[i], r.get(i).length());
                }
            });
            for (int r = 0; r < rows.size(); r++) {
                StringBuilder line = new StringBuilder("  ");
                List<String> row = rows.get(r);
                for (int i = 0; i < row.size(); i++) {
                    line.append(i == row.size() - 1 ? row.get(i) : String.format("%-" + width[i] + "s  ", row.get(i)));
                }
                sb.append(line.toString().stripTrailing()).append('\n');
                notes.get(r).forEach(n -> sb.append(Reports.indented(n, "      ", "        ")));
            }
        }
    }
}
