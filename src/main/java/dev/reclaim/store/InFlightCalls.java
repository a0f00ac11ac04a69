package dev.reclaim.store;

import org.slf4j.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A store's API calls while they wait for an answer, which a stop (SIGTERM) cuts when its grace period ends: an SDK's
 * timeout is fixed when its call starts, so a call made before the stop would hold the run past it. A cut call throws
 * {@link StoreDeadlinePassed} to its caller; its answer, should one still come, is dropped, so what it was about stays
 * where it was (keys pending in the outbox, assets listed again by a later run).
 */
final class InFlightCalls {
    /** Daemon threads: a call cut and still hanging never holds the JVM's exit. */
    private static final ExecutorService CALLERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "reclaim-store-call");
        t.setDaemon(true);
        return t;
    });

    /** Appended to the caller's thread name while a call thread makes its call. */
    static final String CALL_THREAD = " > store call";

    private final Set<CompletableFuture<?>> waiting = ConcurrentHashMap.newKeySet();
    private volatile Instant cutAt;

    /** From {@code at} on (system clock), calls waiting are cut and new ones refused; null lifts it (the run ended). */
    void cutAt(Instant at) {
        cutAt = at;
        if (at != null) {
            long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis());
            CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(() -> {
                if (at.equals(cutAt)) {
                    waiting.forEach(f -> f.completeExceptionally(cut()));
                }
            });
        }
    }

    /** Makes {@code call} on a caller thread and waits for its answer or the cut, whichever comes first. */
    <T> T call(Supplier<T> call) {
        if (passed()) {
            throw cut();
        }
        Map<String, String> mdc = MDC.getCopyOfContextMap(); // the call's log lines keep the run and the sweep
        String caller = Thread.currentThread().getName();
        CompletableFuture<T> answer = new CompletableFuture<>();
        waiting.add(answer);
        try {
            CALLERS.execute(() -> {
                Thread thread = Thread.currentThread();
                thread.setName(caller + CALL_THREAD); // a thread dump names whose call hangs
                if (mdc != null) {
                    MDC.setContextMap(mdc);
                }
                try {
                    answer.complete(call.get());
                } catch (Throwable t) {
                    answer.completeExceptionally(t);
                } finally {
                    MDC.clear();
                    thread.setName("reclaim-store-call");
                }
            });
            if (passed()) { // the cut may have run between the check above and this call joining the waiting
                answer.completeExceptionally(cut());
            }
            return answer.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } finally {
            waiting.remove(answer);
        }
    }

    private boolean passed() {
        Instant at = cutAt;
        return at != null && !Instant.now().isBefore(at);
    }

    private StoreDeadlinePassed cut() {
        return new StoreDeadlinePassed("store call cut short: the run was asked to stop and its grace period ended ("
                + cutAt + "); an answer that still comes is dropped");
    }
}
