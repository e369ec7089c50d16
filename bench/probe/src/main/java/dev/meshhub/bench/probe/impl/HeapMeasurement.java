package dev.meshhub.bench.probe.impl;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.util.Arrays;

/**
 * Benchmarks 4 and 6 ("heap flat", "heap after GC within 5% of start"): the hub's heap used right
 * after a full GC, read inside the hub's own JVM. Several readings a little apart (each after its own
 * {@code System.gc()}, which is a full, stop-the-world collection with the hub's default G1), and
 * their median, so one reading that caught a burst of allocation does not decide.
 */
final class HeapMeasurement {

    private static final long PAUSE_MS = 200;

    private final int readings;

    HeapMeasurement(int readings) {
        this.readings = readings;
    }

    ResultFile run() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long[] used = new long[readings];
        MemoryUsage last = null;
        for (int i = 0; i < readings; i++) {
            if (i > 0) {
                Thread.sleep(PAUSE_MS);
            }
            memory.gc();
            last = memory.getHeapMemoryUsage();
            used[i] = last.getUsed();
        }
        long[] sorted = used.clone();
        Arrays.sort(sorted);
        ResultFile result = new ResultFile().put("status", "ok")
                .put("heap.readings", readings)
                .put("heap.usedAfterGcBytes", sorted[readings / 2])
                .put("heap.minUsedAfterGcBytes", sorted[0])
                .put("heap.maxUsedAfterGcBytes", sorted[readings - 1])
                .put("heap.committedBytes", last.getCommitted())
                .put("heap.maxBytes", last.getMax());
        for (int i = 0; i < readings; i++) {
            result.put("heap.reading." + i, used[i]);
        }
        return result;
    }
}
