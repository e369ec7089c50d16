package dev.meshhub.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Tasks for the nodes that never answer (issue 12's misbehaving nodes, rows 3 and 7): {@code echo} through the admin
 * API at a fixed rate, round robin over them, each with a short timeout, so the hub carries tasks that never end
 * on their own beside the measured load. Its own admin connection (the admin API allows 16 calls at once on one);
 * each call is let go after a second, which cancels its task, a cancel the silent node never confirms either, so
 * the hub has to end each one itself. How they ended is read from the journal.
 */
final class SilentLoad implements AutoCloseable {

    /** Tasks a second over all silent nodes. */
    static final int RATE = 10;
    /** Each task's own timeout; the hub gives up on it that long plus its grace and slack later. */
    static final int TIMEOUT_MS = 2000;
    /** How long the driver holds each Exec call: fewer than 16 at once at {@link #RATE}. */
    static final long CALL_MS = 1000;

    private final HubAdmin admin;
    private final List<String> nodes;
    private final LongAdder sent = new LongAdder();
    private final Thread sender;
    private volatile boolean running = true;

    /** {@code admin}: a connection of its own, which {@link #close()} closes. */
    SilentLoad(HubAdmin admin, List<String> nodes) {
        this.admin = admin;
        this.nodes = List.copyOf(nodes);
        this.sender = new Thread(this::send, "bench-silent-load");
        sender.setDaemon(true);
    }

    /** Started, for the fleet's silent nodes among its first {@code count}, on a new admin connection to {@code hub}. */
    static SilentLoad start(HubInstance hub, Fleet fleet, int count) throws java.io.IOException {
        return new SilentLoad(hub.newAdmin(), fleet.behaving(count, FleetNode.Conduct.SILENT).stream().map(FleetNode::name).toList())
                .start();
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
            admin.execAsync(nodes.get(i % nodes.size()), TIMEOUT_MS, CALL_MS, state -> { });
            sent.increment();
            next += period;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        }
    }

    /** "N tasks sent to the N silent nodes ..., in the journal: STATE N, ..." (their latest 1,000 each). */
    String describe() {
        Map<String, Long> states = new java.util.TreeMap<>();
        try {
            for (String node : nodes) {
                admin.taskStates(node).forEach((state, count) -> states.merge(state, count, Long::sum));
            }
        } catch (RuntimeException e) {
            return String.format(java.util.Locale.ROOT, "%,d tasks sent to the %d silent nodes; their states not read: %s", sent.sum(),
                    nodes.size(), BenchMain.describe(e));
        }
        return String.format(java.util.Locale.ROOT, "%,d tasks sent to the %d silent nodes (%d/s, timeout %d ms, each Exec call let go"
                + " after %d ms, which cancels its task), in the journal: %s", sent.sum(), nodes.size(), RATE, TIMEOUT_MS, CALL_MS, states.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                        .collect(Collectors.joining(", ")));
    }

    @Override
    public void close() {
        running = false;
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close();
    }
}
