package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code reclaim unprotect STORE:KEY...}: a restored key may be deleted again by a later run. */
@Command(name = "unprotect", mixinStandardHelpOptions = true,
        description = {"Lifts the protection `reclaim restore` put on keys, once you have decided they may go: the next "
                + "run deletes them again if they are still orphaned."})
final class UnprotectCommand extends ConfiguredCommand {
    @Parameters(paramLabel = "STORE:KEY", arity = "1..*", description = "Restored keys.")
    List<String> keys;

    @Override
    public Integer call() throws Exception {
        int lifted;
        try (Reclaim reclaim = Reclaim.from(settings())) {
            lifted = reclaim.unprotect(keys);
        }
        cli.out().println("Unprotected " + lifted + " of " + keys.size() + " keys"
                + (lifted < keys.size() ? " (the others were not protected)" : "") + ".");
        return ReclaimCli.OK;
    }
}
