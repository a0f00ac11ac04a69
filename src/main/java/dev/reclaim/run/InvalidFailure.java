package dev.reclaim.run;

/** A retry message that can never succeed (unknown sweep, kind or store, missing fields). */
final class InvalidFailure extends RuntimeException {
    public InvalidFailure(String message) {
        super(message);
    }
}
