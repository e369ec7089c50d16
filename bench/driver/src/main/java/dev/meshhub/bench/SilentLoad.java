package dev.meshhub.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Tasks for the nodes that never answer (issue 12's misbehaving nodes, rows 3 and 7): {@code echo} through the admin
 * API at a fixed rate, round robin over them, each with a short timeout, so the hub carries tasks that never end
 * on their own beside the measured load. Counts how they ended (the hub should end each one itself).
 */
final class SilentLoad implements AutoCloseable {

    /** Tasks a second over all silent nodes. */
    static final int RATE = 10;
    /** Each task's own timeout; the hub gives up on it that long plus its grace and slack later. */
    static final int TIMEOUT_MS = 2000;

    private final HubAdmin admin;
    private final List<String> nodes;
    private final Map<String, LongAdder> ended = new ConcurrentHashMap<>();
    private final LongAdder sent = new LongAdder();
    private final Thread sender;
    private volatile boolean running = true;

    SilentLoad(HubAdmin admin, List<String> nodes) {
        this.admin = admin;
        this.nodes = List.copyOf(nodes);
        this.sender = new Thread(this::send, "bench-silent-load");
        sender.setDaemon(true);
    }

    SilentLoad start() {
        if (!nodes.isEmpty()) {
            sender.start();
        }
        return this;
    }

    private void send() {
        long period = 1_000_000_000L / RATE;
        long next = System.nanoTime();
        for (int i = 0; running; i++) {
            admin.execAsync(nodes.get(i % nodes.size()), TIMEOUT_MS, state -> ended.computeIfAbsent(state, k -> new LongAdder()).increment());
            sent.increment();
            next += period;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        }
    }

    /** "N tasks sent to N silent nodes, ended: STATE N, ..." so far. */
    String describe() {
        String states = ended.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + " " + e.getValue().sum()).collect(Collectors.joining(", "));
        return String.format(java.util.Locale.ROOT, "%,d tasks sent to the %d silent nodes (%d/s, timeout %d ms), ended so far: %s",
                sent.sum(), nodes.size(), RATE, TIMEOUT_MS, states.isEmpty() ? "none" : states);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sender.join(5000);
    }
}
