package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reclaim approve --sweep NAME [--limit N]}: the next real run of a held sweep goes past its brake once. */
@Command(name = "approve", mixinStandardHelpOptions = true,
        description = {"Lets the next real run of the sweep past its brake once (up to --limit deletions; without it, "
                + "no limit), after you have checked why it held (reclaim status, the run's report). Recorded in "
                + "reclaim.approvals; the run that uses it records itself there."})
final class ApproveCommand extends ConfiguredCommand {
    @Option(names = "--sweep", paramLabel = "NAME", required = true, description = "The sweep to let through.")
    String sweep;

    @Option(names = "--limit", paramLabel = "N", description = "At most this many deletions in that run (default: no limit).")
    Long limit;

    @Override
    public Integer call() throws Exception {
        try (Reclaim reclaim = Reclaim.from(settings())) {
            reclaim.approve(sweep, limit);
        }
        cli.out().println("Approved: the next run of sweep " + sweep + " goes past its brake once"
                + (limit == null ? " (no limit)" : ", up to " + limit + " deletions") + ".");
        return ReclaimCli.OK;
    }
}
