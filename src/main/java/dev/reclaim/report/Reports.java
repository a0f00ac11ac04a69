package dev.reclaim.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.util.Map;
import java.util.stream.Collectors;

/** Reports as JSON (handler, ledger, {@code --json}) and as a short text summary (CLI). */
public final class Reports {
    public static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private Reports() {
    }

    public static String summary(RunReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Reclaim run " + r.runId() + (r.dryRun() ? " (DRY RUN: nothing was written or deleted)" : "") + '\n');
        String[] reason = r.reason() == null ? null : r.reason().strip().split("\\R", 2);
        sb.append("  outcome: " + r.outcome().label() + (reason == null ? "" : " (" + reason[0] + ")") + ", "
                + r.durationMs() + " ms\n");
        if (reason != null && reason.length > 1) {
            sb.append(indented(reason[1], "    ", "    ")); // a database error's Where:/Hint: lines
        }
        if (r.undoable() != null) {
            r.undoable().forEach((store, how) -> sb.append("  store " + store + ": deletions "
                    + ("yes".equals(how) ? "can be undone (reclaim restore)" : "cannot be undone: " + how) + "\n"));
        }
        if (r.folderModes() != null) {
            r.folderModes().forEach((store, mode) ->
                    sb.append("  store " + store + ": Cloudinary " + mode + " folder mode\n"));
        }
        line(sb, r.sweeps().isEmpty(), "  no sweep started: " + (reason == null ? "no sweep was selected"
                : r.outcome() == Outcome.FAILED ? "the run failed before its first sweep" : reason[0]));
        for (SweepReport s : r.sweeps()) {
            if (s.kind() == null) { // the run's time ran out, or it was asked to stop, before this sweep's turn
                sb.append("  sweep ").append(s.name()).append(": not started: ").append("stopRequested".equals(s.stoppedBy())
                        ? "the run was asked to stop before its turn" : "the run's time budget was spent before its turn")
                        .append("; the next run does it\n");
                continue;
            }
            // An assets sweep deletes files; only a records sweep purges.
            boolean assets = "assets".equals(s.kind());
            String purged = r.dryRun() ? (assets ? "would delete" : "would purge") : (assets ? "deleted" : "purged");
            sb.append("  sweep ").append(s.name()).append(" [").append(s.kind()).append("]")
                    .append(s.cutoff() == null ? "" : " cutoff " + s.cutoff()).append('\n');
            sb.append("    eligible " + s.eligible() + ", " + purged + ' ' + s.purged() + ", skipped " + s.skipped()
                    + ", failed " + s.failed() + (s.complete() ? ", complete" : ", stopped by " + s.stoppedBy()))
                    .append('\n');
            line(sb, s.scanned() != null, "    scanned " + s.scanned() + ", referenced (kept) "
                    + (s.referenced() == null ? 0 : s.referenced()) + ", bytes "
                    + (r.dryRun() ? "that would be reclaimed " : "reclaimed ")
                    + (s.bytesReclaimed() == null ? 0 : s.bytesReclaimed())
                    + (s.apiCalls() == null ? "" : ", API calls: " + join(s.apiCalls())));
            sb.append(s.listing() == null ? "" : "    " + listing(s.listing()) + '\n');
            sb.append(s.listingWarning() == null ? "" : indented("WARNING " + s.listingWarning(), "    ", "      "));
            SweepReport.FannedOut out = s.fannedOut();
            line(sb, out != null, out == null ? "" : "    fanned out: " + out.shards() + " shards, " + out.sent()
                    + " sent to the work queue, at most " + out.limit() + " deletions across them (" + out.why()
                    + "); reclaim status follows them");
            sb.append(out == null || out.warning() == null ? "" : indented("WARNING " + out.warning(), "    ", "      "));
            line(sb, s.brake() != null, (r.dryRun() ? "    the brake would hold the real run: " : "    HELD by the brake: ")
                    + s.brake());
            line(sb, s.quotaResetsAt() != null,
                    "    rate limited: the quota resets at " + s.quotaResetsAt() + "; the next run carries on");
            line(sb, !s.figures().isEmpty(), "    figures: " + join(s.figures()));
            line(sb, !s.keysCollected().isEmpty(), "    keys " + (r.dryRun() ? "that would be deleted" : "collected")
                    + ": " + join(s.keysCollected()));
            line(sb, !s.keysDeleted().isEmpty() || !s.keysFailed().isEmpty(), "    keys deleted: "
                    + join(s.keysDeleted()) + (s.keysFailed().isEmpty() ? "" : "; failed: " + join(s.keysFailed())));
            line(sb, s.keysKeptReferenced() != null,
                    "    keys kept, still referenced by another row: " + join(s.keysKeptReferenced()));
            sb.append(s.error() == null ? "" : indented("ERROR " + s.error(), "    ", "      "));
            line(sb, s.keysRefused() > 0, "    keys refused by a prefix guard: " + s.keysRefused());
            if (r.dryRun() && !s.sampleIds().isEmpty()) {
                sb.append("    first ids: " + String.join(", ", s.sampleIds()) + '\n');
                s.sampleKeys().forEach((store, keys) ->
                        sb.append("    first keys in " + store + ": " + String.join(", ", keys) + '\n'));
            }
            s.failures().forEach(f -> sb.append(indented("FAILED " + f.item() + " at " + f.step() + ": " + f.error(),
                    "    ", "      ")));
        }
        RunReport.OutboxReport outbox = r.outbox(); // never null, nor its maps and errors: Run and RunTally fill them
        sb.append("  outbox: deleted " + join(outbox.deleted()) + ", failed " + join(outbox.failed())
                + ", pending " + (Boolean.TRUE.equals(outbox.pendingUnknown())
                        ? "unknown (the database could not be asked)" : String.valueOf(outbox.pending()))
                + (outbox.keptReferenced().isEmpty() ? ""
                        : ", kept as still referenced " + join(outbox.keptReferenced())) + '\n');
        outbox.errors().forEach(e -> sb.append(indented("outbox ERROR " + e, "  ", "    ")));
        RunReport.FailureReport failures = r.failures();
        if (failures != null) {
            line(sb, failures.retried() > 0, "  stored failures retried: " + failures.retried() + ", succeeded "
                    + failures.retriedOk());
            line(sb, failures.recorded() > 0 || failures.pending() > 0, "  failures: recorded " + failures.recorded()
                    + ", sent to the retry queue " + failures.sent() + ", waiting in reclaim.failures "
                    + failures.pending()
                    + (failures.queueConfigured() ? "" : " (no RECLAIM_RETRY_QUEUE_URL: the next run retries them)"));
        }
        if (r.outcome() == Outcome.FAILED) {
            sb.append(failedRun(r)).append('\n');
        }
        return sb.toString();
    }

