package dev.reclaim.run;

import dev.reclaim.config.ConfigInForce;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.RunEvent;
import dev.reclaim.sweep.Brake;
import dev.reclaim.sweep.RecordSweep;
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
 * A scheduled run's decision to spread a records sweep over workers, and the spreading: its eligible ids split into
 * shards of {@code shardSize}, one row each in {@code reclaim.shards} and one message each on the work queue, and the
 * run's limit (the per-run cap and the brake, counted once across the shards) in {@code reclaim.fanouts}. When the
 * queue refuses shards, this run purges the sweep itself: one worker, as without a work queue.
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
    Spread spread(RecordSweep sweep, Run.Context ctx) throws SQLException {
        SweepConfig.Records config = sweep.config();
        if (queue == null || config.fanOut().mode() == SweepConfig.FanOut.Mode.NEVER) {
            return Spread.HERE;
        }
        try (Connection c = ctx.dataSource().getConnection()) {
            return spread(sweep, config, ctx, c);
        }
    }

    private Spread spread(RecordSweep sweep, SweepConfig.Records config, Run.Context ctx, Connection c)
            throws SQLException {
        Instant cutoff = ctx.now().minus(config.olderThan());
        OffsetDateTime at = cutoff.atOffset(ZoneOffset.UTC);
        long open = Shards.open(c, config.name(), OPEN_HOURS);
        if (open > 0) {
            ctx.events().emit(new RunEvent.SweepStarted(config.name(), "records", cutoff));
            ctx.events().emit(new RunEvent.SweepStopped(config.name(), "shardsInProgress", open + " shards of an "
                    + "earlier run are still waiting or running (reclaim status)", null));
            ctx.events().emit(new RunEvent.SweepFinished(config.name()));
            return Spread.TO_WORKERS;
        }
        long backlog = sweep.backlog(c, at, BACKLOG_BOUND);
        String why = reason(c, config, backlog, ctx.deadline());
        if (why == null) {
            return Spread.HERE;
        }
        Brake brake = ctx.brake(config);
        long limit = Math.min(config.maxDeletesPerRun(), brake.limit());
        boolean capped = config.maxDeletesPerRun() <= brake.limit();
        String rule = capped ? "cap" : brake.rule() == null ? "off" : brake.rule();
        String basis = capped ? "maxDeletesPerRun " + config.maxDeletesPerRun() : brake.basis();
        List<String> ends = sweep.shardEnds(c, at, config.fanOut().shardSize());
        List<Shards.Shard> shards = Shards.create(c, ctx.runId(), config.name(), ConfigInForce.hash(config), ends,
                limit, rule, basis);
        ctx.events().emit(new RunEvent.SweepStarted(config.name(), "records", cutoff));
        ctx.events().emit(new RunEvent.ItemsEligible(config.name(), backlog));
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
        log.info("sweep {} fanned out: {} shards of up to {} ids ({}), {} sent to the work queue", config.name(),
                shards.size(), config.fanOut().shardSize(), why, shards.size() - unsent.size());
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
