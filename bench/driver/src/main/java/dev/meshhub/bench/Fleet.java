package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;

/**
 * A fleet of thousands of simulated nodes in the driver's JVM (rows 3, 5, 7 and 9): each node is
 * enrolled for real (an invite of its own, a CSR for its own key, the certificate the hub issues) and
 * has its own HTTP/2 connection, but all of them share grpc-java's default event loops and one timer
 * for heartbeats and reconnects, so no node costs a thread.
 */
final class Fleet implements AutoCloseable {

    /** How many enrollments run at once (the hub serves 16 calls per connection). */
    private static final int ENROLLING = 16;

    private final List<FleetNode> nodes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger open = new AtomicInteger();
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> reasons =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(2, r -> {
        Thread t = new Thread(r, "bench-fleet-timer");
        t.setDaemon(true);
        return t;
    });

    Fleet() {
        timer.setRemoveOnCancelPolicy(true);
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    /**
     * Enrolls nodes named {@code prefix-00001}, ... until the fleet has {@code count}, each with its
     * own invite and key, {@value #ENROLLING} at a time over one enrolling connection.
     *
     * @return the time the enrollments took
     */
    Duration enroll(HubInstance hub, String prefix, int count, Duration timeout, BenchProgress progress) throws Exception {
        int first = nodes.size() + 1;
        if (first > count) {
            return Duration.ZERO;
        }
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        ManagedChannel enrolling = SimulatedNode.channel(hub.home(), hub.nodePort(), false);
        ExecutorService workers = Executors.newFixedThreadPool(ENROLLING, r -> {
            Thread t = new Thread(r, "bench-fleet-enroll");
            t.setDaemon(true);
            return t;
        });
        AtomicInteger next = new AtomicInteger(first);
        AtomicInteger done = new AtomicInteger();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < ENROLLING; w++) {
                running.add(workers.submit(() -> {
                    for (int i = next.getAndIncrement(); i <= count && System.nanoTime() < deadline; i = next.getAndIncrement()) {
                        nodes.add(enrollOne(hub, enrolling, String.format("%s-%05d", prefix, i)));
                        int n = done.incrementAndGet();
                        if (n % 1000 == 0) {
                            progress.say("fleet: %d of %d nodes enrolled", n + first - 1, count);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } finally {
            workers.shutdownNow();
            enrolling.shutdownNow();
        }
        if (nodes.size() < count) {
            throw new IllegalStateException("only " + nodes.size() + " of " + count + " nodes enrolled within " + timeout.toSeconds() + " s");
        }
        nodes.sort(java.util.Comparator.comparing(FleetNode::name));
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private FleetNode enrollOne(HubInstance hub, ManagedChannel enrolling, String name) {
        NodeKeys keys = new NodeKeys();
        String token = hub.admin().createInvite();
        SyncConfigurationResponse response = NodeServiceGrpc.newBlockingStub(enrolling).withDeadlineAfter(30, TimeUnit.SECONDS)
                .syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(token).setNodeName(name).setCsr(keys.csr(name))
                        .build());
        return new FleetNode(this, name, keys.keyManagers(response.getCertificateChainList()));
    }



    List<FleetNode> nodes(int count) {
        synchronized (nodes) {
            return List.copyOf(nodes.subList(0, count));
        }
    }

    /**
     * Starts the nodes {@code from} (inclusive) to {@code to} (exclusive) against {@code target}, at
     * most {@code inFlight} connections being made at once (a fleet coming up, not a storm), then
     * waits until {@code connected} (what the server counts) reaches {@code to}.
     *
     * @return the time until the server counted them all
     */
    Duration connect(FleetTarget target, int from, int to, int inFlight, IntSupplier connected, Duration timeout)
            throws InterruptedException {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        Semaphore permits = new Semaphore(inFlight);
        for (FleetNode node : nodes(to).subList(from, to)) {
            if (!permits.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("connections did not settle within " + timeout.toSeconds() + " s");
            }
            node.start(target, permits::release);
        }
        awaitConnected(connected, to, deadline);
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /** Waits (polling every 250 ms) until {@code connected} reports at least {@code count}. */
    void awaitConnected(IntSupplier connected, int count, long deadlineNanos) throws InterruptedException {
        awaitConnected(connected, count, deadlineNanos, null);
    }

    /** As {@link #awaitConnected(IntSupplier, int, long)}, reporting the count every 5 s to {@code progress} (when not null). */
    void awaitConnected(IntSupplier connected, int count, long deadlineNanos, BenchProgress progress) throws InterruptedException {
        int seen = -1;
        long started = System.nanoTime();
        long nextReport = started + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                seen = connected.getAsInt();
            } catch (RuntimeException notAnswering) {
                seen = -1;
            }
            if (seen >= count) {
                return;
            }
            if (System.nanoTime() > deadlineNanos) {
                throw new IllegalStateException("the server counted " + seen + " of " + count + " nodes connected (the nodes: "
                        + openNodes() + " heard from it); " + failures() + "; " + stragglers(3));
            }
            if (progress != null && System.nanoTime() > nextReport) {
                progress.say("  %,d of %,d connected after %d s", Math.max(0, seen), count,
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
                nextReport += TimeUnit.SECONDS.toNanos(5);
            }
            Thread.sleep(250);
        }
    }

    /** Up to {@code max} started nodes that have not heard from the server, with their failures. */
    String stragglers(int max) {
        List<String> waiting = new ArrayList<>();
        synchronized (nodes) {
            for (FleetNode node : nodes) {
                if (node.started() && !node.open() && waiting.size() < max) {
                    waiting.add(node.name() + " (" + node.failures() + " failed attempts, last: " + node.lastFailure() + ")");
                }
            }
        }
        return waiting.isEmpty() ? "every started node has heard from the server" : "not heard from: " + String.join(", ", waiting);
    }

    /** How many nodes hold a stream the server has answered on. */
    int openNodes() {
        return open.get();
    }

    void opened(FleetNode node) {
        open.incrementAndGet();
    }

    void closed(FleetNode node) {
        open.decrementAndGet();
    }

    /** A node's attempt failed, for this reason; a misbehaving node's failures are its own doing and are not counted here. */
    void failed(FleetNode node, String why) {
        if (node.conduct() == FleetNode.Conduct.WELL) {
            reasons.computeIfAbsent(why, k -> new java.util.concurrent.atomic.LongAdder()).increment();
        }
    }

    /**
     * From now on 3% of the first {@code count} nodes misbehave (issue 12), 1% each: never answering tasks, dropping
     * and reconnecting every 2 to 5 s, heartbeats half an interval late. The same nodes every run (by position).
     */
    void misbehave(int count) {
        List<FleetNode> all = nodes(count);
        for (int i = 0; i < all.size(); i++) {
            switch (i % 100) {
                case 37 -> all.get(i).conduct(FleetNode.Conduct.SILENT);
                case 38 -> all.get(i).conduct(FleetNode.Conduct.FLAPPING);
                case 39 -> all.get(i).conduct(FleetNode.Conduct.LATE);
                default -> {
                    // behaves
                }
            }
        }
    }

    /** The first {@code count} nodes behave again (a row that measures two servers in turn). */
    void behave(int count) {
        for (FleetNode node : nodes(count)) {
            node.conduct(FleetNode.Conduct.WELL);
        }
    }

    /** How many of the first {@code count} nodes behave and hold a stream the server has answered on. */
    int wellOpen(int count) {
        return (int) nodes(count).stream().filter(n -> n.conduct() == FleetNode.Conduct.WELL && n.open()).count();
    }

    /** The first {@code count} nodes that behave. */
    List<FleetNode> wellBehaved(int count) {
        return nodes(count).stream().filter(n -> n.conduct() == FleetNode.Conduct.WELL).toList();
    }

    /** The first {@code count} nodes that behave as {@code conduct}. */
    List<FleetNode> behaving(int count, FleetNode.Conduct conduct) {
        return nodes(count).stream().filter(n -> n.conduct() == conduct).toList();
    }

    /** "N silent, N flapping (N drops), N late" among the first {@code count} nodes. */
    String misbehaviour(int count) {
        return String.format(java.util.Locale.ROOT, "%d never answering tasks, %d dropping and reconnecting every 2 to 5 s"
                + " (%,d drops), %d sending heartbeats half an interval late", behaving(count, FleetNode.Conduct.SILENT).size(),
                behaving(count, FleetNode.Conduct.FLAPPING).size(),
                behaving(count, FleetNode.Conduct.FLAPPING).stream().mapToInt(FleetNode::flaps).sum(),
                behaving(count, FleetNode.Conduct.LATE).size());
    }

    /** Failed attempts since the last call, by reason (most frequent first), and forgets them. */
    java.util.List<String> takeReasons() {
        java.util.List<java.util.Map.Entry<String, Long>> counted = new ArrayList<>();
        for (String reason : List.copyOf(reasons.keySet())) {
            java.util.concurrent.atomic.LongAdder count = reasons.remove(reason);
            if (count != null) {
                counted.add(java.util.Map.entry(reason, count.sum()));
            }
        }
        counted.sort(java.util.Map.Entry.<String, Long>comparingByValue().reversed());
        return counted.stream().map(e -> String.format(java.util.Locale.ROOT, "%,d x %s", e.getValue(), e.getKey())).toList();
    }

    /** Failed attempts over the fleet (and how many of them well-behaved nodes had), and the latest reason one gave. */
    String failures() {
        long total = 0;
        long well = 0;
        String last = null;
        synchronized (nodes) {
            for (FleetNode node : nodes) {
                total += node.failures();
                well += node.conduct() == FleetNode.Conduct.WELL ? node.failures() : 0;
                if (node.lastFailure() != null) {
                    last = node.name() + ": " + node.lastFailure();
                }
            }
        }
        return total + " failed attempts, " + well + " of them by well-behaved nodes" + (last == null ? "" : " (last: " + last + ")");
    }



    /** Every node leaves (streams ended, connections closed); they can be started again. */
    void stopAll() {
        List<FleetNode> all;
        synchronized (nodes) {
            all = List.copyOf(nodes);
        }
        all.forEach(FleetNode::stop);
    }

    @Override
    public void close() {
        stopAll();
        timer.shutdownNow();
    }

    /** Where the fleet reports its progress. */
    @FunctionalInterface
    interface BenchProgress {
        void say(String format, Object... args);
    }
}