    /** A failed run in one sentence: why (its first line), and what it is known to have done before. */
    static String failedRun(RunReport r) {
        String why = r.reason() == null ? "unknown cause" : r.reason().strip().split("\\R", 2)[0];
        return "The run FAILED (" + why + ")" + (r.dryRun() ? "; being a dry run, it wrote and deleted nothing."
                : ", after purging " + r.purged() + " items and deleting " + r.keysDeleted() + " files; files of "
                + "purged items not yet deleted stay in the outbox for the next run.");
    }

    /**
     * {@code text} as lines: the first after {@code first}, every further one (a database error's "Where:" and
     * "Hint:" lines) after {@code more}, so it stays under the item it belongs to; each line ends with a newline.
     */
    public static String indented(String text, String first, String more) {
        StringBuilder sb = new StringBuilder();
        String[] lines = String.valueOf(text).strip().split("\\R");
        for (int i = 0; i < lines.length; i++) {
            sb.append(i == 0 ? first : more).append(lines[i].strip()).append('\n');
        }
        return sb.toString();
    }

    /** What applying a plan did, sweep by sweep, then the run's own summary. */
    public static String summary(ApplyReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Applied plan " + r.file() + " (made " + r.planCreatedAt() + ")\n");
        r.sweeps().forEach((name, s) -> sb.append("  plan sweep " + name + ": held " + s.heldRecords() + " records, "
                + s.heldKeys() + " keys; applied " + s.appliedRecords() + " records, " + s.appliedKeys() + " keys"
                + (s.skipped().isEmpty() ? "" : "; not applied: " + join(s.skipped())) + '\n'));
        return sb + summary(r.run());
    }

    private static void line(StringBuilder sb, boolean applies, String text) {
        if (applies) {
            sb.append(text).append('\n');
        }
    }

    /**
     * What a failed run is known to have done: only what it counted as confirmed, never "nothing" (a statement in
     * flight when the connection broke may have taken effect).
     */
    public static String doneBeforeFailure(RunReport r) {
        if (r.dryRun()) {
            return "Being a dry run, it wrote and deleted nothing.";
        }
        return "Confirmed before the failure: " + r.purged() + " items purged, " + r.keysDeleted()
                + " files deleted through the outbox (per sweep in the report); files of purged items not yet deleted "
                + "stay in the outbox for the next run.";
    }

    private static String join(Map<String, Long> m) {
        return m == null || m.isEmpty() ? "0"
                : m.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }

    /** Where an assets sweep's listing resumed and stopped, and its passes, in one line. */
    static String listing(SweepReport.Listing l) {
        return "listing: resumed " + (l.resumedFrom() == null ? "from the start" : "after " + l.resumedFrom())
                + (l.restarted() == null ? "" : " (started over: " + l.restarted() + ")")
                + (l.stoppedAt() == null ? ", listed nothing" : ", " + (l.wrapped() ? "wrapped at the end after " : "stopped at ")
                + l.stoppedAt()) + ", full passes " + l.passes()
                + (l.positionKept() ? "" : "; position left as it was (the next run resumes where this one did)");
    }
}
