package dev.reclaim.store;

/**
 * The store refused a listing cursor kept from an earlier run (Cloudinary does not document how long a
 * {@code next_cursor} stays valid): the listing must start over, never skip ahead.
 */
public final class ListingCursorRefused extends RuntimeException {
    ListingCursorRefused(String message, Throwable cause) {
        super(message, cause);
    }
}
