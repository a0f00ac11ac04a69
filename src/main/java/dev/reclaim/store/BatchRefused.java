package dev.reclaim.store;

/**
 * The store refused a whole delete request as malformed (S3: HTTP 400 MalformedXML and the like; Cloudinary: HTTP
 * 400): some key in it is one the store cannot accept, and {@link GuardedStore.Bisection} looks for it.
 */
final class BatchRefused extends RuntimeException {
    BatchRefused(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
