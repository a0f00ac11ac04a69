package dev.reclaim.bench;

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Heap during one measured run: used heap sampled every 10 ms on a daemon thread (includes garbage not yet
 * collected), and the heap used right after each garbage collection, from the collectors' notifications (what
 * survived: the retained heap). Before starting, {@link #start()} runs System.gc() and records the baseline.
 */
final class HeapMeter implements AutoCloseable {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
    private static final Set<String> HEAP_POOLS = new HashSet<>();
    private static volatile HeapMeter current;

    static {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                HEAP_POOLS.add(p.getName());
            }
        }
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((n, hb) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                    return;
                }
                HeapMeter m = current;
                if (m == null) {
                    return;
                }
                GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (HEAP_POOLS.contains(e.getKey())) {
                        used += e.getValue().getUsed();
                    }
                }
                m.gcs++;
                m.maxAfterGc = Math.max(m.maxAfterGc, used);
            }, null, null);
        }
    }

    long baseline;
    volatile long maxSampled;
    volatile long maxAfterGc = -1;
    volatile int gcs;
    private volatile boolean running;
    private Thread sampler;

    static HeapMeter start() {
        System.gc();
        System.gc();
        HeapMeter m = new HeapMeter();
        m.baseline = MEMORY.getHeapMemoryUsage().getUsed();
        m.maxSampled = m.baseline;
        m.running = true;
        m.sampler = new Thread(() -> {
            while (m.running) {
                long used = MEMORY.getHeapMemoryUsage().getUsed();
                if (used > m.maxSampled) {
                    m.maxSampled = used;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-sampler");
        m.sampler.setDaemon(true);
        current = m;
        m.sampler.start();
        return m;
    }

    @Override
    public void close() {
        running = false;
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long used = MEMORY.getHeapMemoryUsage().getUsed();
        if (used > maxSampled) {
            maxSampled = used;
        }
        try {
            Thread.sleep(100); // GC notifications arrive asynchronously
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        current = null;
    }
}
