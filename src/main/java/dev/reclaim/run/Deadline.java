package dev.reclaim.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** When a run must stop taking new items: the Lambda's remaining time less a margin, or the CLI's --max-duration. */
public final class Deadline {
    private static final Deadline NONE = new Deadline(null, null, Clock.systemUTC());

    private final Instant at;
    private final Instant onSystemClock;
    private final Clock clock;

    private Deadline(Instant at, Instant onSystemClock, Clock clock) {
        this.at = at;
        this.onSystemClock = onSystemClock;
        this.clock = clock;
    }

    public static Deadline none() {
        return NONE;
    }

    public static Deadline after(Duration budget) {
        return after(budget, Clock.systemUTC());
    }

    public static Deadline after(Duration budget, Clock clock) {
        return new Deadline(clock.instant().plus(budget), Instant.now().plus(budget), clock);
    }

    public boolean passed() {
        return at != null && !clock.instant().isBefore(at);
    }

    /**
     * The deadline on the system clock, which store calls and their timeouts are measured against; null when there
     * is none. (With another clock, as in tests, it is the budget counted from creation on the system clock.)
     */
    public Instant at() {
        return onSystemClock;
    }
}
