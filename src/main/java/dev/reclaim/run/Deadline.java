package dev.reclaim.run;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** When a run must stop taking new items: the Lambda's remaining time less a margin, or the CLI's --max-duration. */
public final class Deadline {
    private static final Deadline NONE = new Deadline(null, Clock.systemUTC());

    private final Instant at;
    private final Clock clock;

    private Deadline(Instant at, Clock clock) {
        this.at = at;
        this.clock = clock;
    }

    public static Deadline none() {
        return NONE;
    }

    public static Deadline after(Duration budget) {
        return after(budget, Clock.systemUTC());
    }

    public static Deadline after(Duration budget, Clock clock) {
        return new Deadline(clock.instant().plus(budget), clock);
    }

    public boolean passed() {
        return at != null && !clock.instant().isBefore(at);
    }

    public Instant at() {
        return at;
    }
}
