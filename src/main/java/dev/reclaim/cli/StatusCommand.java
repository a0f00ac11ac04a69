package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.config.Redaction;
import dev.reclaim.run.Status;
import dev.reclaim.run.UsageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.sql.SQLException;
import java.util.concurrent.Callable;

/** {@code reclaim status [--runs N] [--json]}: what Reclaim did lately and what waits, read from its tables. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Shows the last runs, the pending deletions per store, the failures waiting and the retry "
                + "queues' depths. Reads only: creates and migrates nothing, needs neither S3 nor Cloudinary.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--runs", paramLabel = "N", description = "How many of the last runs to show (default 10).")
    int runs = 10;

    @Option(names = "--json", description = "Print one JSON document instead of the tables.")
    boolean json;

    @CommandLine.ParentCommand
    ReclaimCli cli;

    @Override
    public Integer call() throws Exception {
        if (runs < 1) {
            throw new UsageException("--runs must be at least 1");
        }
        Status status;
        try {
            status = Reclaim.status(cli.env(), runs);
        } catch (SQLException e) {
            cli.err().println("reclaim: " + Redaction.of(cli.env()).apply(Status.whyUnreadable(e)));
            return ReclaimCli.RUN_FAILED;
        }
        cli.print(json, status, status::text);
        return ReclaimCli.OK;
    }
}
