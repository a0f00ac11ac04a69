package dev.reclaim.config;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

import java.net.URI;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Every environment variable Reclaim reads, bound once ({@link #from}) into one typed object and validated whole: every
 * error at once, one per line in the order of {@link #VARIABLES} (docs/VARIABLES.md's table), as one
 * {@link ConfigException} ({@link DryRunUnreadable} when only {@code RECLAIM_DRY_RUN} is wrong). No other
 * class reads a variable by name; each gets the part it needs. The secrets named by ARN are read by {@link Secrets}
 * into {@link #withSecrets}. {@link #substitutions()} is the environment itself, for the configuration file's
 * {@code ${VAR}} and the run's log of the configuration in force.
 */
public record Settings(Path config, Database database, Aws aws, Map<String, String> secretIds, boolean dryRun,
                       Queues queues, Duration outboxBackoff, Duration outboxRetryPeriod, Duration journalRetention,
                       Duration timeMargin, Metrics metrics, Sentry sentry, String cloudinaryUrl,
                       Map<String, String> substitutions) {
    public static final String CONFIG = "RECLAIM_CONFIG";
    private static final String SECRET_ARN = "_SECRET_ARN";
    /** docs/VARIABLES.md's row for the secret of any variable the configuration file names. */
    private static final String ANY_SECRET_ARN = "<NAME>_SECRET_ARN";
    /** Every variable, in docs/VARIABLES.md's order (RECLAIM_LOG_* are read by logback.xml). */
    public static final List<String> VARIABLES = List.of(CONFIG, "RECLAIM_DB_URL", "RECLAIM_DB_USER",
            "RECLAIM_DB_PASSWORD", "RECLAIM_DB_POOL_SIZE", "RECLAIM_DB_CONNECT_TIMEOUT", "RECLAIM_DB_PASSWORD_SECRET_ARN",
            "CLOUDINARY_URL", "CLOUDINARY_URL_SECRET_ARN", ANY_SECRET_ARN, "RECLAIM_DRY_RUN", "RECLAIM_RETRY_QUEUE_URL",
            "RECLAIM_DLQ_URL", "RECLAIM_WORK_QUEUE_URL", "RECLAIM_WORK_DLQ_URL", "RECLAIM_OUTBOX_BACKOFF",
            "RECLAIM_OUTBOX_RETRY_PERIOD", "RECLAIM_JOURNAL_RETENTION", "RECLAIM_TIME_MARGIN",
            "RECLAIM_LOG_FORMAT", "RECLAIM_LOG_LEVEL", "RECLAIM_METRICS", "RECLAIM_METRICS_NAMESPACE",
            "RECLAIM_METRICS_IN_DRY_RUN", "RECLAIM_METRICS_TIMEOUT", "SENTRY_DSN", "SENTRY_DSN_SECRET_ARN",
            "SENTRY_ENVIRONMENT", "RECLAIM_SENTRY_FLUSH_TIMEOUT", "RECLAIM_SENTRY_MONITOR", "RECLAIM_SCHEDULE",
            "RECLAIM_SCHEDULE_CRONTAB", "RECLAIM_SCHEDULE_TIMEZONE", "RECLAIM_SENTRY_CHECKIN_MARGIN",
            "RECLAIM_SENTRY_MAX_RUNTIME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
    /**
     * Each variable a secret fills whatever the configuration, and the variable that names its secret (its name, then
     * _SECRET_ARN); a variable the configuration file names may have one too ({@link #forConfiguration}).
     */
    public static final Map<String, String> SECRET_OF = java.util.Collections.unmodifiableMap(VARIABLES.stream()
            .filter(v -> v.endsWith(SECRET_ARN) && !v.equals(ANY_SECRET_ARN))
            .collect(Collectors.toMap(v -> v.replace(SECRET_ARN, ""), v -> v, (a, b) -> a, LinkedHashMap::new)));
    /** Variables whose whole value is a secret, and those holding a URL whose user-info or parameters carry one. */
    public static final List<String> SECRET_VARIABLES = List.of("RECLAIM_DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN");
    public static final List<String> SECRET_URLS = List.of("RECLAIM_DB_URL", "CLOUDINARY_URL", "SENTRY_DSN");
    /** The variables (by prefix) the configuration in force shows: Reclaim's own, AWS's endpoints, Sentry's. */
    public static final List<String> SHOWN = List.of("RECLAIM_", "AWS_REGION", "AWS_ENDPOINT_URL", "CLOUDINARY_URL",
            "SENTRY_DSN", "SENTRY_ENVIRONMENT");
    private static final Pattern REGIONAL_HOST = Pattern.compile("^sqs[.-]([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$");

    /** {@code RECLAIM_DB_*}: the pool's URL, user, password, size (default 4, at least 3) and connection timeout (at least 250ms). */
    public record Database(String url, String user, String password, int poolSize, Duration connectTimeout) {
    }

    /** The region, S3's endpoint, Secrets Manager's (when a secret is named) and the keys, as the AWS clients take them. */
    public record Aws(String region, String s3Endpoint, URI secretsManagerEndpoint, String accessKeyId,
                      String secretAccessKey, String sessionToken) {
        /** Explicit keys when present without a session token (local runs), else the SDK's default chain (Lambda's role). */
        public AwsCredentialsProvider credentials() {
            return accessKeyId != null && secretAccessKey != null && sessionToken == null
                    ? StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey))
                    : DefaultCredentialsProvider.builder().build();
        }
    }

    /**
     * The retry queue (url null: none), the queues' region and SQS endpoint, the retry queue's dead-letter queue, and
     * the work queue a fanned-out run's shards go to (null: every sweep runs on one worker) with its dead-letter queue.
     */
    public record Queues(String url, String region, URI endpoint, String deadLetterUrl, String workUrl,
                         String workDeadLetterUrl) {
    }

    /** CloudWatch metrics; region and endpoint are read only when enabled. */
    public record Metrics(boolean enabled, boolean inDryRun, String namespace, String region, URI endpoint,
                          Duration timeout) {
    }

    /** Sentry (dsn null: off); the monitor is bound only with a DSN. {@code redaction}: of the whole environment. */
    public record Sentry(String dsn, String environment, Duration flushTimeout, Monitor monitor, Redaction redaction) {
        /** The Sentry variables alone (a failed start reports through them even when others are wrong). */
        public static Sentry from(Map<String, String> env) {
            return Binder.alone(env, Binder::sentry);
        }
    }

    /** The Sentry Crons monitor: slug, five-field crontab, time zone, check-in margin and longest runtime. */
    public record Monitor(String slug, String crontab, String timezone, Duration margin, Duration maxRuntime) {
        public static Monitor from(Map<String, String> env) {
            return Binder.alone(env, Binder::monitor);
        }
    }

    /** {@code value} as a URI (null when null); {@code variable} names it when it is not one. */
    public static URI url(String variable, String value) {
        try {
            return value == null ? null : URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(variable + ": '" + value + "' is not a URL");
        }
    }

    public static String firstSet(String... values) {
        return java.util.stream.Stream.of(values).filter(v -> v != null && !v.isBlank()).findFirst().orElse(null);
    }

    /** Only {@code RECLAIM_DRY_RUN} is wrong: a usage error, as it always was (RunRequest.settings throws it as one). */
    public static final class DryRunUnreadable extends ConfigException {
        DryRunUnreadable(String message) {
            super(message);
        }
    }

    /** The process's environment: the one place Reclaim calls {@link System#getenv()}. */
    public static Map<String, String> processEnvironment() {
        return System.getenv();
    }

    /** {@code env} bound and validated: every error at once. */
    public static Settings from(Map<String, String> env) {
        return bind(env, true, null);
    }

    /** These settings with the values {@link Secrets} read (variable to value) filled in, validated again. */
    public Settings withSecrets(Map<String, String> values) {
        Map<String, String> env = new HashMap<>(substitutions);
        env.putAll(values);
        return bind(java.util.Collections.unmodifiableMap(env), false, null);
    }

    /**
     * These settings, naming also the secret of each of {@code variables} (those the configuration file names) whose
     * {@code <NAME>_SECRET_ARN} is set: a store's keys in Lambda, say. The secrets of other names are never read.
     */
    public Settings forConfiguration(java.util.Collection<String> variables) {
        return bind(substitutions, true, variables);
    }

    /** {@code named}: the variables the configuration file names; null before it is known. */
    private static Settings bind(Map<String, String> env, boolean secretsUnread, java.util.Collection<String> named) {
        Binder b = new Binder(env);
        Map<String, String> secretIds = new LinkedHashMap<>();
        Map<String, String> secretOf = new LinkedHashMap<>(SECRET_OF);
        if (named != null) {
            named.forEach(v -> secretOf.putIfAbsent(v, v + SECRET_ARN));
            // Reclaim's own names only: a secret set up for a store but never used must not pass unseen.
            env.keySet().stream().filter(n -> n.startsWith("RECLAIM_") && n.endsWith(SECRET_ARN)).sorted()
                    .filter(n -> !secretOf.containsValue(n) && firstSet(env.get(n)) != null).forEach(n -> {
                        String variable = n.substring(0, n.length() - SECRET_ARN.length());
                        b.error(n, n + " names the secret of " + variable + ", which the configuration file does not use"
                                + " (name it there as ${" + variable + "}, or unset " + n + ")");
                    });
        }
        secretOf.forEach((variable, arnVariable) -> {
            String secretId = firstSet(env.get(arnVariable));
            if (secretsUnread && secretId != null && firstSet(env.get(variable)) != null) {
                // Two sources for one secret: whichever won, the other would be silently ignored.
                b.error(arnVariable, "set " + variable + " or " + arnVariable + ", not both");
            } else if (secretsUnread && secretId != null) {
                secretIds.put(variable, secretId.trim());
            }
        });
        String region = firstSet(b.get("AWS_REGION"), b.get("AWS_DEFAULT_REGION"));
        Aws aws = new Aws(region, b.endpoint("S3"), secretIds.isEmpty() ? null
                : b.url("AWS_ENDPOINT_URL_SECRETS_MANAGER", b.endpoint("SECRETS_MANAGER")), b.get("AWS_ACCESS_KEY_ID"),
                b.get("AWS_SECRET_ACCESS_KEY"), b.get("AWS_SESSION_TOKEN"));
        Settings s = new Settings(Path.of(env.getOrDefault(CONFIG, ConfigLoader.DEFAULT_PATH)), b.database(), aws,
                java.util.Collections.unmodifiableMap(secretIds), b.flag("RECLAIM_DRY_RUN", false), b.queues(region),
                b.duration("RECLAIM_OUTBOX_BACKOFF", Duration.ofMinutes(15), Durations.Accepts.ZERO_OR_MORE),
                b.duration("RECLAIM_OUTBOX_RETRY_PERIOD", Duration.ofHours(24), Durations.Accepts.ZERO_OR_MORE),
                b.duration("RECLAIM_JOURNAL_RETENTION", Duration.ofDays(30), Durations.Accepts.POSITIVE),
                b.duration("RECLAIM_TIME_MARGIN", Duration.ofSeconds(60), Durations.Accepts.POSITIVE),
                b.metrics(region), b.sentry(), b.get("CLOUDINARY_URL"), env);
        b.check();
        return s;
    }

    /** Reads declared variables only, and gathers every error with the variable it belongs to. */
    private static final class Binder {
        private final Map<String, String> env;
        private final Map<String, List<String>> errors = new HashMap<>();
        private boolean usageOnly = true;

        Binder(Map<String, String> env) {
            this.env = env;
        }

        static <T> T alone(Map<String, String> env, java.util.function.Function<Binder, T> part) {
            Binder b = new Binder(env);
            T bound = part.apply(b);
            b.check();
            return bound;
        }

        String get(String name) {
            if (!VARIABLES.contains(name)) {
                throw new IllegalStateException(name + " is not in Settings.VARIABLES");
            }
            return env.get(name);
        }

        /** {@code name} trimmed; {@code dflt} when unset or blank. */
        String value(String name, String dflt) {
            String v = get(name);
            return v == null || v.isBlank() ? dflt : v.trim();
        }

        void error(String name, String message) {
            usageOnly &= name.equals("RECLAIM_DRY_RUN");
            errors.computeIfAbsent(name, n -> new ArrayList<>()).add(message);
        }

        <T> T checked(String name, Supplier<T> read) {
            try {
                return read.get();
            } catch (ConfigException e) {
                error(name, e.getMessage());
                return null;
            } catch (IllegalArgumentException e) {
                error(name, name + ": " + e.getMessage());
                return null;
            }
        }

        void check() {
            if (errors.isEmpty()) {
                return;
            }
            String message = errors.entrySet().stream().sorted(Comparator.comparingInt(e -> VARIABLES.indexOf(e.getKey())))
                    .flatMap(e -> e.getValue().stream()).collect(Collectors.joining("\n"));
            throw usageOnly ? new DryRunUnreadable(message) : new ConfigException(message);
        }

        /** {@code dflt} when unset or blank; an error naming the variable and what it accepts else. */
        Duration duration(String name, Duration dflt, Durations.Accepts accepts) {
            String v = get(name);
            return v == null || v.isBlank() ? dflt : checked(name, () -> Durations.parse(v.trim(), accepts));
        }

        boolean flag(String name, boolean dflt) {
            return Objects.requireNonNullElse(checked(name, () -> Booleans.parse(get(name), dflt)), dflt);
        }

        URI url(String name, String value) {
            return checked(name, () -> Settings.url(name, value));
        }

        /** {@code AWS_ENDPOINT_URL_<SERVICE>}, else {@code AWS_ENDPOINT_URL}, else null (the service's real endpoint). */
        String endpoint(String service) {
            return firstSet(get("AWS_ENDPOINT_URL_" + service), get("AWS_ENDPOINT_URL"));
        }

        Database database() {
            String url = get("RECLAIM_DB_URL");
            if (url == null || url.isBlank()) {
                error("RECLAIM_DB_URL", "RECLAIM_DB_URL is not set (e.g. jdbc:postgresql://host:5432/app)");
            } else if (!url.startsWith("jdbc:postgresql:")) {
                error("RECLAIM_DB_URL", "RECLAIM_DB_URL must be a PostgreSQL JDBC URL (jdbc:postgresql://...), got '"
                        + Redaction.redact(url) + "'");
            }
            Integer size = null;
            try {
                size = Integer.parseInt(Objects.requireNonNullElse(get("RECLAIM_DB_POOL_SIZE"), "4"));
            } catch (NumberFormatException e) {
                error("RECLAIM_DB_POOL_SIZE", "RECLAIM_DB_POOL_SIZE must be a whole number");
            }
            Duration timeout = duration("RECLAIM_DB_CONNECT_TIMEOUT", Duration.ofSeconds(10), Durations.Accepts.POSITIVE);
            return new Database(url, get("RECLAIM_DB_USER"), get("RECLAIM_DB_PASSWORD"), size == null ? 4 : Math.max(3, size),
                    timeout == null || timeout.toMillis() >= 250 ? timeout : Duration.ofMillis(250));
        }

        Queues queues(String awsRegion) {
            String url = firstSet(get("RECLAIM_RETRY_QUEUE_URL"));
            String work = firstSet(get("RECLAIM_WORK_QUEUE_URL"));
            URI uri = url("RECLAIM_RETRY_QUEUE_URL", url);
            URI workUri = url("RECLAIM_WORK_QUEUE_URL", work);
            if (uri == null && workUri == null) {
                return new Queues(null, null, null, get("RECLAIM_DLQ_URL"), null, get("RECLAIM_WORK_DLQ_URL"));
            }
            String variable = uri != null ? "RECLAIM_RETRY_QUEUE_URL" : "RECLAIM_WORK_QUEUE_URL";
            Matcher m = REGIONAL_HOST.matcher(Objects.requireNonNullElse((uri != null ? uri : workUri).getHost(), ""));
            String region = firstSet(awsRegion, m.matches() ? m.group(1) : null);
            if (region == null) {
                error(variable, variable + ": no AWS region: set AWS_REGION (Lambda sets it)");
            }
            return new Queues(url, region, url("AWS_ENDPOINT_URL_SQS", endpoint("SQS")), get("RECLAIM_DLQ_URL"), work,
                    firstSet(get("RECLAIM_WORK_DLQ_URL")));
        }

        Metrics metrics(String region) {
            boolean enabled = flag("RECLAIM_METRICS", true);
            boolean inDryRun = flag("RECLAIM_METRICS_IN_DRY_RUN", false);
            String namespace = value("RECLAIM_METRICS_NAMESPACE", "Reclaim");
            if (!namespace.matches("[A-Za-z0-9.\\-_/#: ]{1,255}") || namespace.startsWith("AWS/")) {
                error("RECLAIM_METRICS_NAMESPACE", "RECLAIM_METRICS_NAMESPACE: '" + namespace + "' is not a CloudWatch "
                        + "namespace (1 to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/)");
            }
            if (!enabled || region == null) {
                return new Metrics(enabled, inDryRun, namespace, region, null, null);
            }
            return new Metrics(true, inDryRun, namespace, region, url("AWS_ENDPOINT_URL_CLOUDWATCH", endpoint("CLOUDWATCH")),
                    duration("RECLAIM_METRICS_TIMEOUT", Duration.ofSeconds(10), Durations.Accepts.POSITIVE));
        }

        Sentry sentry() {
            String dsn = get("SENTRY_DSN");
            if (dsn == null || dsn.isBlank()) {
                return new Sentry(null, null, null, null, null);
            }
            Monitor monitor = monitor();
            Duration flush = duration("RECLAIM_SENTRY_FLUSH_TIMEOUT", Duration.ofSeconds(2), Durations.Accepts.POSITIVE);
            return new Sentry(dsn.trim(), value("SENTRY_ENVIRONMENT", null), flush, monitor, Redaction.of(env));
        }

        Monitor monitor() {
            String slug = value("RECLAIM_SENTRY_MONITOR", "reclaim-cleanup");
            String fromSchedule = checked("RECLAIM_SCHEDULE", () -> crontabOf(value("RECLAIM_SCHEDULE", null)));
            String crontab = value("RECLAIM_SCHEDULE_CRONTAB", fromSchedule);
            String timezone = value("RECLAIM_SCHEDULE_TIMEZONE", "UTC");
            Duration margin = duration("RECLAIM_SENTRY_CHECKIN_MARGIN", Duration.ofMinutes(30), Durations.Accepts.POSITIVE);
            Duration maxRuntime = duration("RECLAIM_SENTRY_MAX_RUNTIME", Duration.ofMinutes(15), Durations.Accepts.POSITIVE);
            if (!slug.matches("[a-z0-9][a-z0-9_-]{0,49}")) {
                error("RECLAIM_SENTRY_MONITOR", "RECLAIM_SENTRY_MONITOR: '" + slug
                        + "' is not a monitor slug (lower-case letters, digits, '-' and '_', at most 50)");
            }
            if (crontab != null && crontab.trim().split("\\s+").length != 5) {
                error("RECLAIM_SCHEDULE_CRONTAB", "RECLAIM_SCHEDULE_CRONTAB: '" + crontab
                        + "' is not a five-field crontab such as '0 3 * * *' (minute hour day month weekday)");
            }
            try {
                ZoneId.of(timezone);
            } catch (DateTimeException e) {
                error("RECLAIM_SCHEDULE_TIMEZONE", "RECLAIM_SCHEDULE_TIMEZONE: '" + timezone
                        + "' is not a time zone such as UTC or Europe/Paris");
            }
            return new Monitor(slug, crontab == null ? null : crontab.trim(), timezone, margin, maxRuntime);
        }
    }

    /**
     * An EventBridge {@code cron(min hour day month weekday year)} as a Unix crontab ({@code ?} becomes {@code *}, the
     * year goes; weekdays must be names: EventBridge's 1 is Sunday, crontab's 0). Null: the default, {@code 0 3 * * *}.
     */
    static String crontabOf(String expression) {
        if (expression == null) {
            return "0 3 * * *";
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
}
