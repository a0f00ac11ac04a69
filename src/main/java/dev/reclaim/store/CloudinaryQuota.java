package dev.reclaim.store;

import dev.reclaim.report.RunEvent;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The Admin API's hourly quota as Cloudinary's answers report it, and the governor that keeps a share of it for the
 * application: no call once the remaining calls are down to the reserve, or after a 420/429, until the reset.
 */
final class CloudinaryQuota {
    private final double reserve;
    private final Clock clock;
    private long limit = -1;
    private long remaining = -1;
    private Instant resetsAt;
    private boolean exhausted;

    /** {@code reserve}: the share of the hourly limit never spent (0.2 keeps a fifth for the application). */
    CloudinaryQuota(double reserve, Clock clock) {
        this.reserve = reserve;
        this.clock = clock;
    }

    /** Before every call: throws {@link StoreThrottled} when the quota left is the application's. */
    synchronized void check() {
        if (resetsAt != null && !clock.instant().isBefore(resetsAt)) {
            exhausted = false; // a new hour: the quota is back
            remaining = limit;
        }
        if (exhausted) {
            throw new StoreThrottled("Cloudinary rate limit reached earlier in this run", resetsAt);
        }
        if (limit > 0 && remaining >= 0 && remaining <= reserveCalls()) {
            throw new StoreThrottled("Cloudinary quota down to the reserve kept for the application (" + remaining
                    + " of " + limit + " calls left, reserve " + reserveCalls() + ")", resetsAt);
        }
    }

    /** What an answer's {@code X-FeatureRateLimit-*} headers said ({@code resetsAt} null: unchanged). */
    synchronized void seen(long limit, long remaining, Instant resetsAt) {
        if (limit > 0) {
            this.limit = limit;
            this.remaining = remaining;
            this.resetsAt = resetsAt == null ? this.resetsAt : resetsAt;
        }
    }

    /** Cloudinary refused a call for its rate limit: nothing more until the reset (the next hour if it did not say). */
    synchronized StoreThrottled spent(String why) {
        exhausted = true;
        remaining = 0;
        if (resetsAt == null || !resetsAt.isAfter(clock.instant())) {
            resetsAt = clock.instant().truncatedTo(ChronoUnit.HOURS).plus(Duration.ofHours(1));
        }
        return new StoreThrottled("Cloudinary rate limit reached (" + why + ")", resetsAt);
    }

    synchronized RunEvent.QuotaSeen asEvent(String store) {
        return remaining < 0 ? null : new RunEvent.QuotaSeen(store, remaining, limit, resetsAt);
    }

    private long reserveCalls() {
        return (long) Math.ceil(limit * reserve);
    }
}
