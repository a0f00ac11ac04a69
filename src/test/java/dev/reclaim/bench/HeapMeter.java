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
 * Heap of the benchmark JVM during one measured run. {@link #start()} runs System.gc() twice and records the
 * {@link #baseline()}; then used heap is sampled every 10 ms on a daemon thread (garbage included), and the heap used
 * right after each garbage collection comes from the collectors' notifications (what survived: the retained heap).
 * Each benchmark reads the figures it reports:
 * <ul>
 * <li>absolute, over every GC (PlanApplyBenchmark, RecordPurgeBenchmark): {@link #maxSampled()},
 * {@link #maxAfterGc()}, {@link #gcs()};</li>
 * <li>above the baseline (AssetSweepBenchmark): {@link #forcedPeak()}, the most heap still live at a forced full GC
 * ({@link #forcedSample()}, taken inside the sweep while a listed page and its orphans are held: the retained-heap
 * figure, only in runs whose time is not measured); {@link #naturalAfterGc()}, the most heap used right after a GC
 * the JVM ran on its own (with G1 this includes old-generation garbage not yet collected, so an upper bound); and
 * {@link #sampledAboveBaseline()} (mostly tells how big G1 let the young generation grow).</li>
 * </ul>
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
                GarbageCollectionNotificationInfo info =
                        GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
                long used = 0;
                for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                    if (HEAP_POOLS.contains(e.getKey())) {
                        used += e.getValue().getUsed();
                    }
                }
                m.afterGc(used, "System.gc()".equals(info.getGcCause()));
            }, null, null);
        }
    }

    private long baseline;
    private volatile long sampledAbs;
    private long atCloseAbs;
    private long afterGcAbs = -1;
    private int gcs;
    private long naturalAfterGcAbs = -1;
    private int naturalGcs;
    private long forcedAbs = -1;
    private int forcedGcs;
    private volatile boolean running;
    private Thread sampler;

    static HeapMeter start() {
        System.gc();
        System.gc();
        HeapMeter m = new HeapMeter();
        m.baseline = MEMORY.getHeapMemoryUsage().getUsed();
        m.sampledAbs = m.baseline;
        m.atCloseAbs = m.baseline;
        m.running = true;
        m.sampler = new Thread(() -> {
            while (m.running) {
                long used = MEMORY.getHeapMemoryUsage().getUsed();
                if (used > m.sampledAbs) {
                    m.sampledAbs = used;
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

    private synchronized void afterGc(long used, boolean forced) {
        gcs++;
        afterGcAbs = Math.max(afterGcAbs, used);
        if (!forced) { // ours are read directly in forcedSample()
            naturalGcs++;
            naturalAfterGcAbs = Math.max(naturalAfterGcAbs, used);
        }
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

    /** Heap used after the two System.gc() right before the run. */
    long baseline() {
        return baseline;
    }

    /** The most heap used, sampled every 10 ms and once more at close. */
    long maxSampled() {
        return Math.max(sampledAbs, atCloseAbs);
    }

    /** The most heap used right after any GC in the run, System.gc() included; -1 without one. */
    synchronized long maxAfterGc() {
        return afterGcAbs;
    }

    synchronized int gcs() {
        return gcs;
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

    /** The sampler's most heap used above the baseline (without the reading at close, as the sweep figures were). */
    long sampledAboveBaseline() {
        return sampledAbs - baseline;
    }

    @Override
    public void close() {
        running = false;
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        atCloseAbs = MEMORY.getHeapMemoryUsage().getUsed();
        try {
            Thread.sleep(100); // GC notifications arrive asynchronously
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        current = null;
    }
}
