package dev.reclaim.report;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/** The run's progress as log lines: one when each sweep finishes, with what it purged and why it stopped. */
public final class ProgressLog implements RunEvents {
    private static final Logger log = LoggerFactory.getLogger(ProgressLog.class);

    private final Map<String, long[]> purged = new HashMap<>();
    private final Map<String, String> stoppedBy = new HashMap<>();

    @Override
    public synchronized void emit(RunEvent event) {
        if (event instanceof RunEvent.RunStarted) {
            purged.clear();
            stoppedBy.clear();
        } else if (event instanceof RunEvent.ItemPurged e) {
            purged.computeIfAbsent(e.sweep(), s -> new long[1])[0]++;
        } else if (event instanceof RunEvent.KeysDeleted e && e.source() == RunEvent.Source.SWEEP) {
            purged.computeIfAbsent(e.sweep(), s -> new long[1])[0] += e.keys().size();
        } else if (event instanceof RunEvent.SweepStopped e) {
            stoppedBy.putIfAbsent(e.sweep(), e.reason());
        } else if (event instanceof RunEvent.SweepFinished e) {
            log.info("sweep finished: sweep={} purged={} stoppedBy={}", e.sweep(),
                    purged.getOrDefault(e.sweep(), new long[1])[0], stoppedBy.get(e.sweep()));
        }
    }
}
