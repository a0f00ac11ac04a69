package dev.reclaim.observe;

import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Durations;
import io.sentry.MonitorConfig;
import io.sentry.MonitorSchedule;

import java.time.Duration;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.Map;

/**
 * The Sentry Crons monitor scheduled runs check in to. Sent with every check-in, so Sentry creates or updates the
 * monitor itself: a run that does not start within {@code margin} of its crontab slot, or runs longer than
 * {@code maxRuntime}, opens an issue.
 */
public record CronMonitor(String slug, String crontab, String timezone, Duration margin, Duration maxRuntime) {
    static final String DEFAULT_SLUG = "reclaim-cleanup";
    static final String DEFAULT_CRONTAB = "0 3 * * *";

    public CronMonitor {
        if (!slug.matches("[a-z0-9][a-z0-9_-]{0,49}")) {
            throw new ConfigException("RECLAIM_SENTRY_MONITOR: '" + slug
                    + "' is not a monitor slug (lower-case letters, digits, '-' and '_', at most 50)");
        }
        if (crontab.trim().split("\\s+").length != 5) {
            throw new ConfigException("RECLAIM_SCHEDULE_CRONTAB: '" + crontab
                    + "' is not a five-field crontab such as '0 3 * * *' (minute hour day month weekday)");
        }
        try {
            ZoneId.of(timezone);
        } catch (DateTimeException e) {
            throw new ConfigException("RECLAIM_SCHEDULE_TIMEZONE: '" + timezone + "' is not a time zone such as UTC or Europe/Paris");
        }
    }

    /**
     * {@code RECLAIM_SENTRY_MONITOR} (default {@value #DEFAULT_SLUG}), {@code RECLAIM_SCHEDULE_CRONTAB} (default
     * {@code RECLAIM_SCHEDULE}, the EventBridge expression the template sets, else {@value #DEFAULT_CRONTAB}: the
     * schedule's time in Unix crontab form), {@code RECLAIM_SCHEDULE_TIMEZONE} (UTC),
     * {@code RECLAIM_SENTRY_CHECKIN_MARGIN} (30m) and {@code RECLAIM_SENTRY_MAX_RUNTIME} (15m, Lambda's limit).
     */
    public static CronMonitor fromEnvironment(Map<String, String> env) {
        return new CronMonitor(value(env, "RECLAIM_SENTRY_MONITOR", DEFAULT_SLUG),
                value(env, "RECLAIM_SCHEDULE_CRONTAB", crontabOf(value(env, "RECLAIM_SCHEDULE", null))).trim(),
                value(env, "RECLAIM_SCHEDULE_TIMEZONE", "UTC"),
                Durations.fromEnvironment(env, "RECLAIM_SENTRY_CHECKIN_MARGIN", Duration.ofMinutes(30), Durations.Accepts.POSITIVE),
                Durations.fromEnvironment(env, "RECLAIM_SENTRY_MAX_RUNTIME", Duration.ofMinutes(15), Durations.Accepts.POSITIVE));
    }

    /**
     * An EventBridge {@code cron(min hour day month weekday year)} as a Unix crontab: {@code ?} becomes {@code *}, the
     * year goes. Weekdays must be names (MON-FRI): EventBridge counts 1 = Sunday, crontab 0 = Sunday, so a number is
     * refused rather than shifted a day. Null: the default.
     */
    static String crontabOf(String expression) {
        if (expression == null) {
            return DEFAULT_CRONTAB;
        }
        String[] f = expression.trim().replaceFirst("^cron\\((.*)\\)$", "$1").trim().split("\\s+");
        if (!expression.trim().startsWith("cron(") || f.length != 6 || f[4].matches(".*\\d.*")
                || f[2].matches(".*[LW].*") || f[4].contains("#") || f[4].equals("L")) {
            throw new ConfigException("RECLAIM_SCHEDULE: '" + expression + "' cannot be turned into the crontab Sentry "
                    + "Crons needs (a cron(...) expression with weekday names, no L, W or #): set "
                    + "RECLAIM_SCHEDULE_CRONTAB, e.g. '0 3 * * *'");
        }
        return String.join(" ", f[0], f[1], f[2].replace('?', '*'), f[3], f[4].replace('?', '*'));
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

    static String value(Map<String, String> env, String name, String dflt) {
        String v = env.get(name);
        return v == null || v.isBlank() ? dflt : v.trim();
    }
}
