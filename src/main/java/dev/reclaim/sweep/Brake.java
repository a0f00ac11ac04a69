package dev.reclaim.sweep;

import dev.reclaim.report.RunEvent;

import java.sql.SQLException;
import java.util.Locale;

/**
 * One sweep's brake for one run, from its history: how many deletions this run may make ({@code limit}, the
 * {@code rule} and {@code basis} it came from), and the share of candidates its recent runs found referenced
 * ({@code referencedShare}, null when unknown). A check that trips names its rule with its figures; the sweep then
 * deletes nothing more, and a dry run says the real run would hold and goes on.
 */
public final class Brake {
    /** A collapse is judged on pages with at least this many candidates ... */
    public static final int COLLAPSE_MIN_CANDIDATES = 100;
    /** ... for sweeps whose recent runs found at least this share referenced. */
    public static final double COLLAPSE_MIN_SHARE = 0.10;

    private final String sweep;
    private long limit;
    /** A shard's brake: the limit is what it took from its run's, which counts across every shard (null: none). */
    private final Shared shared;
    private final String rule;
    private final String basis;
    private final Double referencedShare;
    /** A dry run says once that the brake would hold. */
    private boolean said;

    public Brake(String sweep, long limit, String rule, String basis, Double referencedShare) {
        this(sweep, limit, rule, basis, referencedShare, null);
    }

    private Brake(String sweep, long limit, String rule, String basis, Double referencedShare, Shared shared) {
        this.shared = shared;
        this.sweep = sweep;
        this.limit = limit;
        this.rule = rule;
        this.basis = basis;
        this.referencedShare = referencedShare;
    }

    /** No brake: {@code brake: off}, a plan being applied, or a retried item. */
    public static Brake none(String sweep, String why) {
        return new Brake(sweep, Long.MAX_VALUE, null, why, null);
    }

    /** What a fanned-out run may still delete across its shards, taken a page at a time. */
    public interface Shared {
        /** Up to {@code wanted} more deletions for this shard; fewer, or none, when the run's limit is near. */
        long take(long wanted) throws SQLException;

        /** Deletions taken and not made go back for the other shards. */
        void giveBack(long unused) throws SQLException;

        /** The run's limit across its shards: {@code cap} (maxDeletesPerRun) or the brake's rule, and its basis. */
        long total();

        String rule();

        String basis();
    }

    /** A shard's brake: every deletion is first taken from {@code shared}. */
    public static Brake shared(String sweep, Shared shared) {
        return shared(sweep, shared, null);
    }

    /** The same, with the collapse rule of an assets sweep's history ({@code referencedShare}, null: unknown). */
    public static Brake shared(String sweep, Shared shared, Double referencedShare) {
        return new Brake(sweep, 0, shared.rule(), shared.basis(), referencedShare, shared);
    }

    /**
     * Before a page (or delete batch) of {@code next} items with {@code done} made: a shard takes its share of the
     * run's limit. Returns how many of the {@code next} it may make: all of them but for a shard near its run's limit.
     */
    public long take(long done, long next) throws SQLException {
        if (shared == null) {
            return next;
        }
        if (done + next > limit && next > 0) {
            limit += shared.take(done + next - limit);
        }
        return Math.max(0, Math.min(next, limit - done));
    }

    /** At a shard's end, with {@code done} made: what it took and did not use goes back. */
    public void giveBack(long done) throws SQLException {
        if (shared != null && limit > done) {
            shared.giveBack(limit - done);
            limit = done;
        }
    }

    public long limit() {
        return limit;
    }

    /** The rule the limit comes from ({@code firstRuns}, {@code volume}, {@code approved}); null: no brake. */
    public String rule() {
        return rule;
    }

    public String basis() {
        return basis;
    }

    /**
     * Whether deleting {@code next} more after {@code done} must not happen: true in a real run when it would pass
     * the limit (the sweep stops); a dry run is told once and goes on.
     */
    public boolean holdsVolume(SweepContext ctx, long done, long next) {
        if (limit == Long.MAX_VALUE || done + next <= limit) {
            return false;
        }
        if (shared != null && "cap".equals(rule)) { // the run's maxDeletesPerRun, reached across its shards
            ctx.events().emit(new RunEvent.SweepStopped(sweep, "cap", null, null));
            return true;
        }
        if (shared != null) {
            return hold(ctx, rule, rule + ": the run's limit of " + shared.total() + " deletions across its shards is "
                    + "used up (" + basis + ")");
        }
        return hold(ctx, rule, rule + ": this run would delete " + (done + next) + " (" + done + " so far, " + next
                + " next), past its limit of " + limit + " (" + basis + ")");
    }

    /**
     * Whether an assets page whose reference check kept {@code referenced} of {@code candidates} must not be deleted:
     * none referenced on a page of at least {@value #COLLAPSE_MIN_CANDIDATES}, where recent runs found at least 10%.
     */
    public boolean holdsCollapse(SweepContext ctx, int candidates, int referenced) {
        if (rule == null || "approved".equals(rule) || referencedShare == null
                || referencedShare < COLLAPSE_MIN_SHARE || candidates < COLLAPSE_MIN_CANDIDATES || referenced > 0) {
            return false;
        }
        return hold(ctx, "collapse", String.format(Locale.ROOT, "collapse: the reference check found none of a page's"
                + " %d candidates in use, where the last runs found %.0f%% referenced (a broken reference query or"
                + " join table?)", candidates, referencedShare * 100));
    }

    private boolean hold(SweepContext ctx, String tripped, String detail) {
        if (ctx.dryRun()) {
            if (!said) {
                said = true;
                ctx.events().emit(new RunEvent.SweepHeld(sweep, tripped, detail, true));
            }
            return false;
        }
        ctx.events().emit(new RunEvent.SweepHeld(sweep, tripped, detail, false));
        ctx.events().emit(new RunEvent.SweepStopped(sweep, "brake", null, null));
        return true;
    }
}
