package dev.reclaim.sweep;

import dev.reclaim.config.KeyGlob;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.ReferenceCheckFailed;
import dev.reclaim.db.ReferenceQuery;
import dev.reclaim.failure.Failure;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.store.Listing;
import dev.reclaim.store.StoreDeadlinePassed;
import dev.reclaim.store.Store;
import dev.reclaim.store.StoreThrottled;
import dev.reclaim.store.StoredAsset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Deletes abandoned uploads. Pages through the store under the configured prefix (memory is one page); per page,
 * keeps what does not match the glob or is younger than the retention, asks the database once which of the rest are
 * still referenced, right before deleting, and deletes the others in batches at the store's limit, checking every
 * key's result.
 */
public final class AssetSweep implements Sweep {
    private static final Logger log = LoggerFactory.getLogger(AssetSweep.class);

    private final SweepConfig.Assets config;
    /** On the key string itself (no file system, no locale): never throws, so no key is ever silently dropped. */
    private final KeyGlob match;
    private final ReferenceQuery referenced;

    public AssetSweep(SweepConfig.Assets config) {
        this.config = config;
        this.match = KeyGlob.compile(config.match());
        this.referenced = config.referenced() == null ? null : new ReferenceQuery("sweep " + config.name(), config.referenced());
    }

    @Override
    public String name() {
        return config.name();
    }

    /** Listing more than this many assets per eligible one is worth a warning ... */
    static final long LISTING_WARNING_RATIO = 10;
    /**
     * ... from this many listed: 2 Cloudinary list calls (500 a call), 1 S3 call (1,000 a call). Below it the waste is
     * a call or two a run, and a small or test folder would warn for nothing.
     */
    static final long LISTING_WARNING_MIN_SCANNED = 1_000;

    /** What one run of the sweep has done so far: the cap and the listing warning need it. */
    private static final class Progress {
        long listed;
        long eligible;
        long deleted;
        Brake brake;
    }

    @Override
    public void run(SweepContext ctx) throws SQLException {
        Instant cutoff = ctx.now().minus(config.olderThan());
        RunEvents events = ctx.events();
        events.emit(new RunEvent.SweepStarted(config.name(), "assets", cutoff));
        GuardedStore store = ctx.stores().get(config.store());
        long callsBefore = store.apiCalls();
        Progress progress = new Progress();
        progress.brake = ctx.brake(config);
        try {
            sweep(ctx, store, cutoff, progress);
            try (Connection c = ctx.dataSource().getConnection()) {
                ctx.flushFailures(c);
            }
        } catch (StoreThrottled e) {
            log.warn("sweep {} stopped: {}; the quota resets at {}", config.name(), e.getMessage(), e.resetsAt());
            events.emit(new RunEvent.SweepStopped(config.name(), "rateLimited", null, e.resetsAt()));
        } catch (ReferenceCheckFailed e) {
            log.error("sweep {} stopped: {}", config.name(), e.getMessage());
            events.emit(new RunEvent.SweepStopped(config.name(), "referenceCheckFailed",
                    "sweep " + config.name() + ": " + e.getMessage(), null));
        } catch (StoreDeadlinePassed e) {
            log.info("sweep {} stopped: {}", config.name(), e.getMessage());
            stop(events, "timeBudget");
        } finally {
            store.reportCalls(events, config.name(), callsBefore);
        }
        String listingWarning = listingWarning(store.name(), progress);
        if (listingWarning != null) {
            log.warn("sweep {}: {}", config.name(), listingWarning);
            events.emit(new RunEvent.ListingWarned(config.name(), listingWarning));
        }
        events.emit(new RunEvent.SweepFinished(config.name()));
    }

    private void stop(RunEvents events, String reason) {
        events.emit(new RunEvent.SweepStopped(config.name(), reason, null, null));
    }

    /**
     * Once the listing is over: a warning when it listed more than {@value #LISTING_WARNING_RATIO} times what was
     * eligible and at least {@value #LISTING_WARNING_MIN_SCANNED} assets, else null. The report carries it.
     */
    private String listingWarning(String store, Progress p) {
        if (p.listed < LISTING_WARNING_MIN_SCANNED || p.listed <= LISTING_WARNING_RATIO * p.eligible) {
            return null;
        }
        String ratio = p.eligible == 0 ? "none of them eligible"
                : String.format(java.util.Locale.ROOT, "%.1f listed per eligible one", (double) p.listed / p.eligible);
        return "listing inefficient: listed " + p.listed + " assets of store " + store + " under prefix '"
                + config.prefix() + "' to find " + p.eligible + " eligible (" + ratio + "; warned above "
                + LISTING_WARNING_RATIO + " from " + LISTING_WARNING_MIN_SCANNED + " listed); every listing call "
                + "spends the store's quota (Cloudinary: 1 Admin API call per 500 assets). Remedies: a narrower prefix; "
                + "a top-level temp folder (upload to temp/users/{userId}/... so the sweep lists only temp/); on "
                + "Cloudinary, a search expression on the temp folder";
    }

