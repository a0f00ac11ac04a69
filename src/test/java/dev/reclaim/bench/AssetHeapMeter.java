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
 * Heap of the benchmark JVM during one sweep run (the Cloudinary emulator lives in another JVM, so this is Reclaim's
 * heap plus the JDBC driver and the idle harness). Three figures, all relative to {@link #baseline} (heap used after
 * two System.gc() right before the run):
 * <ul>
 * <li>{@link #forcedPeak}: the most heap still live at a forced full GC ({@link #forcedSample()}, called by
 * {@link AssetProbeStore} inside the sweep, while a listed page and its orphans are held). The retained-heap
 * figure; only used in runs whose time is not measured.</li>
 * <li>{@link #naturalAfterGc}: the most heap used right after any GC the JVM ran on its own (from the collectors'
 * notifications). With G1 this includes old-generation garbage not yet collected, so it is an upper bound.</li>
 * <li>{@link #maxSampled}: used heap sampled every 10 ms (garbage included; mostly tells how big G1 let the young
 * generation grow).</li>
 * </ul>
 */
final class AssetHeapMeter implements AutoCloseable {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();
    private static final Set<String> HEAP_POOLS = new HashSet<>();
    private static volatile AssetHeapMeter current;

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
                AssetHeapMeter m = current;
                if (m == null) {
                    return;
                }
                GarbageCollectionNotificationInfo info =
                        GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                if ("System.gc()".equals(info.getGcCause())) {
                    return; // ours: read directly in forcedSample()
                }
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (HEAP_POOLS.contains(e.getKey())) {
                        used += e.getValue().getUsed();
                    }
                }
                synchronized (m) {
                    m.naturalGcs++;
                    m.naturalAfterGcAbs = Math.max(m.naturalAfterGcAbs, used);
                }
            }, null, null);
        }
    }

    long baseline;
    private volatile long maxSampledAbs;
    private long naturalAfterGcAbs = -1;
    private int naturalGcs;
    private long forcedAbs = -1;
    private int forcedGcs;
    private volatile boolean running;
    private Thread sampler;

    static AssetHeapMeter start() {
        System.gc();
        System.gc();
        AssetHeapMeter m = new AssetHeapMeter();
        m.baseline = MEMORY.getHeapMemoryUsage().getUsed();
        m.maxSampledAbs = m.baseline;
        m.running = true;
        m.sampler = new Thread(() -> {
            while (m.running) {
                long used = MEMORY.getHeapMemoryUsage().getUsed();
                if (used > m.maxSampledAbs) {
                    m.maxSampledAbs = used;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "asset-heap-sampler");
        m.sampler.setDaemon(true);
        current = m;
        m.sampler.start();
        return m;
    }

    /** A full GC now, on the calling (sweep) thread; records what is still live. */
    void forcedSample() {
        System.gc();
        long used = MEMORY.getHeapMemoryUsage().getUsed();
        synchronized (this) {
            forcedGcs++;
            forcedAbs = Math.max(forcedAbs, used);
        }
    }

    synchronized long forcedPeak() {
        return forcedAbs < 0 ? -1 : forcedAbs - baseline;
    }

    synchronized int forcedGcs() {
        return forcedGcs;
    }

    synchronized long naturalAfterGc() {
        return naturalAfterGcAbs < 0 ? -1 : naturalAfterGcAbs - baseline;
    }

    synchronized int naturalGcs() {
        return naturalGcs;
    }

    long maxSampled() {
        return maxSampledAbs - baseline;
    }

    @Override
    public void close() {
        running = false;
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Thread.sleep(100); // GC notifications arrive asynchronously
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        current = null;
    }
}
