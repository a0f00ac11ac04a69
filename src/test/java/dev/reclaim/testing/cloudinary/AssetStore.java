package dev.reclaim.testing.cloudinary;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.function.Consumer;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * In-memory asset indexes. One bucket per (resource_type, type), each with a map sorted by public_id (prefix
 * listing) and a set sorted by created_at (listing without prefix); plus an index per asset folder. All access
 * goes through one read/write lock, so listing pages are consistent snapshots.
 */
final class AssetStore {

    /** created_at, then public_id: the order inside one bucket. */
    static final Comparator<Asset> BY_CREATED = Comparator.comparing(Asset::createdAt)
            .thenComparing(Asset::publicId);

    /** created_at, then type, then public_id: the order across the types of one resource type. */
    static final Comparator<Asset> BY_CREATED_TYPE = Comparator.comparing(Asset::createdAt)
            .thenComparing(Asset::type)
            .thenComparing(Asset::publicId);

    /** created_at, then resource_type, type, public_id: the order inside one asset folder. */
    static final Comparator<Asset> BY_CREATED_FULL = Comparator.comparing(Asset::createdAt)
            .thenComparing(Asset::resourceType)
            .thenComparing(Asset::type)
            .thenComparing(Asset::publicId);

    private static final class Bucket {
        final TreeMap<String, Asset> byId = new TreeMap<>();
        final TreeSet<Asset> byCreated = new TreeSet<>(BY_CREATED);
    }

    /** One page of a listing; {@code next} is the last asset returned when more follow, else null. */
    record Page(List<Asset> assets, Asset next) {
    }

    /** Outcome of a delete: per requested id "deleted" or "not_found", and whether more matched than were deleted. */
    record DeleteOutcome(Map<String, Boolean> deleted, boolean partial) {
    }

    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, Bucket> buckets = new HashMap<>();
    private final Map<String, TreeSet<Asset>> byFolder = new HashMap<>();
    private int size;

    private static String key(String resourceType, String type) {
        return resourceType + '/' + type;
    }

