package dev.reclaim.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/** The time a store call may take: what is left before the run's deadline. */
final class TimeLeft {
    private TimeLeft() {
    }

    /**
     * The time left before {@code deadline} (null when there is no deadline); throws {@link StoreDeadlinePassed} when
     * none is left, so the call is not made.
     */
    static Duration before(Instant deadline, Clock clock, String call) {
        if (deadline == null) {
            return null;
        }
        Duration left = Duration.between(clock.instant(), deadline);
        if (left.compareTo(Duration.ofMillis(1)) < 0) {
            throw new StoreDeadlinePassed(call + " not made: the run's deadline (" + deadline + ") has passed");
        }
        return left;
    }
}
