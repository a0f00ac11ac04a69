package dev.reclaim.sweep;

import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.failure.Failure;
import dev.reclaim.failure.Failures;
import dev.reclaim.config.SqlTemplate;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.GuardedStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hard-deletes expired soft-deleted records. Pages through the eligible ids by key; each item is claimed and purged
 * in its own transaction, step by step, and the keys its rows owned go to the outbox in that same transaction. After
 * each page the outbox is drained, so files go only after the commit that removed their rows.
 */
public final class RecordSweep implements Sweep {
    private static final Logger log = LoggerFactory.getLogger(RecordSweep.class);
    /** The backlog is counted up to this many items: enough to see a sweep falling behind, cheap to count. */
    static final long BACKLOG_BOUND = 1_000_000;
    /** The backlog count must not hold up the end of the run; without it the metric is simply not published. */
    static final int BACKLOG_TIMEOUT_SECONDS = 10;

    private final SweepConfig.Records config;
    private final String firstPageSql;
    private final String nextPageSql;
    private final String firstPageWithoutFailedSql;
    private final String nextPageWithoutFailedSql;
    private final String backlogSql;

    public RecordSweep(SweepConfig.Records config) {
        this.config = config;
        this.firstPageSql = firstPage(config.eligible());
        this.nextPageSql = nextPage(config.eligible());
        this.firstPageWithoutFailedSql = withoutFailed(firstPageSql);
        this.nextPageWithoutFailedSql = withoutFailed(nextPageSql);
        this.backlogSql = boundedCount(config.eligible());
    }

    /**
     * A shard of a fanned-out run: the eligible ids after {@code after} up to {@code upTo} (as text; null: open), and
     * what hears each page done ({@code lastId} as text, for the shard's durable position).
     */
    public record Range(String after, String upTo, PageDone pageDone) {
    }

    /** Told after each page of a shard, with the last id the page took. */
    public interface PageDone {
        void done(String lastId) throws SQLException;
    }

