package dev.reclaim.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Durations;
import dev.reclaim.config.Redaction;
import dev.reclaim.config.Settings;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.run.RetryWorker.Result;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.run.Deadline;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;
import org.slf4j.MDC;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar reclaim.jar COMMAND}: logs go to stderr, stdout carries the summary or the JSON report; each
 * command's variables and exit codes are on its {@code --help} page ({@link CommandHelp}). The subcommands work with
 * the CLI's environment and writers.
 */
@Command(name = "reclaim", mixinStandardHelpOptions = true, versionProvider = CommandHelp.Version.class,
        description = "Deletes abandoned uploads and expired soft-deleted records.",
        subcommands = {ReclaimCli.RunCommand.class, PlanCommand.class, ApplyCommand.class, ApproveCommand.class,
                RestoreCommand.class, UnprotectCommand.class, ReclaimCli.RetryCommand.class, WorkCommand.class,
                StatusCommand.class})
public record ReclaimCli(Map<String, String> env, PrintWriter out, PrintWriter err) {
    public static final int OK = 0;
    public static final int RUN_FAILED = 1;
    public static final int USAGE = 2;
    /** A sweep's brake held the run: an alert, not a failure (the other sweeps went on). */
    public static final int HELD = 3;
    /** After SIGTERM: how long the outbox may still be drained for the items already purged. */
    static final Duration DRAIN_GRACE = Duration.ofSeconds(5);
    /** After SIGTERM: how long the process waits, at most, for the run to finish its item, drain, record and print. */
    static final Duration STOP_WAIT = Duration.ofSeconds(20);
    /** A "schedule..." trigger is what makes a run check in with Sentry Crons (SentryReporter.checksIn). */
    static final String SCHEDULED_TRIGGER = "schedule:cli";

    public static void main(String[] args) {
        System.exit(execute(args, Settings.processEnvironment(), new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI against the given environment (tests pass their own). */
    public static int execute(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new ReclaimCli(env, out, err));
        CommandHelp.apply(cli); // each command's variables, exit codes and example
        cli.setOut(out);
        cli.setErr(err);
        Redaction redaction = Redaction.of(env);
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof ConfigException || ex instanceof UsageException) {
                err.println("reclaim: " + redaction.apply(ex.getMessage()));
                err.println("Nothing was run and nothing was deleted.");
                return USAGE;
            }
            err.println("reclaim: the run failed: " + redaction.apply(ex.toString()));
            return RUN_FAILED;
        });
        int code = cli.execute(args);
        SentryReporter.flush(); // bounded by RECLAIM_SENTRY_FLUSH_TIMEOUT
        out.flush();
        err.flush();
        return code;
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Runs the configured sweeps once against the services the environment names.")
    static final class RunCommand extends ConfiguredCommand.Reporting {
        @Option(names = "--dry-run", description = "Write and delete nothing; report what would be deleted. Also RECLAIM_DRY_RUN=true.")
        boolean dryRun;

        @Option(names = "--sweep", paramLabel = "NAME", description = "Run only this sweep (repeatable). Default: all.")
        List<String> sweeps = new ArrayList<>();

        @Option(names = "--max-duration", paramLabel = "DURATION",
                description = "Stop taking new items after this long (more than zero, at most 36500d; e.g. 10m); the next run carries on.")
        String maxDuration;

        @Option(names = "--plan", paramLabel = "FILE", description = "With --dry-run: also write the whole plan to FILE (as `reclaim plan --out FILE`).")
        java.nio.file.Path plan;

        @Option(names = "--scheduled", description = "This run is the schedule's (cron, a Kubernetes CronJob, an ECS "
                + "task): the ledger's trigger is schedule:cli and, with SENTRY_DSN, it checks in with Sentry Crons "
                + "(RECLAIM_SENTRY_MONITOR) as the Lambda's scheduled runs do.")
        boolean scheduled;

        @Override
        public Integer call() throws Exception {
            if (plan != null && !dryRun) {
                throw new UsageException("--plan needs --dry-run: a plan is what a dry run would do");
            }
            Deadline deadline = Deadline.none();
            if (maxDuration != null) {
                try {
                    deadline = Deadline.after(Durations.parse(maxDuration, Durations.Accepts.POSITIVE));
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--max-duration: " + e.getMessage());
                }
            }
            Settings settings = settings();
            boolean dry = settings.dryRun() || dryRun; // read even with --dry-run: a bad value is an error
            CountDownLatch printed = new CountDownLatch(1);
            Thread onTermination = stopOnTermination(deadline, printed);
            try {
                RunReport report;
                try (Reclaim reclaim = Reclaim.from(settings)) {
                    if (plan != null) {
                        return PlanCommand.printPlanned(cli, reclaim.plan(new RunRequest("cli", true, sweeps, deadline), plan), json, plan);
                    }
                    report = reclaim.run(new RunRequest(scheduled ? SCHEDULED_TRIGGER : "cli", dry, sweeps, deadline));
                }
                int code = cli.printRun(json, report, report, () -> Reports.summary(report));
                if (report.outcome() == Outcome.HELD) {
                    cli.err.println("reclaim: " + report.reason());
                    cli.err.flush();
                    return HELD;
                }
                return code;
            } finally {
                printed.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(onTermination);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already exiting: the hook is running and now returns
                }
            }
        }

