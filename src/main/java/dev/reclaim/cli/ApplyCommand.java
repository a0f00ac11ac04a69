package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.config.Durations;
import dev.reclaim.report.ApplyReport;
import dev.reclaim.report.PlanFile;
import dev.reclaim.report.Reports;
import dev.reclaim.run.Deadline;
import dev.reclaim.config.Settings;
import dev.reclaim.run.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Duration;

/** {@code reclaim apply FILE}: deletes what a reviewed plan holds and still passes every check, nothing else. */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = {"Deletes only the records and keys the plan FILE holds that still pass every check now "
                + "(eligibility, claim, reference checks, prefix guards, retention): the plan can narrow a run, never "
                + "widen it. Refuses, deleting nothing, a plan made under another configuration, one older than "
                + "--max-age, and a file that is not a whole plan. The report says what the plan held, what was "
                + "applied, and what was not and why."})
final class ApplyCommand extends ConfiguredCommand.Reporting {
    @Parameters(paramLabel = "FILE", description = "A plan written by `reclaim plan` or `reclaim run --dry-run --plan`.")
    Path file;

    @Option(names = "--max-age", paramLabel = "DURATION", description = "Refuse a plan older than this (default 7d).")
    String maxAge = "7d";

    @Option(names = "--max-duration", paramLabel = "DURATION",
            description = "Stop taking new items after this long (e.g. 10m); apply the plan again to carry on.")
    String maxDuration;

    @Override
    public Integer call() throws Exception {
        Duration oldest = duration("--max-age", maxAge);
        Deadline deadline = maxDuration == null ? Deadline.none() : Deadline.after(duration("--max-duration", maxDuration));
        Settings settings = settings();
        if (settings.dryRun()) {
            throw new UsageException("RECLAIM_DRY_RUN is true, and apply deletes: make a plan instead (reclaim plan)");
        }
        PlanFile.Summary plan;
        try {
            plan = PlanFile.check(file);
        } catch (PlanFile.NotAPlan e) {
            throw new UsageException(e.getMessage());
        }
        ApplyReport report;
        try (Reclaim reclaim = Reclaim.from(settings)) {
            report = reclaim.apply(plan, oldest, deadline);
        }
        return cli.printRun(json, report, report.run(), () -> Reports.summary(report));
    }

    private static Duration duration(String option, String text) {
        try {
            Duration d = Durations.parse(text);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("must be positive, got " + text);
            }
            return d;
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new UsageException(option + ": " + e.getMessage());
        }
    }
}
