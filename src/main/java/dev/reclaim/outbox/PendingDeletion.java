package dev.reclaim.outbox;

/** A key whose rows are gone (committed) and whose file must still be deleted from its store. */
record PendingDeletion(long id, String store, String key, String sweep, String itemId, int attempts) {
}
