package dev.reclaim.run;

/** A request that cannot be honoured as asked (e.g. an unknown sweep name). Nothing runs. */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
