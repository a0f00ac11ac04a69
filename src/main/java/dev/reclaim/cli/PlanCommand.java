package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code reclaim plan --out FILE}: a dry run that writes every record and key it would delete, for review. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Dry-runs the configured sweeps and writes the whole plan to FILE as JSON Lines: a header "
                + "(version, configuration hash, sweeps and cutoffs, time), every record id and key that would go, "
                + "every asset kept with its reason (referenced, tooYoung, outsideGlob, outsidePrefixes), an end line "
                + "with the counts. Nothing is written to the database and nothing is deleted. Review it, then "
                + "`reclaim apply FILE`."})
final class PlanCommand extends ConfiguredCommand {
    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to write the plan (replaced whole).")
    Path out;

    @Option(names = "--sweep", paramLabel = "NAME", description = "Plan only this sweep (repeatable). Default: all.")
    List<String> sweeps = new ArrayList<>();

    @Option(names = "--json", description = "Print the dry run's JSON report instead of the summary.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Reclaim reclaim = Reclaim.from(settings())) { // an unreadable RECLAIM_DRY_RUN: an error here too
            RunReport report = reclaim.plan(new RunRequest("plan", true, sweeps, Deadline.none()), out);
            return printPlanned(cli, report, json, out);
        }
    }

    /** The dry run's summary or report, and where its plan went; exit 1 when the run failed (no plan then). */
    static int printPlanned(ReclaimCli cli, RunReport report, boolean json, Path out) throws Exception {
        cli.print(json, report, () -> Reports.summary(report));
        if (report.outcome() == Outcome.FAILED) {
            cli.err().println("reclaim: the dry run failed: " + report.reason() + ". No plan was written.");
            return ReclaimCli.RUN_FAILED;
        }
        cli.err().println("reclaim: plan written to " + out + " (review it, then: reclaim apply " + out + ")");
        return ReclaimCli.OK;
    }
}
