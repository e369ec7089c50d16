package dev.meshhub.transport.impl.dispatch;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import dev.meshhub.api.stats.DispatchStats;
import dev.meshhub.api.stats.DistributionRecorder;

/** What the dispatcher counts about its work (for metrics): tasks accepted by kind, and dispatch-to-start times. */
final class DispatchFigures {

    private final LongAdder accepted = new LongAdder();
    private final Map<String, LongAdder> acceptedByKind = new ConcurrentHashMap<>();
    private final DistributionRecorder startSeconds = new DistributionRecorder(DistributionRecorder.SECONDS);

    /** A task of this kind was accepted for a node. */
    void accepted(String kind) {
        accepted.increment();
        acceptedByKind.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** The node reported the task started: its time since it was accepted, once per task. */
    void started(DispatchedTask task) {
        if (task.startTimed.compareAndSet(false, true)) {
            startSeconds.record((System.nanoTime() - task.acceptedNanos) / 1e9);
        }
    }

    DispatchStats snapshot() {
        Map<String, Long> byKind = new TreeMap<>();
        acceptedByKind.forEach((kind, count) -> byKind.put(kind, count.sum()));
        return new DispatchStats(accepted.sum(), startSeconds.snapshot(), byKind);
    }
}
