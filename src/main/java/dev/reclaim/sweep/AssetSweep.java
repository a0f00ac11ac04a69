package dev.reclaim.sweep;

import dev.reclaim.config.KeyGlob;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.ReferenceCheckFailed;
import dev.reclaim.db.ReferenceQuery;
import dev.reclaim.failure.Failure;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Folders;
import dev.reclaim.store.GuardedStore;
import dev.reclaim.store.Listing;
import dev.reclaim.store.ListingCursorRefused;
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
import java.util.TreeSet;
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

    public SweepConfig.Assets config() {
        return config;
    }

    /** Listing more than this many assets per eligible one is worth a warning ... */
    static final long LISTING_WARNING_RATIO = 10;
    /**
     * ... from this many listed: 2 Cloudinary list calls (500 a call), 1 S3 call (1,000 a call). Below it the waste is
     * a call or two a run, and a small or test folder would warn for nothing.
     */
    static final long LISTING_WARNING_MIN_SCANNED = 1_000;

    /** What one run of the sweep has done so far: the cap, the listing warning and the listing's position need it. */
    private static final class Progress {
        long listed;
        long eligible;
        long deleted;
        Brake brake;
        /** Pages listed in this run. */
        long pages;
        /** Where the next run resumes (null: the start), and the last key before it: moved on past settled pages only. */
        String resume;
        String resumeKey;
        /** The last key this run looked at. */
        String lastSeen;
        boolean wrapped;
        /** The run stops holding orphans short of a delete batch (they are listed again from {@link #resume}). */
        boolean carried;
        /** The previous run stopped holding some: this one settles its first page before listing on. */
        boolean settleFirstPage;
        String restarted;
        long cursorsRefused;
    }

    @Override
    public void run(SweepContext ctx) throws SQLException {
        run(ctx, null);
    }

    /**
     * The keys of {@code range} only (a shard of a fanned-out run: after {@code after}, up to and with {@code upTo},
     * null for open), with the same retention, glob, prefix guard, reference checks, brake and journal; each page is
     * settled before the next, and its last key told to {@code range.pageDone()}, so a redelivered shard resumes there.
     * A shard keeps no listing position of the sweep's: its row is its position.
     */
    public void run(SweepContext ctx, RecordSweep.Range range) throws SQLException {
        Instant cutoff = ctx.now().minus(config.olderThan());
        RunEvents events = ctx.events();
        events.emit(new RunEvent.SweepStarted(config.name(), "assets", cutoff));
        GuardedStore store = ctx.stores().get(config.store());
        long callsBefore = store.apiCalls();
        Progress progress = new Progress();
        progress.brake = ctx.brake(config);
        ListingPosition from = range == null ? resumeFrom(ctx, store, progress) : null;
        if (range != null) {
            progress.resume = range.after();
        }
        try {
            sweep(ctx, store, cutoff, progress, range);
            try (Connection c = ctx.dataSource().getConnection()) {
                ctx.flushFailures(c);
            }
        } catch (ListingCursorRefused e) {
            log.warn("sweep {} stopped: {}; the next run resumes from the last page it settled", config.name(),
                    e.getMessage());
            events.emit(new RunEvent.SweepStopped(config.name(), "cursorRefused", e.getMessage(), null));
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
        progress.brake.giveBack(progress.deleted); // a shard's unused share of its run's limit
        if (from != null) {
            keepPosition(ctx, from, progress);
        }
        String listingWarning = listingWarning(store.name(), progress);
        if (listingWarning != null) {
            log.warn("sweep {}: {}", config.name(), listingWarning);
            events.emit(new RunEvent.ListingWarned(config.name(), listingWarning));
        }
        events.emit(new RunEvent.SweepFinished(config.name()));
    }

    /**
     * The position this run starts from: the one kept for the sweep, unless it belongs to another store, scope or
     * prefix (then the start, and the report says the configuration changed).
     */
    private ListingPosition resumeFrom(SweepContext ctx, GuardedStore store, Progress progress) throws SQLException {
        String fingerprint = ListingPosition.fingerprint(store.name(), store.listingScope(), config.prefix());
        ListingPosition kept;
        try (Connection c = ctx.dataSource().getConnection()) {
            kept = ListingPosition.read(c, config.name());
        }
        ListingPosition from = kept != null && kept.fingerprint().equals(fingerprint) ? kept
                : ListingPosition.start(config.name(), fingerprint);
        if (kept != null && from != kept) {
            progress.restarted = "configurationChanged";
            log.info("sweep {}: its store or prefix changed since its listing position was kept; it starts over",
                    config.name());
        }
        progress.resume = from.cursor();
        progress.resumeKey = from.lastKey();
        progress.settleFirstPage = from.carried();
        return from;
    }

    /**
     * Keeps where the next run resumes (not in a dry run, nor applying a plan: those leave the position as it was)
     * and reports where the listing went.
     */
    private void keepPosition(SweepContext ctx, ListingPosition from, Progress p) throws SQLException {
        ListingPosition next = new ListingPosition(config.name(), from.fingerprint(), p.resume, p.resumeKey,
                from.passes() + (p.wrapped ? 1 : 0), p.carried, from.cursorRefused() + p.cursorsRefused, null);
        boolean keep = !ctx.dryRun() && ctx.plan() == null && p.pages > 0;
        if (keep) {
            try (Connection c = ctx.dataSource().getConnection()) {
                next.save(c, ctx.runId());
            }
        }
        ctx.events().emit(new RunEvent.ListingProgressed(config.name(), from.lastKey(), p.lastSeen, p.wrapped,
                next.passes(), p.restarted, keep));
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

    private void sweep(SweepContext ctx, GuardedStore store, Instant cutoff, Progress progress, RecordSweep.Range range)
            throws SQLException {
        RunEvents events = ctx.events();
        String cursor = progress.resume;
        // Orphans short of a full delete batch wait for the next page, so every delete call but the last is full.
        // The position moves on only past a page whose orphans are settled: what is carried is listed again next run.
        List<StoredAsset> carry = new ArrayList<>();
        while (true) {
            if (ctx.deadlinePassed()) {
                stop(events, "timeBudget");
                return;
            }
            if (progress.pages >= config.maxListPagesPerRun()) {
                stop(events, "listPages");
                return;
            }
            ctx.checkRunLock();
            Listing page;
            try {
                page = store.list(config.prefix(), cutoff, cursor, ctx.deadlineAt());
            } catch (ListingCursorRefused e) {
                if (progress.pages > 0 || cursor == null) {
                    throw e; // a cursor of this run's own: the sweep stops, the position stays where it was settled
                }
                // Kept from an earlier run and no longer valid: start over rather than guess where it pointed.
                log.warn("sweep {}: {}; its listing starts over", config.name(), e.getMessage());
                progress.restarted = "cursorRefused";
                progress.cursorsRefused++;
                progress.resume = null;
                progress.resumeKey = null;
                cursor = null;
                continue;
            }
            page = within(page, range);
            progress.pages++;
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
            // The run's last page (or, after a run that stopped holding orphans, its first) settles what it holds.
            // A shard settles every page: its row keeps only a position whose orphans are all settled.
            boolean settle = page.nextCursor() == null || capped || progress.pages >= config.maxListPagesPerRun()
                    || (progress.pages == 1 && progress.settleFirstPage) || range != null;
            carry = pending.isEmpty() ? new ArrayList<>() : deleteOrphans(ctx, store, cutoff, pending, settle, progress);
            if (carry == null) {
                return;
            }
            if (!page.assets().isEmpty()) {
                progress.lastSeen = page.assets().get(page.assets().size() - 1).key();
            }
            if (capped) {
                stop(events, "cap"); // the page's other candidates are listed again by the next run
                return;
            }
            if (range != null && !page.assets().isEmpty()) {
                range.pageDone().done(progress.lastSeen);
            }
            if (carry.isEmpty()) {
                progress.resume = page.nextCursor();
                progress.resumeKey = page.nextCursor() == null ? null : progress.lastSeen;
                progress.wrapped = page.nextCursor() == null;
            }
            progress.carried = !carry.isEmpty();
            if (progress.deleted >= config.maxDeletesPerRun()) {
                stop(events, "cap");
                return;
            }
            cursor = page.nextCursor();
            if (cursor == null) {
                return;
            }
        }
    }

    /** Where a fan-out cut the sweep's prefix: the shards' ends, the names listed, and whether that was all of them. */
    public record ShardCut(List<String> ends, long names, boolean whole) {
    }

    /**
     * Where a fanned-out run cuts the sweep's prefix into key ranges: at every {@code shardSize}-th name one level
     * under it (a folder, whatever it holds, or a key), listed {@value #CUT_PAGE_BOUND} pages at most so the run stays
     * cheap however many keys lie below; the last range is open-ended, so what lies past the names listed, or arrives
     * after the cut, is still some shard's. Any ends partition the keys: a shard takes those after its start up to and
     * with its end, in S3's order. Throws {@link UnsupportedOperationException} for a store without folders.
     */
    public ShardCut shardEnds(SweepContext ctx, long shardSize) {
        GuardedStore store = ctx.stores().get(config.store());
        List<String> ends = new ArrayList<>();
        long names = 0;
        String token = null;
        for (int page = 0; page < CUT_PAGE_BOUND; page++) {
            Folders folders = store.folders(config.prefix(), token, ctx.deadlineAt());
            for (String name : folders.names()) {
                if (names > 0 && names % shardSize == 0) {
                    ends.add(name); // the first name of the next shard ends this one: its folder's keys sort after it
                }
                names++;
            }
            token = folders.nextToken();
            if (token == null) {
                return new ShardCut(ends, names, true);
            }
        }
        return new ShardCut(ends, names, false);
    }

    /** Pages of names a fan-out lists at most to cut its shards (1,000 names a page). */
    static final int CUT_PAGE_BOUND = 100;

    /**
     * What a shard of this sweep was cut under: the sweep's configuration and its store, bucket and prefix. A shard
     * cut under another is not purged under this one.
     */
    public String shardFingerprint(GuardedStore store) {
        return dev.reclaim.config.ConfigInForce.hash(config) + " "
                + ListingPosition.fingerprint(store.name(), store.listingScope(), config.prefix());
    }

    /** A shard's page: the keys up to its range's end; past it, the listing ends. */
    private static Listing within(Listing page, RecordSweep.Range range) {
        if (range == null || range.upTo() == null) {
            return page;
        }
        List<StoredAsset> assets = page.assets();
        int in = 0;
        while (in < assets.size() && Store.compareKeys(assets.get(in).key(), range.upTo()) <= 0) {
            in++;
        }
        return in == assets.size() ? page : new Listing(assets.subList(0, in), null);
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
        Map<String, String> leftToOthers = leftToOthers(ctx, store, orphans);
        if (!leftToOthers.isEmpty()) {
            for (String reason : new TreeSet<>(leftToOthers.values())) {
                passedOver(events, store, reason, orphans.stream().filter(a -> reason.equals(leftToOthers.get(a.key()))));
            }
            orphans = orphans.stream().filter(a -> !leftToOthers.containsKey(a.key())).toList();
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
            // A shard deletes up to what its run's limit, counted across the shards, still allows, then stops.
            int allowed = (int) progress.brake.take(progress.deleted, batch.size());
            List<String> over = batch.subList(allowed > 0 ? allowed : batch.size(), batch.size());
            batch = batch.subList(0, batch.size() - over.size());
            if (progress.brake.holdsVolume(ctx, progress.deleted, batch.size())) {
                return null;
            }
            GuardedStore.Call call = store.deleteBatch(batch, listed, ctx.deadlineAt());
            settle(ctx, store, call.result(), listed, call.errorClass(), progress);
            if (!over.isEmpty() && progress.brake.holdsVolume(ctx, progress.deleted, over.size())) {
                return null;
            }
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
     * Retries a failed batch: looks each key up in its store and keeps what is gone or younger than the retention now
     * (the same key uploaded again since the failed delete is a new file), re-checks the rest against the reference
     * query and deletes those still unreferenced. Returns null on success (deleted, already gone, young or now
     * referenced and so kept: a kept key is judged again by a later listing), else the error.
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
                throw new OutsideTheSweep("key " + k + " is outside the glob of sweep " + config.name()
                        + " or the allowed prefixes of store " + store.name() + ": no retry can delete it");
            }
        }
        Instant cutoff = ctx.now().minus(config.olderThan());
        Map<String, StoredAsset> held = store.lookUp(keys, ctx.deadlineAt());
        List<String> old = keys.stream().filter(k -> held.containsKey(k) && held.get(k).createdAt().isBefore(cutoff))
                .toList();
        long young = keys.stream().filter(held::containsKey).count() - old.size();
        if (young > 0) {
            log.info("retry of sweep {} keeps {} keys uploaded again since their delete failed (younger than {})",
                    config.name(), young, config.olderThan());
        }
        Set<String> referenced;
        try {
            referenced = old.isEmpty() ? Set.of() : referenced(ctx, cutoff, old);
        } catch (ReferenceCheckFailed e) {
            return e.getMessage();
        }
        Map<String, String> leftToOthers = leftToOthers(ctx, store, old.stream().map(held::get).toList());
        List<String> orphans = old.stream().filter(k -> !referenced.contains(k) && !leftToOthers.containsKey(k)).toList();
        if (ctx.dryRun() || orphans.isEmpty()) {
            return null;
        }
        return store.again(orphans, ctx.deadlineAt(), false, ctx.events(), config.name());
    }

    /** A retried key this sweep may never delete (outside its glob or its store's prefixes): the message is wrong. */
    public static final class OutsideTheSweep extends RuntimeException {
        public OutsideTheSweep(String message) {
            super(message);
        }
    }

    /**
     * Which of these orphans others delete, and why: pending in the outbox (a record's file under this sweep's prefix,
     * its delete failed), or deleted meanwhile by a drain or retry elsewhere. Deleted here too, they would be counted
     * twice (S3 answers a delete of a gone key as deleted). Asked after the references: a key enters the outbox as its
     * rows go.
     */
    private static Map<String, String> leftToOthers(SweepContext ctx, GuardedStore store, List<StoredAsset> orphans)
            throws SQLException {
        if (orphans.isEmpty()) {
            return Map.of();
        }
        Map<String, Instant> listed = new LinkedHashMap<>();
        orphans.forEach(a -> listed.put(a.key(), a.createdAt()));
        try (Connection c = ctx.dataSource().getConnection()) {
            return ctx.leftToOthers(c, store.name(), listed);
        }
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
