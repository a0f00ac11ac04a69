package dev.reclaim.observe;

import dev.reclaim.config.Settings;
import io.sentry.MonitorConfig;
import io.sentry.MonitorSchedule;

import java.time.Duration;

/**
 * The Sentry Crons monitor scheduled runs check in to. Sent with every check-in, so Sentry creates or updates the
 * monitor itself: a run that does not start within {@code margin} of its crontab slot, or runs longer than
 * {@code maxRuntime}, opens an issue.
 */
public record CronMonitor(String slug, String crontab, String timezone, Duration margin, Duration maxRuntime) {
    /** The monitor {@code settings} names (validated there). */
    public static CronMonitor of(Settings.Monitor settings) {
        return new CronMonitor(settings.slug(), settings.crontab(), settings.timezone(), settings.margin(),
                settings.maxRuntime());
    }

    /** Whether a run started so checks in: only scheduled ones, else a manual run would hide a missed one. */
    public static boolean checksIn(String trigger) {
        return trigger != null && trigger.startsWith("schedule");
    }

    /** What Sentry upserts; it counts margin and runtime in whole minutes (rounded up, at least 1). */
    MonitorConfig config() {
        MonitorConfig config = new MonitorConfig(MonitorSchedule.crontab(crontab));
        config.setTimezone(timezone);
        config.setCheckinMargin(minutes(margin));
        config.setMaxRuntime(minutes(maxRuntime));
        return config;
    }

    private static long minutes(Duration d) {
        return Math.max(1, (d.toSeconds() + 59) / 60);
    }
}
