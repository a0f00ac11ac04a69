package dev.reclaim.store;

import java.util.List;

/** One page of a store's listing under a prefix; {@code nextCursor} is null on the last page. */
public record Listing(List<StoredAsset> assets, String nextCursor) {
}
