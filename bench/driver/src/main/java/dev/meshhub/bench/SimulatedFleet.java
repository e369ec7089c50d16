package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The simulated nodes of one hub: enrolled up front, connected when a benchmark needs them. */
final class SimulatedFleet implements AutoCloseable {

    private final HubInstance hub;
    private final List<SimulatedNode> nodes = new ArrayList<>();
    private final List<SimulatedNode> connected = new ArrayList<>();
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-node-heartbeats");
        t.setDaemon(true);
        return t;
    });

    SimulatedFleet(HubInstance hub) {
        this.hub = hub;
    }

    /** Enrolls {@code count} nodes named bench-n01, bench-n02, ... each with its own invite. */
    void enroll(int count) {
        for (int i = nodes.size() + 1; i <= count; i++) {
            String name = String.format("bench-n%02d", i);
            nodes.add(SimulatedNode.enroll(hub, name, hub.admin().createInvite()));
        }
    }

    /** Opens the streams of the first {@code count} nodes and waits until the hub lists them all as connected. */
    List<String> connect(int count, Duration timeout) throws InterruptedException {
        for (SimulatedNode node : nodes.subList(0, count)) {
            if (!connected.contains(node)) {
                node.open(heartbeats);
                connected.add(node);
            }
        }
        List<String> names = connected.stream().map(SimulatedNode::name).toList();
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> live = Set.of();
        while (System.nanoTime() < deadline) {
            live = hub.admin().connectedNodes();
            if (live.containsAll(names)) {
                return names;
            }
            Thread.sleep(50);
        }
        Set<String> missing = new HashSet<>(names);
        missing.removeAll(live);
        throw new IllegalStateException("the hub did not list " + missing.size() + " simulated node(s) as connected within "
                + timeout.toSeconds() + " s: " + missing + "; " + firstEnded());
    }

    /**
     * After the hub was stopped and started again on the same ports: opens new streams for the nodes
     * that were connected (again whenever a new one fails while the hub comes up) until the hub lists
     * them all as connected.
     */
    List<String> reconnect(Duration timeout) throws InterruptedException {
        List<String> names = connected.stream().map(SimulatedNode::name).toList();
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> live = Set.of();
        boolean first = true;
        while (System.nanoTime() < deadline) {
            for (SimulatedNode node : connected) {
                if (first || node.ended() != null) {
                    node.open(heartbeats);
                }
            }
            first = false;
            try {
                live = hub.admin().connectedNodes();
            } catch (RuntimeException e) {
                live = Set.of();
            }
            if (live.containsAll(names) && connected.stream().allMatch(n -> n.ended() == null)) {
                return names;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the restarted hub did not list " + names + " as connected within " + timeout.toSeconds()
                + " s (listed: " + live + "); " + firstEnded());
    }

    /** Why a connected node's stream ended, or "all streams open". */
    String firstEnded() {
        return connected.stream().filter(n -> n.ended() != null).findFirst()
                .map(n -> n.name() + ": " + n.ended()).orElse("all streams open");
    }

    /** The {@code index}-th enrolled node (0 is bench-n01). */
    SimulatedNode node(int index) {
        return nodes.get(index);
    }

    long answered() {
        return connected.stream().mapToLong(SimulatedNode::answered).sum();
    }

    @Override
    public void close() {
        for (SimulatedNode node : nodes) {
            node.close();
        }
        heartbeats.shutdownNow();
    }
}