    private void sweep(SweepContext ctx, GuardedStore store, Instant cutoff, Progress progress) throws SQLException {
        RunEvents events = ctx.events();
        String cursor = null;
        // Orphans short of a full delete batch wait for the next page, so every delete call but the last is full.
        List<StoredAsset> carry = new ArrayList<>();
        do {
            if (ctx.deadlinePassed()) {
                stop(events, "timeBudget");
                return; // anything carried is listed again by the next run
            }
            ctx.checkRunLock();
            Listing page = store.list(config.prefix(), cutoff, cursor, ctx.deadlineAt());
            progress.listed += page.assets().size();
            events.emit(new RunEvent.PageListed(config.name(), store.name(), page.assets().size()));
            List<StoredAsset> listed = inPlan(ctx, store, page.assets());
            // Folders are judged on the path, references and deletes on the key (the same but in dynamic folders).
            passedOver(events, store, "outsideGlob", listed.stream().filter(a -> !match.matches(a.path())));
            passedOver(events, store, "tooYoung", listed.stream()
                    .filter(a -> match.matches(a.path()) && !a.createdAt().isBefore(cutoff)));
            Map<Boolean, List<StoredAsset>> allowed = listed.stream()
                    .filter(a -> match.matches(a.path()) && a.createdAt().isBefore(cutoff))
                    .collect(Collectors.partitioningBy(a -> store.guard().allows(a.path())));
            List<StoredAsset> candidates = allowed.get(true);
            List<String> refused = allowed.get(false).stream().map(StoredAsset::key).toList();
            if (!refused.isEmpty()) { // one event a page: a prefix misconfigured is a line per page, not per asset
                events.emit(new RunEvent.KeysRefused(config.name(), store.name(), refused, RunEvent.Source.SWEEP));
            }
            progress.eligible += candidates.size();
            events.emit(new RunEvent.ItemsEligible(config.name(), candidates.size()));
            long room = config.maxDeletesPerRun() - progress.deleted - carry.size();
            boolean capped = candidates.size() > room;
            if (capped) {
                candidates = candidates.subList(0, (int) Math.max(0, room));
            }
            List<StoredAsset> pending = Stream.concat(carry.stream(), candidates.stream()).toList();
            boolean lastPage = page.nextCursor() == null || capped;
            carry = pending.isEmpty() ? new ArrayList<>() : deleteOrphans(ctx, store, cutoff, pending, lastPage, progress);
            if (carry == null) {
                return;
            }
            if (progress.deleted >= config.maxDeletesPerRun()) {
                stop(events, "cap");
                return;
            }
            cursor = page.nextCursor();
        } while (cursor != null);
    }

    /** Applying a plan: only the listed assets it holds (one query a page); otherwise all of them. */
    private List<StoredAsset> inPlan(SweepContext ctx, GuardedStore store, List<StoredAsset> listed) throws SQLException {
        if (ctx.plan() == null || listed.isEmpty()) {
            return listed;
        }
        Set<String> held;
        try (Connection c = ctx.dataSource().getConnection()) {
            held = Set.copyOf(ctx.plan().admit(c, config.name(), store.name(), listed.stream().map(StoredAsset::key).toList()));
        }
        return listed.stream().filter(a -> held.contains(a.key())).toList();
    }

    private void passedOver(RunEvents events, GuardedStore store, String reason, Stream<StoredAsset> assets) {
        List<String> keys = assets.map(StoredAsset::key).toList();
        if (!keys.isEmpty()) {
            events.emit(new RunEvent.AssetsPassedOver(config.name(), store.name(), reason, keys));
        }
    }

