package dev.reclaim.cli;

import dev.reclaim.observe.Release;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each command's {@code --help} says beyond its options, for the operator woken at 3 AM: the environment variables
 * it reads, its exit codes and an example. Kept here, in one place per command ({@link #PAGES}), so a new command
 * adds its page and reuses the groups and exit codes below; {@code CommandHelpTest} checks every page against the help
 * picocli prints and every variable the code names against the pages.
 */
final class CommandHelp {
    /** Variables that belong together, in the order the help lists them. */
    record Group(String name, Map<String, String> variables) {
    }

    /** A command's help page: the groups of variables it reads, its exit codes and one example command line. */
    record Page(List<Group> variables, Map<String, String> exitCodes, String example) {
    }

    static final Group DATABASE = group("Database",
            "RECLAIM_DB_URL", "JDBC URL of the application's PostgreSQL (jdbc:postgresql://host:5432/app)",
            "RECLAIM_DB_USER", "database user",
            "RECLAIM_DB_PASSWORD", "database password (or RECLAIM_DB_PASSWORD_SECRET_ARN)",
            "RECLAIM_DB_POOL_SIZE", "connections in the pool (default 4, at least 3; 3 drains the outbox between pages)",
            "RECLAIM_DB_CONNECT_TIMEOUT", "how long to wait for a connection (default 10s)");
    static final Group SECRETS = group("Secrets (read from AWS Secrets Manager at start-up, by ARN or name)",
            "RECLAIM_DB_PASSWORD_SECRET_ARN", "fills RECLAIM_DB_PASSWORD (the password, or RDS's JSON secret)",
            "CLOUDINARY_URL_SECRET_ARN", "fills CLOUDINARY_URL",
            "SENTRY_DSN_SECRET_ARN", "fills SENTRY_DSN");
    static final Group AWS = group("AWS",
            "AWS_REGION", "region (else AWS_DEFAULT_REGION, or the queue URL's)",
            "AWS_DEFAULT_REGION", "region when AWS_REGION is unset",
            "AWS_ACCESS_KEY_ID", "keys (else the SDK's default chain), with AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY", "and AWS_SESSION_TOKEN for temporary keys",
            "AWS_SESSION_TOKEN", "session token of temporary keys",
            "AWS_ENDPOINT_URL", "one endpoint for every AWS service (a local stand-in)",
            "AWS_ENDPOINT_URL_S3", "endpoints per service: S3",
            "AWS_ENDPOINT_URL_SQS", "SQS",
            "AWS_ENDPOINT_URL_CLOUDWATCH", "CloudWatch",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER", "Secrets Manager");
    static final Group CONFIGURATION = group("Configuration",
            "RECLAIM_JOURNAL_RETENTION", "how long the deletion journal keeps a deleted key for reclaim restore (default 30d)",
            "RECLAIM_CONFIG", "configuration file (default config/reclaim.yaml); the variables it names as ${NAME} too",
            "<NAME>_SECRET_ARN", "fills a variable the file names (an S3 store's keys) from Secrets Manager, at start-up",
            "CLOUDINARY_URL", "cloudinary://KEY:SECRET@CLOUD of the Cloudinary stores",
            "RECLAIM_DRY_RUN", "true: write and delete nothing, whatever the flags say",
            "RECLAIM_OUTBOX_BACKOFF", "first delay before a failed file delete is tried again (default 15m)",
            "RECLAIM_OUTBOX_RETRY_PERIOD", "how long a file delete may keep failing before it goes to the retry queue (24h)");
    static final Group QUEUES = group("Queues (SQS)",
            "RECLAIM_RETRY_QUEUE_URL", "queue of failed items (unset: they wait in reclaim.failures)",
            "RECLAIM_DLQ_URL", "its dead-letter queue",
            "RECLAIM_WORK_QUEUE_URL", "queue of a fanned-out run's shards (unset: every sweep on one worker)",
            "RECLAIM_WORK_DLQ_URL", "its dead-letter queue");
    static final Group METRICS = group("Metrics (CloudWatch)",
            "RECLAIM_METRICS", "false: publish none (default true)",
            "RECLAIM_METRICS_NAMESPACE", "namespace (default Reclaim)",
            "RECLAIM_METRICS_TIMEOUT", "longest wait for PutMetricData (default 10s)",
            "RECLAIM_METRICS_IN_DRY_RUN", "true: a dry run publishes too");
    static final Group SENTRY = group("Sentry",
            "SENTRY_DSN", "errors (and check-ins of scheduled runs) go to this project; unset: Sentry off",
            "SENTRY_ENVIRONMENT", "environment of events (default production)",
            "RECLAIM_SENTRY_FLUSH_TIMEOUT", "longest wait for queued events before exiting (default 2s)",
            "RECLAIM_SENTRY_MONITOR", "Crons monitor slug (default reclaim-cleanup)",
            "RECLAIM_SCHEDULE_CRONTAB", "the schedule as a 5-field crontab (default 0 3 * * *)",
            "RECLAIM_SCHEDULE", "the EventBridge cron(...) expression, when RECLAIM_SCHEDULE_CRONTAB is unset",
            "RECLAIM_SCHEDULE_TIMEZONE", "the schedule's time zone (default UTC)",
            "RECLAIM_SENTRY_CHECKIN_MARGIN", "how late a run may start before it counts as missed (default 30m)",
            "RECLAIM_SENTRY_MAX_RUNTIME", "how long a run may last before it counts as timed out (default 15m)");
    static final Group LOGS = group("Logs (stderr)",
            "RECLAIM_LOG_FORMAT", "json (default) or text",
            "RECLAIM_LOG_LEVEL", "Reclaim's log level (default INFO)");

    /** What Reclaim.from reads: every command that builds the whole of Reclaim reads all of it. */
    static final List<Group> WHOLE_RECLAIM = List.of(DATABASE, SECRETS, CONFIGURATION, AWS, QUEUES, METRICS, SENTRY,
            LOGS);

    /** The exit code of invalid usage or configuration, the same for every command. */
    static final String USAGE_MEANING = "invalid usage or configuration: nothing was run, nothing was deleted "
            + "(the message names the option, variable or file field)";

    /** Each command's page, by its name; "" is the top-level {@code reclaim}. */
    static final Map<String, Page> PAGES = new LinkedHashMap<>();

    static {
        page("", "the command did its work (see each command's --help)",
                "the run, retry or status read failed (the message says why)", USAGE_MEANING,
                "reclaim run --dry-run");
        PAGES.put("run", new Page(WHOLE_RECLAIM, pairs("%3s",
                "0", "the run completed (failed items included: they went to the retry pipeline), stopped at its "
                        + "time budget (incomplete), or was skipped because another run holds the lock",
                "1", "the run failed (database unreachable, run lock lost, ...): the summary says what was done "
                        + "before the failure",
                "2", USAGE_MEANING,
                "3", "held: a sweep's brake stopped it (a run unlike its history); the others went on. Check, then "
                        + "reclaim approve --sweep NAME",
                "143", "stopped by SIGTERM: the item in hand was finished, the ledger says interrupted"),
                "RECLAIM_DB_URL=jdbc:postgresql://db/app reclaim run --dry-run --json"));
        page("plan", "the plan was written (a dry run: nothing was written to the database, nothing deleted)",
                "the dry run failed: no plan was written", USAGE_MEANING,
                "reclaim plan --out plan.jsonl && jq -r .type plan.jsonl | sort | uniq -c");
        page("apply", "the plan was applied (what was left alone is in the report, with its reason)",
                "the run failed: the summary says what was done before the failure",
                "the plan was refused (another configuration, older than --max-age, not a whole plan, an "
                        + "unknown sweep) or invalid usage or configuration: nothing was deleted",
                "reclaim apply plan.jsonl --max-age 2d");
        page("approve", "the approval was recorded: the next real run of the sweep goes past its brake once",
                "the database refused it or cannot be reached",
                "an unknown sweep, a --limit under 1, or invalid configuration: nothing recorded",
                "reclaim approve --sweep bobblehead-temp-photos --limit 5000");
        page("restore", "the selection was restored where its stores keep versions (what was not is listed, with why)",
                "the database or a store could not be reached",
                "an unknown run, sweep or store, a selection that is not exactly one of --run, --sweep/--since,"
                        + " --key, or invalid configuration: nothing restored",
                "reclaim restore --run 3f6c2a10-7b1e-4c5d-9a0b-2d4e6f8a1c3e --dry-run");
        page("unprotect", "the keys' protection was lifted (a later run may delete them again)",
                "the database could not be reached", USAGE_MEANING,
                "reclaim unprotect moc-files:uploads/tmp/u1/f1.pdf");
        page("retry", "the messages (or stored failures) were retried; those that failed again wait for the next try",
                "the retry itself failed (database or SQS unreachable)", USAGE_MEANING,
                "reclaim retry --max-messages 50 --dry-run");
        page("work", "every shard taken was done, held by its run's limit, or parked (malformed, or made under "
                        + "another configuration)", "some shards failed: they stay on the work queue for another try",
                USAGE_MEANING, "reclaim work --max-duration 14m");
        PAGES.put("status", new Page(List.of(DATABASE, SECRETS, AWS, QUEUES, LOGS), pairs("%3s",
                "0", "the status was shown (also for a database Reclaim never ran against)",
                "1", "the database cannot be reached, or refused the read",
                "2", "invalid usage (--runs) or database variables (RECLAIM_DB_URL)"),
                "RECLAIM_DB_URL=jdbc:postgresql://db/app reclaim status --runs 5"));
    }

    /** picocli's default usage width, and where the variables' meanings start. */
    private static final int HELP_WIDTH = 80;
    private static final int NAME_COLUMN = 39;

    private CommandHelp() {
    }

    /** Adds each page's variables, exit codes and example to its command's usage help. */
    static void apply(CommandLine top) {
        PAGES.forEach((command, page) -> {
            List<String> footer = new ArrayList<>();
            for (Group g : page.variables()) {
                footer.add("  " + g.name() + ":");
                g.variables().forEach((name, meaning) -> {
                    List<String> lines = wrap(meaning, HELP_WIDTH - NAME_COLUMN);
                    footer.add(String.format("    %-" + (NAME_COLUMN - 4) + "s%s", name, lines.get(0)));
                    lines.stream().skip(1).forEach(l -> footer.add(" ".repeat(NAME_COLUMN) + l));
                });
            }
            footer.add("");
            footer.add("Example:");
            footer.add("  " + page.example());
            (command.isEmpty() ? top : top.getSubcommands().get(command)).getCommandSpec().usageMessage()
                    .exitCodeListHeading("%nExit codes:%n")
                    .exitCodeList(page.exitCodes())
                    .footerHeading("%nEnvironment variables:%n")
                    // picocli formats footers and interpolates ${...}: both are escaped to show as written
                    .footer(footer.stream().map(l -> l.replace("%", "%%").replace("${", "$${")).toArray(String[]::new));
        });
    }

    /** {@code reclaim --version}: the version Maven built (observe.Release), never a number written by hand. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Release.version();
            return new String[] {"reclaim " + (version == null ? "(version unknown: not built by Maven)" : version)};
        }
    }

    /** Words of {@code text} in lines of at most {@code width} characters (picocli would wrap without indenting). */
    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(line.length() > 0 ? " " : "").append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    private static Group group(String name, String... pairs) {
        return new Group(name, pairs("%s", pairs));
    }

    /** The page of a command that builds the whole of Reclaim and exits 0, 1 or 2. */
    private static void page(String command, String ok, String failed, String usage, String example) {
        PAGES.put(command, new Page(WHOLE_RECLAIM, pairs("%3s", "0", ok, "1", failed, "2", usage), example));
    }

    /** Pairs of name (as {@code format} writes it: exit codes right-aligned) and text, in order. */
    private static Map<String, String> pairs(String format, String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            m.put(String.format(format, pairs[i]), pairs[i + 1]);
        }
        return m;
    }
}
