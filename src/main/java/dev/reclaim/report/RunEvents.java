package dev.reclaim.report;

import java.util.List;

/** Where a run's events go. A listener must not throw: what it fails to do never changes what the run does. */
@FunctionalInterface
public interface RunEvents {
    void emit(RunEvent event);

    static RunEvents none() {
        return e -> { };
    }

    /**
     * Every event to each listener in turn (the list is read at each event, so it may grow); one that throws is logged
     * and the others still hear it.
     */
    static RunEvents of(List<? extends RunEvents> listeners) {
        return e -> {
            for (RunEvents l : listeners) {
                try {
                    l.emit(e);
                } catch (RuntimeException ex) {
                    org.slf4j.LoggerFactory.getLogger(RunEvents.class)
                            .warn("a run listener failed on {}: {}", e.getClass().getSimpleName(), ex.toString());
                }
            }
        };
    }
}
