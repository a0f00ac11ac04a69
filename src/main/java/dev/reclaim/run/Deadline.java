package dev.reclaim.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * When a run must stop taking new items: the Lambda's remaining time less a margin, or the CLI's --max-duration,
 * or sooner when the process is asked to stop ({@link #stop}).
 */
public final class Deadline {
    private final Instant at;
    private final Instant onSystemClock;
    private final Clock clock;
    private volatile Stop stop; // set once, from another thread (a shutdown hook)
    private final List<Consumer<Instant>> onStop = new CopyOnWriteArrayList<>();

    private record Stop(String reason, Duration grace, Instant onSystemClock, Instant at) {
    }

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
        synchronized (onStop) {
            if (stop != null) {
                return;
            }
            stop = new Stop(reason, grace, Instant.now(), clock.instant());
        }
        onStop.forEach(cut -> cut.accept(grace().at()));
    }

    /**
     * Tells {@code cut} the end of the grace period (on the system clock) when a stop is requested, at once when one
     * already was: for what was started before the stop and cannot see it (a store call in flight). Running the
     * returned task stops telling.
     */
    public Runnable whenStopped(Consumer<Instant> cut) {
        boolean stopped;
        synchronized (onStop) {
            onStop.add(cut);
            stopped = stop != null;
        }
        if (stopped) {
            cut.accept(grace().at());
        }
        return () -> onStop.remove(cut);
    }

    public boolean stopRequested() {
        return stop != null;
    }

    /** Why the run was asked to stop, or null. */
    public String stopReason() {
        Stop s = stop;
        return s == null ? null : s.reason();
    }

    public boolean passed() {
        return stop != null || (at != null && !clock.instant().isBefore(at));
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
        Stop s = stop;
        if (s == null) {
            return this;
        }
        Instant end = s.at().plus(s.grace());
        boolean ownFirst = at != null && at.isBefore(end);
        return new Deadline(ownFirst ? at : end, ownFirst ? onSystemClock : s.onSystemClock().plus(s.grace()), clock);
    }
}