    public SweepConfig.Records config() {
        return config;
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public void run(SweepContext ctx) throws SQLException {
        run(ctx, null);
    }

    /** The eligible ids of {@code range} only (a shard), with the same claims, steps, outbox, brake and drains. */
    public void run(SweepContext ctx, Range range) throws SQLException {
        Instant cutoff = ctx.now().minus(config.olderThan());
        OffsetDateTime cutoffParam = cutoff.atOffset(ZoneOffset.UTC);
        RunEvents events = ctx.events();
        events.emit(new RunEvent.SweepStarted(config.name(), "records", cutoff));
        try (Connection c = ctx.dataSource().getConnection()) {
            c.setAutoCommit(true);
            // Items waiting in reclaim.failures are the failure pipeline's to retry (no table yet: none waits).
            boolean leaveFailed = Database.schemaExists(c);
            Object after = range == null || range.after() == null ? null : new UntypedId(range.after());
            long purged = 0;
            Brake brake = ctx.brake(config);
            long drainedAt = 0;
            try {
                pages:
                while (true) {
                    if (ctx.deadlinePassed()) {
                        stop(events, "timeBudget");
                        break;
                    }
                    ctx.checkRunLock();
                    List<Object> ids = page(c, after, range == null ? null : range.upTo(), cutoffParam, leaveFailed);
                    List<Object> taken = inPlan(c, ctx, ids);
                    brake.take(purged, taken.size()); // a shard's share of its run's limit, a page at a time
                    events.emit(new RunEvent.PageListed(config.name(), null, ids.size()));
                    events.emit(new RunEvent.ItemsEligible(config.name(), taken.size()));
                    for (Object id : taken) {
                        if (purged >= config.maxDeletesPerRun()) {
                            stop(events, "cap");
                            break pages;
                        }
                        if (ctx.deadlinePassed()) {
                            stop(events, "timeBudget");
                            break pages;
                        }
                        if (brake.holdsVolume(ctx, purged, 1)) {
                            break pages;
                        }
                        if (purge(c, id, cutoffParam, ctx) == null) {
                            purged++;
                        }
                    }
                    if (range != null && !ids.isEmpty()) {
                        range.pageDone().done(String.valueOf(ids.get(ids.size() - 1)));
                    }
                    if (ids.size() < config.pageSize()) {
                        break;
                    }
                    if (purged > drainedAt) { // a failing key is retried once per page at most
                        ctx.drainBeside(c);
                        drainedAt = purged;
                    }
                    after = ids.get(ids.size() - 1);
                }
            } catch (SQLException | RuntimeException | Error e) {
                ctx.awaitDrain(e); // nothing of this sweep goes on running after it
                throw e;
            }
            ctx.awaitDrain(null);
            brake.giveBack(purged);
            drainIfPurged(c, ctx, purged, drainedAt);
            ctx.flushFailures(c);
            if (range == null) { // a shard's run counts its backlog once, when it fans out
                countBacklog(c, cutoffParam, events);
            }
        }
        events.emit(new RunEvent.SweepFinished(config.name()));
    }

    @Override
    public void notStarted(SweepContext ctx) throws SQLException {
        try (Connection c = ctx.dataSource().getConnection()) {
            c.setAutoCommit(true);
            countBacklog(c, ctx.now().minus(config.olderThan()).atOffset(ZoneOffset.UTC), ctx.events());
        }
    }

    /** What is still eligible as the sweep ends (left by a cap, the time budget, failures), up to the bound. */
    private void countBacklog(Connection c, OffsetDateTime cutoff, RunEvents events) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(backlogSql)) {
            int i = bind(ps, config.eligible(), Map.of("cutoff", cutoff));
            ps.setLong(++i, BACKLOG_BOUND);
            ps.setQueryTimeout(BACKLOG_TIMEOUT_SECONDS);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                events.emit(new RunEvent.BacklogCounted(config.name(), rs.getLong(1), BACKLOG_BOUND));
            }
        } catch (SQLException e) {
            if (Database.isConnectionFailure(e)) {
                throw e;
            }
            log.warn("could not count the backlog of sweep {} within {}s: {}", config.name(), BACKLOG_TIMEOUT_SECONDS,
                    e.getMessage());
        }
    }

    private void stop(RunEvents events, String reason) {
        events.emit(new RunEvent.SweepStopped(config.name(), reason, null, null));
    }

    /** Applying a plan: only the eligible ids it holds (one query a page); otherwise all of them. */
    private List<Object> inPlan(Connection c, SweepContext ctx, List<Object> ids) throws SQLException {
        if (ctx.plan() == null || ids.isEmpty()) {
            return ids;
        }
        Set<String> held = Set.copyOf(
                ctx.plan().admit(c, config.name(), null, ids.stream().map(String::valueOf).toList()));
        return ids.stream().filter(id -> held.contains(String.valueOf(id))).toList();
    }

    /** Applying a plan: whether the item's rows now own a key the plan does not hold for this sweep. */
    private static boolean ownsKeysOutsidePlan(Connection c, SweepContext ctx, String sweep,
                                               Map<String, List<String>> keys) throws SQLException {
        for (Map.Entry<String, List<String>> e : keys.entrySet()) {
            List<String> distinct = e.getValue().stream().distinct().toList();
            if (ctx.plan().admit(c, sweep, e.getKey(), distinct).size() != distinct.size()) {
                return true;
            }
        }
        return false;
    }

    /** Drains only after a page that purged something (a failing key is retried once per page); returns the count. */
    private static long drainIfPurged(Connection c, SweepContext ctx, long purged, long purgedAtLastDrain)
            throws SQLException {
        if (purged > purgedAtLastDrain) {
            ctx.drainOutbox(c);
        }
        return purged;
    }

    /**
     * Retries one item through the same claim and steps as a run (its id as text, typed by the database). Returns
     * null when the item is purged or no longer eligible (restored, already gone): both are success; else the error.
     */
    public String retry(SweepContext ctx, String itemId) throws SQLException {
        OffsetDateTime cutoff = ctx.now().minus(config.olderThan()).atOffset(ZoneOffset.UTC);
        String error;
        try (Connection c = ctx.dataSource().getConnection()) {
            c.setAutoCommit(true);
            error = purge(c, new UntypedId(itemId), cutoff, ctx);
            ctx.drainOutbox(c);
        }
        return SKIPPED.equals(error) ? null : error;
    }

    /** An id read back from a message: bound as text of unspecified type, so uuid or bigint columns both accept it. */
    record UntypedId(String value) {
        @Override
        public String toString() {
            return value;
        }
    }

    private List<Object> page(Connection c, Object after, String upTo, OffsetDateTime cutoff, boolean leaveFailed)
            throws SQLException {
        List<Object> ids = new ArrayList<>(config.pageSize());
        String sql = upTo != null ? (leaveFailed ? withoutFailed(upTo(config.eligible(), after != null))
                : upTo(config.eligible(), after != null))
                : after == null ? (leaveFailed ? firstPageWithoutFailedSql : firstPageSql)
                : (leaveFailed ? nextPageWithoutFailedSql : nextPageSql);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = bind(ps, config.eligible(), Map.of("cutoff", cutoff));
            if (after instanceof UntypedId u) {
                ps.setObject(++i, u.value(), java.sql.Types.OTHER);
            } else if (after != null) {
                ps.setObject(++i, after);
            }
            if (upTo != null) {
                ps.setObject(++i, upTo, java.sql.Types.OTHER);
            }
            if (leaveFailed) {
                ps.setString(++i, config.name());
            }
            ps.setInt(++i, config.pageSize());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getObject(1));
                }
            }
        }
        return ids;
    }

    private static final String SKIPPED = "skipped";

    /**
     * One item, one transaction: claim, steps in order, outbox; commit (or, in a dry run, roll back). Returns null
     * when purged, {@link #SKIPPED} when no longer eligible, else the error.
     */
    private String purge(Connection c, Object id, OffsetDateTime cutoff, SweepContext ctx) throws SQLException {
        String item = String.valueOf(id);
        MDC.put("item", item);
        // A retry keeps the correlation id of the failure it retries; a run's item gets the failure pipeline's own.
        boolean correlated = MDC.get("correlationId") == null;
        if (correlated) {
            MDC.put("correlationId", ctx.runId() + "/" + item);
        }
        String step = "claim";
        Failure failure = null;
        String error;
        c.setAutoCommit(false);
        try {
            Map<String, Object> params = new HashMap<>();
            params.put("id", id);
            params.put("cutoff", cutoff);
            if (!claim(c, params)) {
                c.rollback();
                ctx.events().emit(new RunEvent.ItemSkipped(config.name(), item));
                return SKIPPED;
            }
            Map<String, Long> figures = new LinkedHashMap<>();
            Map<String, List<String>> keys = new LinkedHashMap<>();
            for (SweepConfig.Step s : config.steps()) {
                step = s.name();
                runStep(c, s, params, figures, keys);
            }
            step = "outbox";
            checkGuards(ctx, keys);
            if (ctx.plan() != null && ownsKeysOutsidePlan(c, ctx, config.name(), keys)) {
                // A file the reviewer never saw would go with these rows: keep the item whole for a new plan.
                c.rollback();
                ctx.events().emit(new RunEvent.ItemSkipped(config.name(), item, "changedSince"));
                return SKIPPED;
            }
            if (ctx.dryRun()) {
                c.rollback();
            } else {
                ctx.outbox().addAndCommit(c, config.name(), item, ctx.runId(), keys);
            }
            ctx.events().emit(new RunEvent.ItemPurged(config.name(), item, figures, keys));
            return null;
        } catch (SQLException | ItemRefused e) {
            try {
                c.rollback();
            } catch (SQLException r) {
                r.addSuppressed(e);
                throw r;
            }
            if (e instanceof SQLException sql && Database.isConnectionFailure(sql)) {
                throw sql;
            }
            error = e.getMessage();
            ctx.events().emit(new RunEvent.ItemFailed(config.name(), item, step, error, e.getClass().getName(),
                    e instanceof ItemRefused));
            if (!(id instanceof UntypedId)) { // a retry's failure stays with its message, not a new one
                failure = Failure.record(config.name(), item, e, "step " + step + ": " + error,
                        ctx.runId().toString(), ctx.now());
            }
        } finally {
            c.setAutoCommit(true);
            MDC.remove("item");
            if (correlated) {
                MDC.remove("correlationId");
            }
        }
        if (failure != null) {
            ctx.recordFailure(c, failure);
        }
        return error == null ? "failed" : error;
    }

    private boolean claim(Connection c, Map<String, Object> params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(config.claim().jdbcSql())) {
            bind(ps, config.claim(), params);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void runStep(Connection c, SweepConfig.Step s, Map<String, Object> params,
                                Map<String, Long> figures, Map<String, List<String>> keys) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(s.sql().jdbcSql())) {
            bind(ps, s.sql(), params);
            long rows = 0;
            if (ps.execute()) {
                List<Object> kept = s.keep() == null ? null : new ArrayList<>();
                try (ResultSet rs = ps.getResultSet()) {
                    ResultSetMetaData md = rs.getMetaData();
                    int columns = md.getColumnCount();
                    List<String> collected = s.collect() == null ? null : keys.computeIfAbsent(s.collect(), k -> new ArrayList<>());
                    while (rs.next()) {
                        rows++;
                        if (collected != null) {
                            for (int col = 1; col <= columns; col++) {
                                String v = rs.getString(col);
                                if (v != null && !v.isEmpty()) {
                                    collected.add(v);
                                }
                            }
                        }
                        if (kept != null) {
                            kept.add(rs.getObject(1));
                        }
                    }
                    if (kept != null) {
                        params.put(s.keep(), c.createArrayOf(md.getColumnTypeName(1), kept.toArray()));
                    }
                }
            } else {
                rows = Math.max(0, ps.getUpdateCount());
            }
            if (s.count() != null) {
                figures.merge(s.count(), rows, Long::sum);
            }
        }
    }

    /** Keys outside a store's prefixes fail the item before commit: its rows stay, nothing leaks. */
    private static void checkGuards(SweepContext ctx, Map<String, List<String>> keys) throws ItemRefused {
        for (Map.Entry<String, List<String>> e : keys.entrySet()) {
            GuardedStore store = ctx.stores().get(e.getKey());
            for (String k : e.getValue()) {
                if (store == null || !store.guard().allows(k)) {
                    throw new ItemRefused("key '" + k + "' is outside the allowed prefixes of store " + e.getKey()
                            + (store == null ? "" : " " + store.guard().prefixes()) + "; the item was left as it was");
                }
            }
        }
    }

    static int bind(PreparedStatement ps, SqlTemplate sql, Map<String, Object> params) throws SQLException {
        int i = 0;
        for (String name : sql.parameters()) {
            Object v = params.get(name);
            if (v instanceof Array a) {
                ps.setArray(++i, a);
            } else if (v instanceof UntypedId u) {
                ps.setObject(++i, u.value(), java.sql.Types.OTHER);
            } else {
                ps.setObject(++i, v);
            }
        }
        return i;
    }

    /** An item whose purge would break a store's prefix guard. */
    static final class ItemRefused extends Exception {
        ItemRefused(String message) {
            super(message);
        }
    }

    // Keyset paging around the user's eligibility query: the engine adds id > ?, the order and the limit, so memory
    // stays one page and no page is found by OFFSET; PostgreSQL pushes the bound into the subquery.
    public static String firstPage(SqlTemplate eligible) {
        return "SELECT id FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible ORDER BY id LIMIT ?";
    }

    public static String nextPage(SqlTemplate eligible) {
        return "SELECT id FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible WHERE id > ? ORDER BY id LIMIT ?";
    }

    /** A page of a shard: ids up to the shard's last, after the previous page's last when {@code after}. */
    static String upTo(SqlTemplate eligible, boolean after) {
        return "SELECT id FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible WHERE " + (after ? "id > ? AND " : "")
                + "id <= ? ORDER BY id LIMIT ?";
    }

    /** Every {@code n}th eligible id (the last parameter), as text, in order: where a run's shards end. */
    public static String shardEnds(SqlTemplate eligible) {
        return "SELECT id::text FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM (\n"
                + strip(eligible.jdbcSql()) + "\n) AS eligible) AS numbered WHERE n % ? = 0 ORDER BY id";
    }

    /** The eligible backlog of this sweep at {@code cutoff}, counted up to {@code bound}. */
    public long backlog(Connection c, OffsetDateTime cutoff, long bound) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(backlogSql)) {
            int i = bind(ps, config.eligible(), Map.of("cutoff", cutoff));
            ps.setLong(++i, bound);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Where the shards of {@code shardSize} eligible ids at {@code cutoff} end (the last shard is open). */
    public List<String> shardEnds(Connection c, OffsetDateTime cutoff, long shardSize) throws SQLException {
        List<String> ends = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(shardEnds(config.eligible()))) {
            int i = bind(ps, config.eligible(), Map.of("cutoff", cutoff));
            ps.setLong(++i, shardSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ends.add(rs.getString(1));
                }
            }
        }
        return ends;
    }

    /**
     * A page query that leaves out the items of this sweep (the parameter before the limit) waiting in
     * {@code reclaim.failures}, or sent from there to the retry queue and not yet settled: the failure pipeline
     * retries them, and a run should not spend itself on them again.
     */
    static String withoutFailed(String pageSql) {
        String where = pageSql.contains(") AS eligible WHERE ") ? " AND" : " WHERE"; // a next page's, or a shard's
        int tail = pageSql.lastIndexOf(" ORDER BY id LIMIT ?"); // ours, after the user's query
        return pageSql.substring(0, tail) + where + " NOT EXISTS (SELECT 1 FROM reclaim.failures f"
                + " WHERE f.kind = 'record' AND f.sweep = ? AND f.item_id = eligible.id::text"
                + " AND (f.sent_at IS NULL OR f.sent_at > now() - " + Failures.IN_FLIGHT_AT_MOST + "))"
                + pageSql.substring(tail);
    }

    /** How many rows are eligible, counted up to a bound (the last parameter): the count stops there. */
    public static String boundedCount(SqlTemplate eligible) {
        return "SELECT count(*) FROM (SELECT 1 FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible LIMIT ?) AS bounded";
    }

    /** Without its trailing semicolons, which a subquery may not hold. */
    private static String strip(String sql) {
        return sql.strip().replaceFirst("[;\\p{javaWhitespace}]+\\z", "");
    }
}
