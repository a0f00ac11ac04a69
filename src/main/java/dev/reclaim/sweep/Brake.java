package dev.reclaim.sweep;

import dev.reclaim.report.RunEvent;

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
    private final long limit;
    private final String rule;
    private final String basis;
    private final Double referencedShare;
    /** A dry run says once that the brake would hold. */
    private boolean said;

    public Brake(String sweep, long limit, String rule, String basis, Double referencedShare) {
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

    public long limit() {
        return limit;
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
