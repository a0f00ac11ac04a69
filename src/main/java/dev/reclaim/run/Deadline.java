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
    private final Instant onSystemClock;
    private final Clock clock;
    // Set once, from another thread (a shutdown hook).
    private volatile Instant stopAt;
    private volatile Instant stopAtOnSystemClock;
    private volatile Duration grace;
    private volatile String stopReason;

    private Deadline(Instant at, Instant onSystemClock, Clock clock) {
        this.at = at;
        this.onSystemClock = onSystemClock;
        this.clock = clock;
    }

    /** No time budget (a fresh one each time: a stop requested of one run must not reach another). */
    public static Deadline none() {
        return new Deadline(null, null, Clock.systemUTC());
    }

    public static Deadline after(Duration budget) {
        return after(budget, Clock.systemUTC());
    }

    public static Deadline after(Duration budget, Clock clock) {
        return new Deadline(clock.instant().plus(budget), Instant.now().plus(budget), clock);
    }

    /**
     * Asks the run to stop: from now on {@link #passed()} is true, so no new item is taken; the work in hand (the
     * current item, the outbox drain) gets at most {@code grace} ({@link #grace()}).
     */
    public void stop(String reason, Duration grace) {
        if (stopAt == null) {
            this.grace = grace;
            this.stopReason = reason;
            this.stopAtOnSystemClock = Instant.now();
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

    /**
     * The deadline on the system clock, which store calls and their timeouts are measured against; null when there
     * is none. (With another clock, as in tests, it is the budget counted from creation on the system clock.)
     */
    public Instant at() {
        return onSystemClock;
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
        Instant endOnSystemClock = stopAtOnSystemClock.plus(grace);
        boolean ownFirst = at != null && at.isBefore(end);
        return new Deadline(ownFirst ? at : end, ownFirst ? onSystemClock : endOnSystemClock, clock);
    }
}