    void put(Iterable<Asset> assets) {
        lock.writeLock().lock();
        try {
            // one pass per index: far better cache behaviour than touching three trees per asset
            List<Asset> batch = new ArrayList<>();
            Set<Asset> superseded = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Asset a : assets) {
                Bucket b = buckets.computeIfAbsent(key(a.resourceType(), a.type()), k -> new Bucket());
                Asset old = b.byId.put(a.publicId(), a);
                if (old != null) {
                    unindex(b, old);
                    superseded.add(old); // may be an earlier asset of this very batch
                } else {
                    size++;
                }
                batch.add(a);
            }
            if (!superseded.isEmpty()) {
                batch.removeIf(superseded::contains);
            }
            Bucket last = null;
            String lastKey = null;
            for (Asset a : batch) {
                String k = key(a.resourceType(), a.type());
                if (!k.equals(lastKey)) {
                    last = buckets.get(k);
                    lastKey = k;
                }
                last.byCreated.add(a);
            }
            TreeSet<Asset> folder = null;
            String folderName = null;
            for (Asset a : batch) {
                if (!a.assetFolder().equals(folderName)) {
                    folderName = a.assetFolder();
                    folder = byFolder.computeIfAbsent(folderName, k -> new TreeSet<>(BY_CREATED_FULL));
                }
                folder.add(a);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void unindex(Bucket b, Asset old) {
        b.byCreated.remove(old);
        TreeSet<Asset> folder = byFolder.get(old.assetFolder());
        if (folder != null) {
            folder.remove(old);
            if (folder.isEmpty()) {
                byFolder.remove(old.assetFolder());
            }
        }
    }

    private Asset removeLocked(Bucket b, String publicId) {
        Asset old = b.byId.remove(publicId);
        if (old != null) {
            unindex(b, old);
            size--;
        }
        return old;
    }

    /** Puts {@code asset} back unless one with its key exists; false when one does. */
    boolean putIfAbsent(Asset asset) {
        lock.writeLock().lock();
        try {
            Bucket b = buckets.get(key(asset.resourceType(), asset.type()));
            if (b != null && b.byId.containsKey(asset.publicId())) {
                return false;
            }
            put(List.of(asset)); // reentrant: the write lock is held
            return true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    void clear() {
        lock.writeLock().lock();
        try {
            buckets.clear();
            byFolder.clear();
            size = 0;
        } finally {
            lock.writeLock().unlock();
        }
    }

    int size() {
        lock.readLock().lock();
        try {
            return size;
        } finally {
            lock.readLock().unlock();
        }
    }

    Optional<Asset> get(String resourceType, String type, String publicId) {
        lock.readLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            return Optional.ofNullable(b == null ? null : b.byId.get(publicId));
        } finally {
            lock.readLock().unlock();
        }
    }

    List<String> publicIds(String resourceType, String type) {
        lock.readLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            return b == null ? List.of() : List.copyOf(b.byId.keySet());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Prefix listing: sorted by public_id ascending, starting after {@code afterId} (exclusive) when not null. */
    Page listByPrefix(String resourceType, String type, String prefix, String afterId, int max) {
        lock.readLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            if (b == null) {
                return new Page(List.of(), null);
            }
            Map<String, Asset> tail = afterId != null && afterId.compareTo(prefix) >= 0
                    ? b.byId.tailMap(afterId, false)
                    : b.byId.tailMap(prefix, true);
            List<Asset> out = new ArrayList<>(Math.min(max, 64));
            for (Asset a : tail.values()) {
                if (!a.publicId().startsWith(prefix)) {
                    break;
                }
                if (out.size() == max) {
                    return new Page(out, out.get(out.size() - 1));
                }
                out.add(a);
            }
            return new Page(out, null);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Listing of one bucket by created_at; {@code after} is the last asset of the previous page or null. */
    Page listByCreated(String resourceType, String type, boolean descending, Asset after, int max) {
        lock.readLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            if (b == null) {
                return new Page(List.of(), null);
            }
            return page(b.byCreated, descending, after, max);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Listing of every type of one resource type by created_at, merged; order (created_at, type, public_id). */
    Page listResourceType(String resourceType, boolean descending, Asset after, int max) {
        lock.readLock().lock();
        try {
            List<Asset> merged = new ArrayList<>();
            String keyPrefix = resourceType + '/';
            for (Map.Entry<String, Bucket> e : buckets.entrySet()) {
                if (!e.getKey().startsWith(keyPrefix)) {
                    continue;
                }
                String bucketType = e.getKey().substring(keyPrefix.length());
                NavigableSet<Asset> view = descending ? e.getValue().byCreated.descendingSet() : e.getValue().byCreated;
                if (after != null) {
                    view = resumeAfter(view, descending, bucketType, after);
                }
                int taken = 0;
                for (Asset a : view) {
                    merged.add(a);
                    if (++taken > max) {
                        break;
                    }
                }
            }
            merged.sort(descending ? BY_CREATED_TYPE.reversed() : BY_CREATED_TYPE);
            return cut(merged, max);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The part of one bucket (all of type {@code bucketType}, ordered by created_at then public_id) that follows
     * {@code after} in the merged order (created_at, type, public_id). A one-NUL-character id sorts first.
     */
    private static NavigableSet<Asset> resumeAfter(NavigableSet<Asset> view, boolean descending, String bucketType,
            Asset after) {
        int cmp = bucketType.compareTo(after.type());
        if (cmp == 0) {
            return view.tailSet(after, false);
        }
        Instant c = after.createdAt();
        Asset atC = probe(c, after.resourceType(), bucketType, "\0");
        Asset afterC = probe(c.plusSeconds(1), after.resourceType(), bucketType, "\0");
        if (!descending) {
            // types after the cursor's type resume at created_at >= C, earlier types at created_at > C
            return cmp > 0 ? view.tailSet(atC, true) : view.tailSet(afterC, true);
        }
        // descending: types before the cursor's type resume at created_at <= C, later types at created_at < C
        return cmp < 0 ? view.tailSet(afterC, false) : view.tailSet(atC, false);
    }

    /** Listing of one asset folder (no recursion) by created_at; order (created_at, resource_type, type, id). */
    Page listFolder(String folder, boolean descending, Asset after, int max) {
        lock.readLock().lock();
        try {
            TreeSet<Asset> set = byFolder.get(folder);
            if (set == null) {
                return new Page(List.of(), null);
            }
            return page(set, descending, after, max);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** One page of a search, and how many assets matched in all. */
    record SearchPage(List<Asset> assets, Asset next, int total) {
    }

    /**
     * Search over every asset: those matching {@code filter}, in {@code order}, starting after {@code after}
     * (exclusive) when not null. A full scan per page, fine at test sizes; pages are consistent snapshots.
     */
    SearchPage search(java.util.function.Predicate<Asset> filter, Comparator<Asset> order, Asset after, int max) {
        lock.readLock().lock();
        try {
            List<Asset> matched = new ArrayList<>();
            for (TreeSet<Asset> folder : byFolder.values()) {
                for (Asset a : folder) {
                    if (filter.test(a)) {
                        matched.add(a);
                    }
                }
            }
            matched.sort(order);
            int from = 0;
            if (after != null) {
                int at = Collections.binarySearch(matched, after, order);
                from = at >= 0 ? at + 1 : -at - 1;
            }
            int to = Math.min(matched.size(), from + max);
            List<Asset> out = new ArrayList<>(matched.subList(from, to));
            return new SearchPage(out, to < matched.size() ? out.get(out.size() - 1) : null, matched.size());
        } finally {
            lock.readLock().unlock();
        }
    }

    private static Page page(NavigableSet<Asset> set, boolean descending, Asset after, int max) {
        NavigableSet<Asset> view = descending ? set.descendingSet() : set;
        if (after != null) {
            view = view.tailSet(after, false);
        }
        List<Asset> out = new ArrayList<>(Math.min(max, 64));
        Iterator<Asset> it = view.iterator();
        while (it.hasNext()) {
            Asset a = it.next();
            if (out.size() == max) {
                return new Page(out, out.get(out.size() - 1));
            }
            out.add(a);
        }
        return new Page(out, null);
    }

    private static Page cut(List<Asset> sorted, int max) {
        if (sorted.size() > max) {
            List<Asset> out = new ArrayList<>(sorted.subList(0, max));
            return new Page(out, out.get(max - 1));
        }
        return new Page(sorted, null);
    }

    /** Deletes the given ids; the result keeps request order, duplicates collapse. */
    DeleteOutcome delete(String resourceType, String type, List<String> publicIds) {
        return delete(resourceType, type, publicIds, a -> { });
    }

    /** Deletes the given ids, handing each asset removed to {@code removed} (under the lock, so no one sees it gone first). */
    DeleteOutcome delete(String resourceType, String type, List<String> publicIds, Consumer<Asset> removed) {
        lock.writeLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            Map<String, Boolean> result = new LinkedHashMap<>();
            for (String id : publicIds) {
                Asset old = b == null ? null : removeLocked(b, id);
                if (old != null) {
                    removed.accept(old);
                }
                result.merge(id, old != null, Boolean::logicalOr);
            }
            return new DeleteOutcome(result, false);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Deletes up to {@code limit} assets whose id starts with {@code prefix} ("" = all of the bucket). */
    DeleteOutcome deleteByPrefix(String resourceType, String type, String prefix, int limit, Consumer<Asset> removed) {
        lock.writeLock().lock();
        try {
            Bucket b = buckets.get(key(resourceType, type));
            Map<String, Boolean> result = new LinkedHashMap<>();
            if (b == null) {
                return new DeleteOutcome(result, false);
            }
            List<String> victims = new ArrayList<>();
            boolean more = false;
            for (String id : b.byId.tailMap(prefix, true).keySet()) {
                if (!id.startsWith(prefix)) {
                    break;
                }
                if (victims.size() == limit) {
                    more = true;
                    break;
                }
                victims.add(id);
            }
            for (String id : victims) {
                removed.accept(removeLocked(b, id));
                result.put(id, true);
            }
            return new DeleteOutcome(result, more);
        } finally {
            lock.writeLock().unlock();
        }
    }

    static Asset probe(Instant createdAt, String resourceType, String type, String publicId) {
        return new Asset(publicId, resourceType, type, createdAt, 0, null, "");
    }
}
