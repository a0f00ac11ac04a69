package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.report.Reports;
import dev.reclaim.run.UsageException;
import dev.reclaim.store.Undo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/** {@code reclaim restore --run ID | --sweep NAME --since TIME | --key STORE:KEY...}: the undo window. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Brings back files Reclaim deleted, from the deletion journal (reclaim.deleted_keys), where "
                + "their store keeps versions (an S3 bucket with versioning; Cloudinary with backups): per store, "
                + "restored, already present, or not restorable and why. Every key restored is protected: no run, "
                + "outbox drain or retry deletes it again until `reclaim unprotect`. Records are never restorable: "
                + "rows are purged for good, by design."})
final class RestoreCommand extends ConfiguredCommand.Reporting {
    @Option(names = "--run", paramLabel = "ID", description = "Everything that run deleted.")
    String run;

    @Option(names = "--sweep", paramLabel = "NAME", description = "What this sweep deleted since --since.")
    String sweep;

    @Option(names = "--since", paramLabel = "TIME", description = "With --sweep: an ISO time, e.g. 2026-12-06T03:00:00Z.")
    String since;

    @Option(names = "--key", paramLabel = "STORE:KEY", description = "These keys (repeatable).")
    List<String> keys = new ArrayList<>();

    @Option(names = "--dry-run", description = "Say what would be restored; call no store, write nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        int given = (run != null ? 1 : 0) + (sweep != null ? 1 : 0) + (keys.isEmpty() ? 0 : 1);
        if (given != 1 || (sweep == null) != (since == null)) {
            throw new UsageException("restore takes exactly one of --run ID, --sweep NAME --since TIME, --key STORE:KEY");
        }
        Undo.Selection selection = new Undo.Selection(run == null ? null
                : parsed(run, UUID::fromString, "--run " + run + ": not a run id (reclaim status lists them)"), sweep,
                since == null ? null : parsed(since, Instant::parse,
                        "--since " + since + ": not an ISO time such as 2026-12-06T03:00:00Z"), keys);
        Undo.Report report;
        try (Reclaim reclaim = Reclaim.from(settings())) {
            report = reclaim.restore(selection, dryRun);
        }
        if (json) {
            cli.out().println(Reports.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            return ReclaimCli.OK;
        }
        cli.out().println((dryRun ? "Restore (DRY RUN: nothing called, nothing written): " : "Restore: ")
                + report.journaled() + " journaled deletions selected");
        report.stores().forEach((store, o) -> {
            cli.out().println("  store " + store + ": " + (dryRun ? "would restore " : "restored ") + o.restored()
                    + ", already present " + o.alreadyPresent() + ", not restorable " + o.notRestorable());
            o.reasons().forEach((key, why) -> cli.out().println("    " + key + ": " + why));
        });
        report.notes().forEach(n -> cli.out().println("  note: " + n));
        return ReclaimCli.OK;
    }

    /** {@code text} as {@code parse} reads it, else the usage error {@code error}. */
    private static <T> T parsed(String text, Function<String, T> parse, String error) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new UsageException(error);
        }
    }
}
