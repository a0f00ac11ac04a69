package dev.reclaim.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * When a run must stop taking new items: the Lambda's remaining time less a margin, or the CLI's --max-duration,
 * or sooner when the process is asked to stop ({@link #stop}).
 */
public final class Deadline {
    private final Instant at;
    private final Clock clock;
    // Set once, from another thread (a shutdown hook).
    private volatile Instant stopAt;
    private volatile Duration grace;
    private volatile String stopReason;

    private Deadline(Instant at, Clock clock) {
        this.at = at;
        this.clock = clock;
    }

    /** No time budget (a fresh one each time: a stop requested of one run must not reach another). */
    public static Deadline none() {
        return new Deadline(null, Clock.systemUTC());
    }

    public static Deadline after(Duration budget) {
        return after(budget, Clock.systemUTC());
    }

    public static Deadline after(Duration budget, Clock clock) {
        return new Deadline(clock.instant().plus(budget), clock);
    }

    /**
     * Asks the run to stop: from now on {@link #passed()} is true, so no new item is taken; the work in hand (the
     * current item, the outbox drain) gets at most {@code grace} ({@link #grace()}).
     */
    public void stop(String reason, Duration grace) {
        if (stopAt == null) {
            this.grace = grace;
            this.stopReason = reason;
            this.stopAt = clock.instant();
        }
    }

    public boolean stopRequested() {
        return stopAt != null;
    }

    /** Why the run was asked to stop, or null. */
    public String stopReason() {
        return stopReason;
    }

    public boolean passed() {
        return stopAt != null || (at != null && !clock.instant().isBefore(at));
    }

    public Instant at() {
        return at;
    }

    /**
     * The deadline for work already in hand: this one, or once a stop was requested, the end of its grace period
     * (never later than this deadline).
     */
    public Deadline grace() {
        Instant stoppedAt = stopAt;
        if (stoppedAt == null) {
            return this;
        }
        Instant end = stoppedAt.plus(grace);
        return new Deadline(at != null && at.isBefore(end) ? at : end, clock);
    }
}