        /**
         * On SIGTERM (or SIGINT) the JVM runs its shutdown hooks and then exits: this one asks the run to stop taking
         * items, then holds the exit until the run has recorded its outcome and printed its summary (bounded).
         */
        private static Thread stopOnTermination(Deadline deadline, CountDownLatch printed) {
            Thread hook = new Thread(() -> {
                deadline.stop("SIGTERM", DRAIN_GRACE);
                try {
                    if (!printed.await(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                        System.err.println("reclaim: the run did not stop within " + STOP_WAIT.toSeconds()
                                + "s; exiting (its ledger row stays running until the next run marks it interrupted)");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "reclaim-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            return hook;
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Polls the retry queue (RECLAIM_RETRY_QUEUE_URL) and retries each failed item once; without a queue, retries the failures stored in reclaim.failures.")
    static final class RetryCommand extends ConfiguredCommand {
        @Option(names = "--max-messages", paramLabel = "N", description = "Stop after this many messages (default 100).")
        int maxMessages = 100;

        @Option(names = "--dry-run", description = "Delete nothing; messages go back on the queue unchanged.")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            if (maxMessages < 1) {
                throw new UsageException("--max-messages must be at least 1");
            }
            Settings settings = settings();
            boolean dry = settings.dryRun() || dryRun; // read even with --dry-run: a bad value is an error
            Map<Result, Integer> results = new EnumMap<>(Result.class);
            int processed = 0;
            // Retries run outside a run: the command is their run, and its lines carry one id.
            try (var ignored = MDC.putCloseable("runId", UUID.randomUUID().toString());
                 Reclaim reclaim = Reclaim.from(settings)) {
                RetryQueue queue = reclaim.retryQueue();
                if (queue == null) {
                    return retryFromTable(reclaim, dry);
                }
                RetryWorker worker = reclaim.retryWorker();
                while (processed < maxMessages) {
                    var messages = queue.receive(Math.min(10, maxMessages - processed), Duration.ofSeconds(1));
                    if (messages.isEmpty()) {
                        break;
                    }
                    for (var m : messages) {
                        int receiveCount = Integer.parseInt(m.attributesAsStrings().getOrDefault("ApproximateReceiveCount", "1"));
                        Result r = worker.process(m.messageId(), m.body(), receiveCount, dry);
                        if (r != Result.FAILED_AGAIN) {
                            queue.delete(m);
                        }
                        results.merge(r, 1, Integer::sum);
                        processed++;
                    }
                }
                worker.batchFinished(processed, dry); // the retry metrics, once for the whole command
            }
            cli.out.printf("Retried %d messages: done %d, failed again %d (left on the queue), dead-lettered %d, "
                    + "deferred %d%s%n", processed, results.getOrDefault(Result.DONE, 0),
                    results.getOrDefault(Result.FAILED_AGAIN, 0), results.getOrDefault(Result.DEAD_LETTERED, 0),
                    results.getOrDefault(Result.DEFERRED, 0), dry ? " (dry run)" : "");
            return OK;
        }

        /** No retry queue: the failures wait in reclaim.failures, and are retried from there. */
        private int retryFromTable(Reclaim reclaim, boolean dry) throws Exception {
            if (dry) {
                cli.out.printf("No retry queue (RECLAIM_RETRY_QUEUE_URL): %d failures wait in reclaim.failures; "
                        + "nothing retried (dry run)%n", reclaim.storedFailures());
                return OK;
            }
            var retried = reclaim.retryStoredFailures(maxMessages);
            cli.out.printf("No retry queue (RECLAIM_RETRY_QUEUE_URL): retried %d failures from reclaim.failures: done %d, "
                            + "failed again %d (left in the table for the next run or retry)%n", retried.tried(),
                    retried.succeeded(), retried.tried() - retried.succeeded());
            return OK;
        }
    }

    /** With {@code --json} the report as indented JSON, else its summary. */
    void print(boolean json, Object report, Supplier<String> summary) throws JsonProcessingException {
        if (json) {
            out.println(Reports.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        } else {
            out.print(summary.get());
        }
    }

    /** {@link #print}s the report of a run; when the run failed, says why and what was done before: exit 1. */
    int printRun(boolean json, Object report, RunReport run, Supplier<String> summary) throws JsonProcessingException {
        print(json, report, summary);
        out.flush();
        if (run.outcome() != Outcome.FAILED) {
            return OK;
        }
        err.println("reclaim: the run failed: " + run.reason() + ". " + Reports.doneBeforeFailure(run));
        err.flush();
        return RUN_FAILED;
    }
}
