package dev.reclaim.failure;

/** Failures recorded and sent to the retry queue during one run. */
public final class FailureTally {
    private long recorded;
    private long sent;

    public synchronized void recorded() {
        recorded++;
    }

    public synchronized void sent(long n) {
        sent += n;
    }

    public synchronized long recordedCount() {
        return recorded;
    }

    public synchronized long sentCount() {
        return sent;
    }
}
