package dev.reclaim.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.util.Map;

/** Reports as JSON (handler, ledger, {@code --json}) and as a short text summary (CLI). */
public final class Reports {
    public static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private Reports() {
    }

    public static String summary(RunReport r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Reclaim run ").append(r.runId()).append(r.dryRun() ? " (DRY RUN: nothing was written or deleted)" : "")
                .append('\n');
        sb.append("  outcome: ").append(r.outcome().label());
        if (r.reason() != null) {
            sb.append(" (").append(r.reason()).append(')');
        }
        sb.append(", ").append(r.durationMs()).append(" ms\n");
        if (r.folderModes() != null) {
            r.folderModes().forEach((store, mode) ->
                    sb.append("  store ").append(store).append(": Cloudinary ").append(mode).append(" folder mode\n"));
        }
        String purged = r.dryRun() ? "would purge" : "purged";
        for (SweepReport s : r.sweeps()) {
            sb.append("  sweep ").append(s.name()).append(" [").append(s.kind()).append("]")
                    .append(s.cutoff() == null ? "" : " cutoff " + s.cutoff()).append('\n');
            sb.append("    eligible ").append(s.eligible()).append(", ").append(purged).append(' ').append(s.purged())
                    .append(", skipped ").append(s.skipped()).append(", failed ").append(s.failed());
            sb.append(s.complete() ? ", complete" : ", stopped by " + s.stoppedBy()).append('\n');
            if (s.scanned() != null) {
                sb.append("    scanned ").append(s.scanned()).append(", referenced (kept) ").append(s.referenced() == null ? 0 : s.referenced())
                        .append(", bytes ").append(r.dryRun() ? "that would be reclaimed " : "reclaimed ")
                        .append(s.bytesReclaimed() == null ? 0 : s.bytesReclaimed());
                if (s.apiCalls() != null) {
                    sb.append(", API calls: ").append(join(s.apiCalls()));
                }
                sb.append('\n');
            }
            if (s.listingWarning() != null) {
                sb.append("    WARNING ").append(s.listingWarning()).append('\n');
            }
            if (s.quotaResetsAt() != null) {
                sb.append("    rate limited: the quota resets at ").append(s.quotaResetsAt()).append("; the next run carries on\n");
            }
            if (!s.figures().isEmpty()) {
                sb.append("    figures: ").append(join(s.figures())).append('\n');
            }
            if (!s.keysCollected().isEmpty()) {
                sb.append("    keys ").append(r.dryRun() ? "that would be deleted" : "collected").append(": ")
                        .append(join(s.keysCollected())).append('\n');
            }
            if (!s.keysDeleted().isEmpty() || !s.keysFailed().isEmpty()) {
                sb.append("    keys deleted: ").append(join(s.keysDeleted()));
                if (!s.keysFailed().isEmpty()) {
                    sb.append("; failed: ").append(join(s.keysFailed()));
                }
                sb.append('\n');
            }
            if (s.keysKeptReferenced() != null) {
                sb.append("    keys kept, still referenced by another row: ").append(join(s.keysKeptReferenced())).append('\n');
            }
            if (s.error() != null) {
                sb.append("    ERROR ").append(s.error()).append('\n');
            }
            if (s.keysRefused() > 0) {
                sb.append("    keys refused by a prefix guard: ").append(s.keysRefused()).append('\n');
            }
            if (r.dryRun() && !s.sampleIds().isEmpty()) {
                sb.append("    first ids: ").append(String.join(", ", s.sampleIds())).append('\n');
                s.sampleKeys().forEach((store, keys) ->
                        sb.append("    first keys in ").append(store).append(": ").append(String.join(", ", keys)).append('\n'));
            }
            for (SweepReport.Failure f : s.failures()) {
                sb.append("    FAILED ").append(f.item()).append(" at ").append(f.step()).append(": ").append(f.error()).append('\n');
            }
        }
        if (r.outbox() != null) {
            sb.append("  outbox: deleted ").append(join(r.outbox().deleted()))
                    .append(", failed ").append(join(r.outbox().failed()))
                    .append(", pending ").append(Boolean.TRUE.equals(r.outbox().pendingUnknown())
                            ? "unknown (the database could not be asked)" : String.valueOf(r.outbox().pending()));
            if (r.outbox().keptReferenced() != null && !r.outbox().keptReferenced().isEmpty()) {
                sb.append(", kept as still referenced ").append(join(r.outbox().keptReferenced()));
            }
            sb.append('\n');
            if (r.outbox().errors() != null) {
                r.outbox().errors().forEach(e -> sb.append("  outbox ERROR ").append(e).append('\n'));
            }
        }
        if (r.failures() != null && r.failures().retried() > 0) {
            sb.append("  stored failures retried: ").append(r.failures().retried()).append(", succeeded ")
                    .append(r.failures().retriedOk()).append('\n');
        }
        if (r.failures() != null && (r.failures().recorded() > 0 || r.failures().pending() > 0)) {
            sb.append("  failures: recorded ").append(r.failures().recorded()).append(", sent to the retry queue ")
                    .append(r.failures().sent()).append(", waiting in reclaim.failures ").append(r.failures().pending())
                    .append(r.failures().queueConfigured() ? "" : " (no RECLAIM_RETRY_QUEUE_URL: the next run retries them)")
                    .append('\n');
        }
        return sb.toString();
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
        if (m == null || m.isEmpty()) {
            return "0";
        }
        return String.join(", ", m.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList());
    }

}
