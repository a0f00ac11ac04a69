package dev.reclaim.store;

import java.util.List;

/**
 * One page of the names one level under a prefix, in the store's listing order: a folder (everything below the next
 * {@code /}, as one name ending in it) or a key; {@code nextToken} is null on the last page and valid only in this run.
 */
public record Folders(List<String> names, String nextToken) {
}
