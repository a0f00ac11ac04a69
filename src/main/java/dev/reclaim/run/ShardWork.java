package dev.reclaim.run;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reclaim.config.ConfigInForce;
import dev.reclaim.db.Database;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.report.RunEvents;
import dev.reclaim.report.RunTally;
import dev.reclaim.report.SweepReport;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.store.Stores;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.sweep.Brake;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.sweep.Sweep;
import dev.reclaim.sweep.SweepContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One work-queue message: one shard of a fanned-out run, purged with the same engine as a run (claims, steps, outbox,
 * prefix guard, reference checks, journal), its brake a share of the run's limit across every shard. Shared by the
 * worker function and {@code reclaim work}. One worker at a time per shard (an advisory lock besides SQS's
 * visibility); the shard's row keeps its position page by page, so a redelivered shard resumes where it stopped.
 */
public final class ShardWork {
    /** What became of a message: only {@code FAILED_AGAIN} leaves it on the queue for SQS to redeliver. */
    public enum Result { DONE, FAILED_AGAIN, PARKED }

    /** Receives of one message before SQS moves it to the work dead-letter queue (the template's maxReceiveCount). */
    public static final int MAX_RECEIVES = 3;
    private static final Logger log = LoggerFactory.getLogger(ShardWork.class);
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    /** The body of a work message: which shard; its range and state are in {@code reclaim.shards}. */
    public record Message(UUID runId, String sweep, int shard) {
        String body() {
            try {
                return STRICT.writeValueAsString(this);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A context for one shard: the run's id, the worker's deadline, the shard's share of the run's limit. */
    interface Contexts {
        SweepContext shard(UUID runId, Deadline deadline, Brake.Shared budget, RunEvents tally) throws SQLException;
    }

    private final Map<String, Sweep> sweeps;
    private final DataSource dataSource;
    private final RetryQueue queue;
    private final Contexts contexts;
    private final Stores stores;

    ShardWork(Map<String, Sweep> sweeps, DataSource dataSource, RetryQueue queue, Contexts contexts, Stores stores) {
        this.stores = stores;
        this.sweeps = sweeps;
        this.dataSource = dataSource;
        this.queue = queue;
        this.contexts = contexts;
    }

    /** The work queue this worker takes its messages from (null: none configured). */
    public RetryQueue queue() {
        return queue;
    }

    /**
     * Processes one message; {@code stillWorking} is told after each page of the shard (the CLI keeps the message
     * invisible with it while it works; Lambda's queue hides it for longer than the function runs).
     */
    public Result process(String messageId, String body, int receiveCount, Deadline deadline, Runnable stillWorking) {
        MDC.put("messageId", messageId);
        try {
            Message m;
            try {
                m = Objects.requireNonNull(STRICT.readValue(body, Message.class), "the body is null");
                Objects.requireNonNull(m.runId(), "runId");
                Objects.requireNonNull(m.sweep(), "sweep");
            } catch (Exception e) {
                return park(body, null, "not a Reclaim work message: " + e.getMessage());
            }
            MDC.put("sweep", m.sweep());
            MDC.put("correlationId", m.runId() + "/shard-" + m.shard());
            Optional<Shards.Shard> found;
            try (Connection c = dataSource.getConnection()) {
                found = Database.schemaExists(c) ? Shards.find(c, m.runId(), m.sweep(), m.shard()) : Optional.empty();
            }
            if (found.isEmpty()) {
                return park(body, null, "no shard " + m.shard() + " of sweep " + m.sweep() + " in run " + m.runId()
                        + " (reclaim.shards)");
            }
            Shards.Shard shard = found.get();
            Sweep sweep = sweeps.get(shard.sweep());
            String fingerprint = fingerprint(sweep, stores);
            if (fingerprint == null) {
                return park(body, shard, "sweep " + shard.sweep() + " is no longer a configured records sweep or S3"
                        + " assets sweep that fans out");
            }
            if (!fingerprint.equals(shard.fingerprint())) {
                return park(body, shard, "sweep " + shard.sweep() + " was configured otherwise when run " + shard.runId()
                        + " made this shard; the next run makes new shards under today's configuration");
            }
            return purge(shard, sweep, receiveCount, deadline, stillWorking);
        } catch (SQLException | RuntimeException e) {
            log.warn("shard message failed ({}); SQS redelivers it", e.toString());
            return Result.FAILED_AGAIN;
        } finally {
            for (String field : new String[] {"messageId", "sweep", "correlationId"}) {
                MDC.remove(field);
            }
        }
    }

    /**
     * What a shard of {@code sweep} is cut under: a records sweep's configuration; an assets sweep's, with its store's
     * bucket and prefix. Null for a sweep that is not fanned out (absent, or a Cloudinary assets sweep).
     */
    static String fingerprint(Sweep sweep, Stores stores) {
        if (sweep instanceof RecordSweep records) {
            return ConfigInForce.hash(records.config());
        }
        if (sweep instanceof AssetSweep assets && assets.config().fanOut().mode() != SweepConfig.FanOut.Mode.NEVER) {
            return assets.shardFingerprint(stores.get(assets.config().store()));
        }
        return null;
    }

    /** Purges the shard under its lock; out of time, it goes on in a new message from where it stopped. */
    Result purge(Shards.Shard claimed, Sweep sweep, int receiveCount, Deadline deadline, Runnable stillWorking)
            throws SQLException {
        try (Connection lock = dataSource.getConnection()) {
            lock.setAutoCommit(true);
            if (!tryLock(lock, claimed)) {
                // Back on the queue, not deleted: if the worker holding it dies, this copy finishes it.
                log.info("{} is being purged by another worker; this delivery comes back later", claimed.label());
                return Result.FAILED_AGAIN;
            }
            try {
                Shards.Shard shard = Shards.find(lock, claimed.runId(), claimed.sweep(), claimed.shard()).orElseThrow();
                if (!"waiting".equals(shard.status()) && !"running".equals(shard.status())) {
                    log.info("{} is already {}", shard.label(), shard.status());
                    return Result.DONE; // SQS delivers at least once
                }
                Shards.started(lock, shard);
                return purgeLocked(lock, shard, sweep, receiveCount, deadline, stillWorking);
            } finally {
                unlock(lock, claimed);
            }
        }
    }

    private Result purgeLocked(Connection lock, Shards.Shard shard, Sweep sweep, int receiveCount,
                               Deadline deadline, Runnable stillWorking) throws SQLException {
        RunTally tally = new RunTally(false);
        SweepContext ctx = contexts.shard(shard.runId(), deadline, Shards.budget(dataSource, shard.runId(),
                shard.sweep()), tally);
        long[] done = {shard.purged(), shard.failed()};
        log.info("purging {} from {} to {}", shard.label(), Objects.requireNonNullElse(shard.after(), "the start"),
                Objects.requireNonNullElse(shard.upTo(), "the end"));
        RecordSweep.Range range = new RecordSweep.Range(shard.after(), shard.upTo(), last -> {
            Shards.progress(lock, shard, last, done[0] + tally.purged(), done[1] + tally.failed());
            stillWorking.run();
        });
        try {
            if (sweep instanceof RecordSweep records) {
                records.run(ctx, range);
            } else {
                ((AssetSweep) sweep).run(ctx, range);
            }
            SweepReport stopped = tally.sweepReports(false).stream().findFirst().orElse(null);
            if (stopped != null && "referenceCheckFailed".equals(stopped.stoppedBy())) {
                // The sweep stopped deleting (nothing unchecked went); the shard fails like one that threw.
                throw new IllegalStateException(Objects.requireNonNullElse(stopped.error(), "the reference check failed"));
            }
        } catch (SQLException | RuntimeException e) {
            boolean last = receiveCount >= MAX_RECEIVES;
            Shards.ended(lock, shard, last ? "failed" : "waiting", done[0] + tally.purged(), done[1] + tally.failed(),
                    e.toString());
            log.warn("{} failed ({}){}", shard.label(), e.toString(), last ? "; its last receive: SQS parks it"
                    + " in the work dead-letter queue" : "; SQS redelivers it");
            return Result.FAILED_AGAIN;
        }
        long purged = done[0] + tally.purged();
        long failed = done[1] + tally.failed();
        SweepReport report = tally.sweepReports(deadline.stopRequested()).stream().findFirst().orElse(null);
        String stoppedBy = report == null ? null : report.stoppedBy();
        if ("timeBudget".equals(stoppedBy) || "stopRequested".equals(stoppedBy) || "listPages".equals(stoppedBy)) {
            Shards.ended(lock, shard, "waiting", purged, failed, ("listPages".equals(stoppedBy)
                    ? "maxListPagesPerRun listed" : "out of time") + ": goes on in a new message");
            List<RetryQueue.Outcome> sent = queue.send(List.of(new RetryQueue.OutgoingMessage("0",
                    new Message(shard.runId(), shard.sweep(), shard.shard()).body(), 0, shard.sweep())));
            return sent.get(0).accepted() ? Result.DONE : Result.FAILED_AGAIN;
        }
        String status = "brake".equals(stoppedBy) || "cap".equals(stoppedBy) ? "held" : "done";
        Shards.ended(lock, shard, status, purged, failed, "held".equals(status) ? report.brake() == null
                ? "the run's maxDeletesPerRun is reached across its shards" : report.brake() : null);
        log.info("{} {}: {} purged, {} failed", shard.label(), status, purged, failed);
        return Result.DONE;
    }

    private Result park(String body, Shards.Shard shard, String reason) {
        log.warn("work message parked: {}", reason);
        if (shard != null) {
            try (Connection c = dataSource.getConnection()) {
                Shards.ended(c, shard, "parked", shard.purged(), shard.failed(), reason);
            } catch (SQLException e) {
                log.warn("could not mark {} parked: {}", shard.label(), e.getMessage());
            }
        }
        try {
            if (queue != null && queue.deadLetterQueueUrl() != null) {
                queue.sendToDeadLetter(body, reason, shard == null ? Map.of() : Map.of("sweep", shard.sweep()));
            }
            return Result.PARKED;
        } catch (RuntimeException e) {
            log.warn("could not reach the work dead-letter queue ({}); the message stays on the work queue", e.toString());
            return Result.FAILED_AGAIN;
        }
    }

    private static boolean tryLock(Connection c, Shards.Shard s) throws SQLException {
        return advisory(c, "pg_try_advisory_lock", s);
    }

    private static void unlock(Connection c, Shards.Shard s) {
        try {
            advisory(c, "pg_advisory_unlock", s);
        } catch (SQLException e) {
            log.debug("shard lock not released ({}); closing the connection releases it", e.getMessage());
        }
    }

    /** The shard's lock: two keys, apart from the run lock's one bigint key. */
    private static boolean advisory(Connection c, String function, Shards.Shard s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + function
                + "(hashtext('reclaim.shard'), hashtext(? || '/' || ? || '/' || ?))")) {
            ps.setString(1, s.runId().toString());
            ps.setString(2, s.sweep());
            ps.setInt(3, s.shard());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
