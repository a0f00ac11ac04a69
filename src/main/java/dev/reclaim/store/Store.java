package dev.reclaim.store;

import dev.reclaim.report.RunEvent;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One place files live in (an S3 bucket, a Cloudinary environment). Deletes in batches no larger than
 * {@link #maxBatch()} and reports every key's outcome; a key that is already gone counts as deleted.
 */
public interface Store {

    String name();

    /**
     * Of {@code keys}, those the store's reference query finds still held by a row of the application (none when the
     * store declares no query). Deletes nothing; {@link #delete} runs the same check itself before every call.
     */
    default Set<String> inUse(List<String> keys, Instant deadline) {
        return Set.of();
    }

    /** The most keys one delete call may carry (S3: 1000, Cloudinary: 100). */
    int maxBatch();

    /** Keys of one batch refused alone before a refusal is taken as not about the keys ({@link GuardedStore}). */
    default int maxRefusedKeys() {
        return 10;
    }

    /** The prefixes this store may delete under; anything else is refused before it reaches the API ({@link Stores}). */
    PrefixGuard guard();

    /**
     * Deletes {@code keys} (at most {@link #maxBatch()}; those outside the guard come back refused): for a store's
     * API one call, {@link BatchRefused} when it refuses the request as malformed. Throws when the whole call
     * failed ({@link StoreThrottled} when the quota does not allow it, {@link StoreDeadlinePassed} when
     * {@code deadline} passed first); per-key failures come back in the result. No call outlives {@code deadline}
     * (null: no deadline).
     */
    BatchResult delete(List<String> keys, Instant deadline);

    /**
     * The same, with what a listing said of each key ({@code listed}: its path, which the prefix guard judges, and its
     * bytes, which the deletion journal keeps); a key not listed is judged on itself.
     */
    default BatchResult delete(List<String> keys, Map<String, StoredAsset> listed, Instant deadline) {
        return delete(keys, deadline);
    }

    /**
     * One page of everything under {@code prefix} (S3: 1000 items, Cloudinary: 500); pass the previous page's cursor
     * (null for the first), from this run or, to resume, from an earlier one (S3: the last key listed, valid for
     * ever; Cloudinary: its {@code next_cursor}, whose lifetime is not documented: {@link ListingCursorRefused} when
     * it is refused). A store that can filter by age in its listing leaves out what was created at or after
     * {@code createdBefore} (null: no filter); the others list everything, and the caller filters. Throws {@link StoreThrottled} when the store's quota does not allow the call, and
     * {@link StoreDeadlinePassed} when {@code deadline} (null: none) passed before the call could finish.
     */
    Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline);

    /**
     * What the store holds now under each of {@code keys} (when it was created, its size and path, as a listing says):
     * a key it does not hold is left out. A key back from the failure pipeline is judged on this, not on the listing
     * that found it: it may have been uploaded again since. Throws like {@link #list}.
     */
    default Map<String, StoredAsset> lookUp(List<String> keys, Instant deadline) {
        throw new UnsupportedOperationException("store " + name() + " cannot look keys up");
    }

    /**
     * One page of the folders and keys one level under {@code prefix} (S3: ListObjectsV2 with {@code Delimiter /}),
     * in listing order: what a fanned-out sweep cuts its key ranges at. Stores without folders in their listing
     * cannot: Cloudinary sweeps are never fanned out.
     */
    default Folders folders(String prefix, String token, Instant deadline) {
        throw new UnsupportedOperationException("store " + name() + " cannot list one level under a prefix");
    }

    /** Orders keys as S3 lists them: by UTF-8 bytes, which is the order of their code points (not of Java's chars). */
    static int compareKeys(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /**
     * What a listing's cursor belongs to besides the prefix (the bucket, the account and its folder mode): a cursor
     * kept for a resumption is used again only under the same scope.
     */
    default String listingScope() {
        return name();
    }

    /**
     * Once per process, before the first run: asks the store's API how it is set up, where that matters (Cloudinary:
     * its folder mode). Throws a configuration error when the configuration contradicts what the store reports.
     */
    default void prepare(Instant deadline) {
    }

    /**
     * Whether a key alone says where its asset lives (its path is the key), so the prefix guard and a glob can judge
     * a key that did not come from a listing. False for a Cloudinary account in dynamic folder mode.
     */
    default boolean keysArePaths() {
        return true;
    }

    /** How the store keeps folders, for reports ({@code fixed} or {@code dynamic}); null where it does not apply. */
    default String folderMode() {
        return null;
    }

    /** The API quota as the store's last answer reported it; null where the store has none. */
    default RunEvent.QuotaSeen quotaSeen() {
        return null;
    }

    /**
     * Whether this store's deletions can be undone, asked in {@link #prepare} (an S3 bucket's versioning, a Cloudinary
     * account's backups): null when they can, else why not, for the report and {@code status}.
     */
    default String notUndoable() {
        return "this store cannot restore deleted keys";
    }

    /**
     * Brings back deleted keys, each with what the delete reported for it ({@code versions}: key to the version id of
     * the delete marker an S3 versioned bucket created; empty elsewhere). At most {@link #maxBatch()} keys a call.
     */
    default Restored restore(List<String> keys, Map<String, String> versions, Instant deadline) {
        return Restored.none(keys, notUndoable());
    }

    /** API calls made so far by this store (list and delete), for reports. */
    long apiCalls();
}
