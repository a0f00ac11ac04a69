package dev.reclaim.run;

import dev.reclaim.config.ConfigInForce;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.RunEvent;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.sweep.Brake;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.sweep.Sweep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * A scheduled run's decision to spread a records sweep or an S3 assets sweep over workers, and the spreading: a
 * records sweep's eligible ids split into shards of {@code shardSize}, an assets sweep's prefix into key ranges of
 * {@code shardSize} names one level under it; one row each in {@code reclaim.shards} and one message each on the work
 * queue, and the run's limit (the per-run cap and the brake, counted once across the shards) in
 * {@code reclaim.fanouts}. When the queue refuses shards, this run purges the sweep itself: one worker, as without a
 * work queue.
 */
final class FanOut {
    /** Items a second a sweep is assumed to purge before its history says (conservative: it fans out sooner). */
    static final double DEFAULT_RATE = 50;
    /** The share of the time left a run plans to use: the rest is the drains', the ledger's and the margin's. */
    static final double TIME_SHARE = 0.8;
    /** The backlog is counted up to this bound; past it, a sweep in {@code auto} fans out whatever its rate. */
    static final long BACKLOG_BOUND = 10_000_000;
    /** Shards of an earlier run updated within this many hours keep a sweep from making new ones. */
    static final int OPEN_HOURS = 24;
    private static final Logger log = LoggerFactory.getLogger(FanOut.class);

    private final RetryQueue queue;

    FanOut(RetryQueue queue) {
        this.queue = queue;
    }

    /** What the run does with a records sweep after {@link #spread}. */
    enum Spread {
        /** The workers purge it (or those of an earlier run still do): the run goes on to its next sweep. */
        TO_WORKERS,
        /** The run purges it itself, as without a work queue. */
        HERE,
        /** The queue took some shards, not all: the run purges the sweep itself too, within the run's shared limit. */
        HERE_AND_WORKERS
    }

    /** Spreads {@code sweep} over the workers when its backlog calls for it; on a connection of its own, released. */
    Spread spread(Sweep sweep, Run.Context ctx) throws SQLException {
        if (sweep instanceof RecordSweep records && queue != null
                && records.config().fanOut().mode() != SweepConfig.FanOut.Mode.NEVER) {
            try (Connection c = ctx.dataSource().getConnection()) {
                return spread(records, records.config(), ctx, c);
            }
        }
        if (sweep instanceof AssetSweep assets && queue != null
                && assets.config().fanOut().mode() != SweepConfig.FanOut.Mode.NEVER) {
            try (Connection c = ctx.dataSource().getConnection()) {
                return spread(assets, ctx, c);
            }
        }
        return Spread.HERE;
    }

    /**
     * An S3 assets sweep: {@code always}, or {@code auto} when its last run could not list its prefix to the end in
     * its time (or was itself fanned out); then cut at the names one level under the prefix, and fanned out when that
     * makes more than one shard ({@code always}: any).
     */
    private Spread spread(AssetSweep sweep, Run.Context ctx, Connection c) throws SQLException {
        SweepConfig.Assets config = sweep.config();
        Instant cutoff = ctx.now().minus(config.olderThan());
        if (shardsOpen(c, config.name(), "assets", cutoff, ctx)) {
            return Spread.TO_WORKERS;
        }
        boolean always = config.fanOut().mode() == SweepConfig.FanOut.Mode.ALWAYS;
        String history = always ? "fanOut: always" : listingOutran(c, config.name());
        if (history == null) {
            return Spread.HERE;
        }
        AssetSweep.ShardCut cut;
        try {
            cut = sweep.shardEnds(ctx, config.fanOut().shardSize());
        } catch (RuntimeException e) { // the store could not list its folders: one worker, as before
            log.warn("sweep {} not fanned out: listing the folders under its prefix failed ({})", config.name(),
                    e.toString());
            return Spread.HERE;
        }
        if (cut.ends().isEmpty() && !always) {
            return Spread.HERE; // one shard's worth of folders: no point in a worker
        }
        String why = history + "; " + cut.names() + (cut.whole() ? "" : "+") + " names one level under "
                + config.prefix();
        String fingerprint = sweep.shardFingerprint(ctx.stores().get(config.store()));
        return send(ctx, c, config, "assets", cutoff, cut.ends(), fingerprint, why);
    }