    /**
     * Checks {@code pending} against the database (one query), deletes the unreferenced in full batches and returns
     * the orphans short of a full batch for the next page (none when {@code flush}); null when the time budget ends
     * the sweep.
     */
    private List<StoredAsset> deleteOrphans(SweepContext ctx, GuardedStore store, Instant cutoff, List<StoredAsset> pending,
                                            boolean flush, Progress progress) throws SQLException {
        RunEvents events = ctx.events();
        Set<String> referenced = referenced(ctx, cutoff, pending.stream().map(StoredAsset::key).toList());
        events.emit(new RunEvent.KeysKept(config.name(), store.name(), List.copyOf(referenced), RunEvent.Source.SWEEP));
        List<StoredAsset> orphans = pending.stream().filter(a -> !referenced.contains(a.key())).toList();
        if (progress.brake.holdsCollapse(ctx, pending.size(), referenced.size())) {
            return null; // the sweep deletes nothing more; the next run (approved, or with the query fixed) lists again
        }
        int now = flush ? orphans.size() : orphans.size() / store.maxBatch() * store.maxBatch();
        List<StoredAsset> later = new ArrayList<>(orphans.subList(now, orphans.size()));
        if (ctx.dryRun()) {
            // The store's own reference check runs too, so the dry run keeps exactly what the real run would keep.
            for (List<StoredAsset> batch : store.batches(orphans.subList(0, now))) {
                progress.brake.holdsVolume(ctx, progress.deleted, batch.size()); // says so once, counts on
                Set<String> inUse = store.inUse(batch.stream().map(StoredAsset::key).toList(), ctx.deadlineAt());
                events.emit(new RunEvent.KeysKept(config.name(), store.name(), List.copyOf(inUse), RunEvent.Source.SWEEP));
                List<StoredAsset> would = batch.stream().filter(a -> !inUse.contains(a.key())).toList();
                progress.deleted += would.size();
                Map<String, Long> sizes = new LinkedHashMap<>();
                would.forEach(a -> sizes.put(a.key(), a.bytes()));
                events.emit(new RunEvent.KeysDeleted(config.name(), store.name(), List.copyOf(sizes.keySet()),
                        would.stream().mapToLong(StoredAsset::bytes).sum(), RunEvent.Source.SWEEP, sizes));
            }
            return later;
        }
        Map<String, StoredAsset> listed = new HashMap<>();
        orphans.subList(0, now).forEach(a -> listed.put(a.key(), a));
        List<String> keys = orphans.subList(0, now).stream().map(StoredAsset::key).toList();
        for (List<String> batch : store.batches(keys)) {
            if (ctx.deadlinePassed()) {
                stop(events, "timeBudget");
                return null;
            }
            if (progress.brake.holdsVolume(ctx, progress.deleted, batch.size())) {
                return null;
            }
            GuardedStore.Call call = store.deleteBatch(batch, listed, ctx.deadlineAt());
            settle(ctx, store, call.result(), listed, call.errorClass(), progress);
        }
        return later;
    }

    /** Reports one delete call's result and records its failed keys for retry. */
    private void settle(SweepContext ctx, GuardedStore store, BatchResult result, Map<String, StoredAsset> listed,
                        String errorClass, Progress progress) throws SQLException {
        RunEvents events = ctx.events();
        if (!result.refused().isEmpty()) {
            events.emit(new RunEvent.KeysRefused(config.name(), store.name(), result.refused(), RunEvent.Source.SWEEP));
        }
        if (!result.kept().isEmpty()) {
            events.emit(new RunEvent.KeysKept(config.name(), store.name(), result.kept(), RunEvent.Source.SWEEP));
        }
        progress.deleted += result.deleted().size();
        events.emit(new RunEvent.KeysDeleted(config.name(), store.name(), result.deleted(),
                result.deleted().stream().mapToLong(k -> listed.containsKey(k) ? listed.get(k).bytes() : 0L).sum(),
                RunEvent.Source.SWEEP));
        if (!result.failed().isEmpty()) {
            events.emit(new RunEvent.KeysFailed(config.name(), store.name(), result.failed(), errorClass,
                    RunEvent.Source.SWEEP));
            List<String> failedKeys = new ArrayList<>(result.failed().keySet());
            try (Connection c = ctx.dataSource().getConnection()) {
                ctx.recordFailure(c, Failure.keys(Failure.ASSET, config.name(), store.name(), failedKeys, errorClass,
                        result.failed().values().iterator().next(), ctx.runId().toString(), ctx.now()));
            }
        }
    }

    /**
     * Retries a failed batch: re-checks the keys against the reference query and deletes those still unreferenced.
     * Returns null on success (deleted, already gone, or now referenced and so kept), else the error.
     */
    public String retry(SweepContext ctx, List<String> keys) throws SQLException {
        GuardedStore store = ctx.stores().get(config.store());
        if (!store.keysArePaths()) {
            // A public id alone does not say its folder, so the guard cannot pass it here; the assets are still in
            // their temp folder, and the sweep's next listing finds (and deletes) them: nothing is lost.
            log.info("retry of {} assets of sweep {} left to its next listing (dynamic folder mode)", keys.size(),
                    config.name());
            return null;
        }
        for (String k : keys) {
            if (!store.guard().allows(k) || !match.matches(k)) {
                return "key " + k + " is outside the sweep's glob or the store's allowed prefixes";
            }
        }
        Set<String> referenced;
        try {
            referenced = referenced(ctx, ctx.now().minus(config.olderThan()), keys);
        } catch (ReferenceCheckFailed e) {
            return e.getMessage();
        }
        List<String> orphans = keys.stream().filter(k -> !referenced.contains(k)).toList();
        if (ctx.dryRun() || orphans.isEmpty()) {
            return null;
        }
        return store.again(orphans, ctx.deadlineAt(), false);
    }

    /**
     * One query for the whole page: which of these keys does the application still reference? Every value it returns
     * must be one of the keys it was given, or it is checking something else and the sweep stops.
     */
    private Set<String> referenced(SweepContext ctx, Instant cutoff, List<String> keys) throws SQLException {
        if (referenced == null) {
            return Set.of(); // the store's own reference check runs before every delete call
        }
        try (Connection c = ctx.dataSource().getConnection()) {
            return referenced.stillReferenced(c, keys, cutoff, 0);
        }
    }
}
