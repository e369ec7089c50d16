package dev.meshhub.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * Row 3, handshake isolation: 1,000 connected nodes at 100 tasks/s (the probe, open loop), and 50 nodes
 * enrolling at once while the hub's database work for them stalls 500 ms: the stall probe in the hub's
 * JVM holds an exclusive lock on the journal's INVITES table, which every enrollment's transaction
 * needs. The hub runs with {@code handshakeTimeoutMs = 400} (set live once the fleet is enrolled), so the
 * stalled handshakes must end at that
 * deadline with a clear status. Baseline in the same run: the same load and the same 50 enrollments
 * without the stall. Rounds alternate (calm, stalled, calm, ...); dispatch p99 is the median over rounds.
 */
final class HandshakeStallRow {

    static final int NUMBER = 3;
    static final String NAME = "handshake isolation, 1,000 nodes at 100 tasks/s, 50 handshakes stalled 500 ms";
    static final String GOAL = "dispatch p99 <= 1.1x the same run without the stall; stalled handshakes end at their deadline with a clear status";
    static final int NODES = 1000;
    static final int RATE = 100;
    static final int HANDSHAKES = 50;
    static final Duration STALL = Duration.ofMillis(500);
    /** Short enough that the stall outlasts it, long enough that 50 enrollments at once meet it on two busy cores. */
    static final Duration DEADLINE = Duration.ofMillis(400);
    private static final Duration LOAD = Duration.ofSeconds(20);
    private static final Duration EVENT_AFTER = Duration.ofSeconds(8);
    private static final double GOAL_RATIO = 1.1;

    private final BenchMain main;

    HandshakeStallRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        SilentLoad silent = null;
        int rounds = Math.max(1, Math.min(main.options().rounds(), 3));
        try (Fleet fleet = new Fleet()) {
            phase = main.launchHub("handshake-stall", null, Map.of("MESHHUB_TRANSPORT_MAX_PENDING_TASKS_PER_NODE", "100000"),
                    FleetMemoryRow.HEAP);
            main.prepareHub(phase, 0);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'handshake-stall' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            fleet.enroll(hub, "iso", NODES, main.within(Duration.ofSeconds(240)), main::progress);
            main.progress("handshake isolation: connecting %,d nodes", NODES);
            fleet.connect(FleetTarget.hub(hub, 5000), 0, NODES, FleetMemoryRow.IN_FLIGHT, () -> hub.admin().connectedCount(),
                    main.within(Duration.ofSeconds(120)));
            // 3% misbehave from now on; the figures are the well-behaved nodes'; the silent ones get tasks of their own.
            fleet.misbehave(NODES);
            List<String> names = fleet.wellBehaved(NODES).stream().map(FleetNode::name).toList();
            silent = SilentLoad.start(hub, fleet, NODES);
            // Invites first: creating one needs the very table the stall locks.
            List<String> invites = new ArrayList<>();
            for (int i = 0; i < 2 * rounds * HANDSHAKES; i++) {
                invites.add(hub.admin().createInvite());
            }
            // The fleet enrolled under the shipped deadline; the measured handshakes run under a short one, set live.
            hub.setConfiguration("dev.meshhub.transport.cfg", "handshakeTimeoutMs", Long.toString(DEADLINE.toMillis()));
            awaitLogged(hub, "handshakeTimeoutMs " + DEADLINE.toMillis());
            fleet.takeReasons();
            main.progress("handshake isolation: one unrecorded window of load first (JIT, pools)");
            FleetLoad.run(main, hub, names, "r3-warmup", RATE, Duration.ofSeconds(10), Duration.ZERO, () -> { });
            List<Long> calmP99 = new ArrayList<>();
            List<Long> stalledP99 = new ArrayList<>();
            List<Long> stalledEnds = new ArrayList<>();
            long lost = 0;
            boolean clear = true;
            for (int round = 1; round <= rounds; round++) {
                main.progress("handshake isolation: round %d of %d, calm", round, rounds);
                Enrollments calm = new Enrollments(hub, invites.subList((2 * round - 2) * HANDSHAKES, (2 * round - 1) * HANDSHAKES));
                FleetLoad.Window quiet = FleetLoad.run(main, hub, names, "r3-calm-" + round, RATE, LOAD, EVENT_AFTER, calm::fire);
                calm.await();
                calmP99.add(quiet.p99Ns());
                details.add("round " + round + ", calm: " + quiet.describe() + "; " + calm.describe());

                main.progress("handshake isolation: round %d of %d, database stalled", round, rounds);
                int enrolledBefore = enrolledNodes(hub);
                Enrollments stalled = new Enrollments(hub, invites.subList((2 * round - 1) * HANDSHAKES, 2 * round * HANDSHAKES));
                String stallRun = "r3-stall-" + round;
                FleetLoad.Window busy = FleetLoad.run(main, hub, names, stallRun, RATE, LOAD, EVENT_AFTER, () -> {
                    stall(hub, stallRun);
                    stalled.fire();
                });
                stalled.await();
                stalledP99.add(busy.p99Ns());
                stalledEnds.addAll(stalled.elapsedNanos());
                lost += busy.lost() + quiet.lost();
                boolean allClear = stalled.allEndedWith(Status.Code.DEADLINE_EXCEEDED, "handshakeTimeoutMs");
                clear &= allClear;
                int created = enrolledNodes(hub) - enrolledBefore;
                details.add("round " + round + ", stalled: " + busy.describe() + "; " + stalled.describe() + "; nodes created by the"
                        + " stalled enrollments: " + created);
                clear &= created == 0;
            }
            List<String> streams = fleet.takeReasons();
            details.add("misbehaving nodes, beside the " + names.size() + " the load and figures use: " + fleet.misbehaviour(NODES)
                    + "; " + silent.describe());
            long calm = median(calmP99);
            long stalledMedian = median(stalledP99);
            double ratio = stalledMedian / (double) calm;
            long slowest = stalledEnds.stream().mapToLong(Long::longValue).max().orElse(0);
            boolean atDeadline = slowest < STALL.toNanos();
            details.add(String.format(Locale.ROOT, "stalled handshakes ended after %s (fastest), %s (median), %s (slowest) of a %d ms"
                    + " deadline while the lock was held %d ms; streams lost during the rounds: %s", Report.millis(min(stalledEnds)),
                    Report.millis(median(stalledEnds)), Report.millis(slowest), DEADLINE.toMillis(), STALL.toMillis(),
                    streams.isEmpty() ? "none" : streams));
            boolean pass = ratio <= GOAL_RATIO && clear && atDeadline && lost == 0 && streams.isEmpty();
            return new Report.Row(NUMBER, NAME, String.format(Locale.ROOT, "dispatch p99 %s with the stall (median of %d rounds);"
                    + " stalled handshakes ended in %s at most, %s", Report.millis(stalledMedian), rounds, Report.millis(slowest),
                    clear ? "all DEADLINE_EXCEEDED naming handshakeTimeoutMs, no node created" : "NOT all with a clear status"),
                    "dispatch p99 " + Report.millis(calm) + " without the stall", Report.ratio(ratio), GOAL, pass ? Report.PASS : Report.MISS,
                    details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, BenchMain.describe(e), details);
        } finally {
            if (silent != null) {
                silent.close();
            }
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    /** Has the stall probe lock INVITES for {@link #STALL}; returns once the lock is held. */
    private void stall(HubInstance hub, String run) throws Exception {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("run", run);
        config.put("table", "INVITES");
        config.put("stallMs", Long.toString(STALL.toMillis()));
        config.put("output", "data/bench/" + run + "-stall.properties");
        hub.configure("dev.meshhub.bench.stall", config);
        Path locked = hub.home().resolve("data/bench/" + run + "-stall.properties.locked");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(locked)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the stall probe did not lock INVITES within 10 s; see " + hub.log());
            }
            Thread.sleep(5);
        }
    }

    /** Waits until the hub's log has a line containing {@code text} (a setting taken live). */
    private static void awaitLogged(HubInstance hub, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!hub.logMentions(text)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the hub did not log '" + text + "' within 15 s; " + hub.logTail(5));
            }
            Thread.sleep(50);
        }
    }

    private static int enrolledNodes(HubInstance hub) {
        return hub.admin().enrolledCount();
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }

    private static long min(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).min().orElse(0);
    }

    /**
     * {@value #HANDSHAKES} enrollments fired at once, each from a connection of its own made (TLS done)
     * beforehand, with a key and CSR of its own: a batch of new nodes joining.
     */
    private static final class Enrollments {
        private final List<ManagedChannel> channels = new ArrayList<>();
        private final List<SyncConfigurationRequest> requests = new ArrayList<>();
        private final List<CompletableFuture<Status>> ends = new ArrayList<>();
        private final List<Long> elapsed = java.util.Collections.synchronizedList(new ArrayList<>());

        Enrollments(HubInstance hub, List<String> invites) throws InterruptedException {
            for (String invite : invites) {
                String name = "join-" + java.util.UUID.randomUUID().toString().substring(0, 8);
                requests.add(SyncConfigurationRequest.newBuilder().setInviteToken(invite).setNodeName(name)
                        .setCsr(new NodeKeys().csr(name)).build());
                ManagedChannel channel = SimulatedNode.channel(hub.home(), hub.nodePort(), false);
                channels.add(channel);
                channel.getState(true);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (ManagedChannel channel : channels) {
                while (channel.getState(true) != ConnectivityState.READY) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("an enrolling connection did not become ready within 30 s");
                    }
                    Thread.sleep(5);
                }
            }
        }

        /** Sends them all; returns at once. */
        void fire() {
            for (int i = 0; i < requests.size(); i++) {
                CompletableFuture<Status> end = new CompletableFuture<>();
                ends.add(end);
                long sent = System.nanoTime();
                Futures.addCallback(NodeServiceGrpc.newFutureStub(channels.get(i)).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .syncConfiguration(requests.get(i)), new FutureCallback<SyncConfigurationResponse>() {
                            @Override
                            public void onSuccess(SyncConfigurationResponse result) {
                                elapsed.add(System.nanoTime() - sent);
                                end.complete(Status.OK);
                            }

                            @Override
                            public void onFailure(Throwable t) {
                                elapsed.add(System.nanoTime() - sent);
                                end.complete(Status.fromThrowable(t));
                            }
                        }, MoreExecutors.directExecutor());
            }
        }

        void await() throws Exception {
            CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            channels.forEach(ManagedChannel::shutdownNow);
        }

        List<Long> elapsedNanos() {
            return List.copyOf(elapsed);
        }

        boolean allEndedWith(Status.Code code, String naming) {
            return ends.stream().map(CompletableFuture::join)
                    .allMatch(s -> s.getCode() == code && s.getDescription() != null && s.getDescription().contains(naming));
        }

        String describe() {
            Map<String, Integer> outcomes = new java.util.TreeMap<>();
            String example = null;
            for (CompletableFuture<Status> end : ends) {
                Status status = end.join();
                outcomes.merge(status.getCode().toString(), 1, Integer::sum);
                if (!status.isOk() && example == null) {
                    example = status.getDescription();
                }
            }
            List<Long> sorted = elapsedNanos().stream().sorted().toList();
            return String.format(Locale.ROOT, "%d enrollments: %s, answered in %s to %s%s", ends.size(), outcomes,
                    Report.millis(sorted.isEmpty() ? 0 : sorted.get(0)), Report.millis(sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1)),
                    example == null ? "" : "; the hub said: \"" + example + "\"");
        }
    }
}