    /** Why an assets sweep in {@code auto} fans out, from its last run: null when that run listed to its end. */
    static String listingOutran(Connection c, String sweep) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT s ->> 'stoppedBy', s -> 'fannedOut' IS NOT NULL AND s -> 'fannedOut' <> 'null'::jsonb
                  FROM reclaim.runs r CROSS JOIN LATERAL jsonb_array_elements(r.report -> 'sweeps') s
                 WHERE r.outcome IN ('completed', 'incomplete', 'held') AND NOT (r.report ->> 'dryRun')::boolean
                   AND s ->> 'name' = ?
                 ORDER BY r.started_at DESC LIMIT 1""")) {
            ps.setString(1, sweep);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                if ("timeBudget".equals(rs.getString(1))) {
                    return "its last run ran out of time before the end of its listing";
                }
                return rs.getBoolean(2) ? "its last run was fanned out" : null;
            }
        }
    }

    /** Whether an earlier run's shards of the sweep are still open: then this run leaves the sweep to them. */
    private static boolean shardsOpen(Connection c, String sweep, String kind, Instant cutoff, Run.Context ctx)
            throws SQLException {
        long open = Shards.open(c, sweep, OPEN_HOURS);
        if (open > 0) {
            ctx.events().emit(new RunEvent.SweepStarted(sweep, kind, cutoff));
            ctx.events().emit(new RunEvent.SweepStopped(sweep, "shardsInProgress", open + " shards of an "
                    + "earlier run are still waiting or running (reclaim status)", null));
            ctx.events().emit(new RunEvent.SweepFinished(sweep));
        }
        return open > 0;
    }

    private Spread spread(RecordSweep sweep, SweepConfig.Records config, Run.Context ctx, Connection c)
            throws SQLException {
        Instant cutoff = ctx.now().minus(config.olderThan());
        OffsetDateTime at = cutoff.atOffset(ZoneOffset.UTC);
        if (shardsOpen(c, config.name(), "records", cutoff, ctx)) {
            return Spread.TO_WORKERS;
        }
        long backlog = sweep.backlog(c, at, BACKLOG_BOUND);
        String why = reason(c, config, backlog, ctx.deadline());
        if (why == null) {
            return Spread.HERE;
        }
        List<String> ends = sweep.shardEnds(c, at, config.fanOut().shardSize());
        ctx.events().emit(new RunEvent.SweepStarted(config.name(), "records", cutoff));
        ctx.events().emit(new RunEvent.ItemsEligible(config.name(), backlog));
        return send(ctx, c, config, null, cutoff, ends, ConfigInForce.hash(config), why);
    }

    /**
     * Writes the shards ending at {@code ends} (the last open) and the run's limit across them, and sends one message
     * a shard; {@code kind} non-null: the sweep's start is told here too.
     */
    private Spread send(Run.Context ctx, Connection c, SweepConfig config, String kind, Instant cutoff,
                        List<String> ends, String fingerprint, String why) throws SQLException {
        Brake brake = ctx.brake(config);
        long limit = Math.min(config.maxDeletesPerRun(), brake.limit());
        boolean capped = config.maxDeletesPerRun() <= brake.limit();
        String rule = capped ? "cap" : brake.rule() == null ? "off" : brake.rule();
        String basis = capped ? "maxDeletesPerRun " + config.maxDeletesPerRun() : brake.basis();
        List<Shards.Shard> shards = Shards.create(c, ctx.runId(), config.name(), fingerprint, ends, limit, rule, basis);
        if (kind != null) {
            ctx.events().emit(new RunEvent.SweepStarted(config.name(), kind, cutoff));
        }
        List<RetryQueue.OutgoingMessage> messages = new ArrayList<>();
        for (Shards.Shard s : shards) {
            messages.add(new RetryQueue.OutgoingMessage(Integer.toString(s.shard()),
                    new ShardWork.Message(s.runId(), s.sweep(), s.shard()).body(), 0, s.sweep()));
        }
        List<RetryQueue.Outcome> outcomes = queue.send(messages);
        List<Shards.Shard> unsent = new ArrayList<>();
        String refusal = null;
        for (int i = 0; i < outcomes.size(); i++) {
            if (!outcomes.get(i).accepted()) {
                unsent.add(shards.get(i));
                refusal = outcomes.get(i).error();
            }
        }
        boolean none = unsent.size() == shards.size();
        if (!unsent.isEmpty()) {
            Shards.unsent(c, unsent, refusal);
        }
        ctx.events().emit(new RunEvent.SweepFannedOut(config.name(), shards.size(), shards.size() - unsent.size(),
                limit, why, unsent.isEmpty() ? null : "the work queue refused " + unsent.size() + " of "
                + shards.size() + " shards (" + refusal + "): this run purges the sweep itself"
                + (none ? "" : ", beside the workers, within the run's limit")));
        log.info("sweep {} fanned out: {} shards ({}), {} sent to the work queue", config.name(), shards.size(), why,
                shards.size() - unsent.size());
        if (unsent.isEmpty()) {
            ctx.events().emit(new RunEvent.SweepFinished(config.name()));
            return Spread.TO_WORKERS;
        }
        return none ? Spread.HERE : Spread.HERE_AND_WORKERS;
    }

    /** Why the sweep fans out, or null when one run can do its backlog. */
    private static String reason(Connection c, SweepConfig.Records config, long backlog, Deadline deadline)
            throws SQLException {
        if (backlog <= config.fanOut().shardSize() && config.fanOut().mode() != SweepConfig.FanOut.Mode.ALWAYS) {
            return null; // one shard's worth: no point in a worker
        }
        if (backlog == 0) {
            return null;
        }
        if (config.fanOut().mode() == SweepConfig.FanOut.Mode.ALWAYS) {
            return "fanOut: always";
        }
        if (deadline.at() == null) {
            return null; // no time budget: this run can take all the time it needs
        }
        double rate = rate(c, config.name());
        long seconds = Math.max(0, Duration.between(Instant.now(), deadline.at()).toSeconds());
        long canDo = (long) (rate * seconds * TIME_SHARE);
        return backlog > canDo ? String.format(java.util.Locale.ROOT, "backlog %d%s, more than this run can purge in"
                + " its %d s at %.0f items/s", backlog, backlog >= BACKLOG_BOUND ? "+" : "", seconds, rate) : null;
    }

    /** Items a second the sweep purged in its last runs that purged any, or {@link #DEFAULT_RATE} without history. */
    static double rate(Connection c, String sweep) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(sum(purged), 0), coalesce(sum(ms), 0) FROM (
                  SELECT (s ->> 'purged')::bigint AS purged, (s ->> 'durationMs')::bigint AS ms
                    FROM reclaim.runs r CROSS JOIN LATERAL jsonb_array_elements(r.report -> 'sweeps') s
                   WHERE r.outcome IN ('completed', 'incomplete', 'held') AND s ->> 'name' = ?
                     AND (s ->> 'purged')::bigint > 0 AND (s ->> 'durationMs')::bigint > 0
                   ORDER BY r.started_at DESC LIMIT 7) recent""")) {
            ps.setString(1, sweep);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long purged = rs.getLong(1);
                long ms = rs.getLong(2);
                return purged > 0 && ms > 0 ? purged * 1000.0 / ms : DEFAULT_RATE;
            }
        }
    }
}
