package dev.meshhub.bench;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;

import dev.meshhub.node.Backoff;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

/**
 * One node of a large simulated fleet ({@link Fleet}): its own key, certificate and HTTP/2
 * connection, on the fleet's shared event loops and timer, so that one driver JVM holds thousands.
 *
 * <p>It behaves as the shipped agent does on the wire: a handshake ({@code SyncConfiguration} by its
 * certificate) then a {@code TaskStream} with Hello and heartbeats; every task answered at once
 * (TaskStarted, TaskFinished SUCCEEDED); a lost stream or a refused connection retried after the
 * agent's own jittered {@link Backoff}, reset on the first heartbeat from the hub. Against the echo
 * baseline ({@link FleetEchoServer}) the same messages go over a plain echo stream and the echo of
 * the Hello counts as the hub's heartbeat.
 *
 * <p>Callbacks run on the connection's event loop (direct executor); sends are serialised by {@code this}.
 */
final class FleetNode {

    /** How long an attempt may go without a word from the server (the hub heartbeats every 5 s) before it is abandoned. */
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(15);

    private final Fleet fleet;
    private final String name;
    private final KeyManagerFactory keys;
    private final Backoff backoff = Backoff.withDefaults();
    private ManagedChannel channel;
    private FleetTarget target;
    /** Guarded by {@code this}. */
    private StreamObserver<NodeMessage> requests;
    private ScheduledFuture<?> heartbeats;
    private ScheduledFuture<?> nextAttempt;
    private long heartbeatSequence;
    /** Which attempt is current: callbacks of an abandoned stream no longer speak for the node. */
    private volatile int attempt;
    private volatile boolean open;
    private volatile boolean stopped;
    private volatile dev.meshhub.proto.v1.SandboxPolicy policy;
    private volatile long policyNanos;
    private volatile String lastFailure;
    private volatile int failures;
    private volatile Conduct conduct = Conduct.WELL;
    private int flaps;

    /**
     * How a node behaves (issue 12's misbehaving 3%): as the agent does, or never answering a task, or dropping its
     * connection and reconnecting every few seconds, or sending its heartbeats half an interval late.
     */
    enum Conduct { WELL, SILENT, FLAPPING, LATE }

    FleetNode(Fleet fleet, String name, KeyManagerFactory keys) {
        this.fleet = fleet;
        this.name = name;
        this.keys = keys;
    }

    String name() {
        return name;
    }


    /** Whether the node holds an open stream that has heard from the server (a heartbeat, or its Hello echoed). */
    boolean open() {
        return open;
    }


    /** Whether the node was started and not stopped since. */
    boolean started() {
        return !stopped && target != null;
    }

    /** The last policy the hub handed the node (handshake or push; null: none yet), and when it arrived. */
    dev.meshhub.proto.v1.SandboxPolicy policy() {
        return policy;
    }

    long policyNanos() {
        return policyNanos;
    }

    Conduct conduct() {
        return conduct;
    }

    /** Times a flapping node dropped its connection on purpose. */
    synchronized int flaps() {
        return flaps;
    }

    /** From now on behaves as {@code next}: a late node's heartbeats move at once, a flapping node drops in a few seconds. */
    synchronized void conduct(Conduct next) {
        conduct = next;
        if (heartbeats != null) {
            heartbeats.cancel(false);
            long interval = heartbeatInterval();
            heartbeats = fleet.timer().scheduleAtFixedRate(this::heartbeat, interval, interval, TimeUnit.MILLISECONDS);
        }
        if (next == Conduct.FLAPPING && open) {
            scheduleFlap(attempt);
        }
    }

    private long heartbeatInterval() {
        long interval = target.heartbeatIntervalMs();
        return conduct == Conduct.LATE ? interval * 3 / 2 : interval;
    }

    /** Guarded by {@code this}: in 2 to 5 s the connection of attempt {@code current} is dropped (a new one follows). */
    private void scheduleFlap(int current) {
        long delay = 2000 + java.util.concurrent.ThreadLocalRandom.current().nextLong(3000);
        fleet.timer().schedule(() -> {
            synchronized (this) {
                if (current != attempt || stopped || channel == null) {
                    return;
                }
                flaps++;
                channel.shutdownNow();
                channel = target.channel(keys);
            }
            lost(current, "dropped its connection on purpose (flapping)");
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Failed attempts (refused connections, handshakes, streams that ended) since the node was started. */
    int failures() {
        return failures;
    }

    String lastFailure() {
        return lastFailure;
    }

    /** Connects to {@code target} (a new connection), and from then on keeps connecting after any loss. */
    synchronized void start(FleetTarget next, Runnable settled) {
        stopped = false;
        if (channel == null || target != next) {
            if (channel != null) {
                channel.shutdownNow();
            }
            target = next;
            channel = next.channel(keys);
        }
        backoff.reset();
        attempt(settled);
    }

    /** One connection attempt: handshake (hub only), stream, Hello, heartbeats. {@code settled} runs once it worked or failed. */
    private void attempt(Runnable settled) {
        Runnable once = once(settled);
        int current;
        synchronized (this) {
            if (stopped) {
                once.run();
                return;
            }
            current = ++attempt;
            nextAttempt = null;
            channel.resetConnectBackoff();
        }
        if (settled != null) {
            watchReady(current, once);
        }
        // As the agent gives up on a connection that never answers: a stuck attempt is abandoned and retried.
        fleet.timer().schedule(() -> {
            if (!open) {
                lost(current, "no answer within " + ATTEMPT_TIMEOUT.toSeconds() + " s");
            }
        }, ATTEMPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (target.handshake()) {
            ClientCalls.asyncUnaryCall(channel.newCall(NodeServiceGrpc.getSyncConfigurationMethod(),
                    CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)), SyncConfigurationRequest.getDefaultInstance(),
                    new StreamObserver<SyncConfigurationResponse>() {
                        @Override
                        public void onNext(SyncConfigurationResponse value) {
                            policy(value.getPolicy());
                        }

                        @Override
                        public void onError(Throwable t) {
                            once.run();
                            lost(current, "handshake failed: " + describe(Status.fromThrowable(t)));
                        }

                        @Override
                        public void onCompleted() {
                            openStream(current);
                        }
                    });
        } else {
            openStream(current);
        }
    }

    private void openStream(int current) {
        StreamObserver<NodeMessage> stream = ClientCalls.asyncBidiStreamingCall(channel.newCall(target.stream(), CallOptions.DEFAULT),
                new StreamObserver<HubMessage>() {
                    @Override
                    public void onNext(HubMessage message) {
                        if (current != attempt) {
                            return;
                        }
                        switch (message.getPayloadCase()) {
                            case HEARTBEAT -> heard();
                            case TASK -> {
                                if (conduct == Conduct.SILENT) {
                                    heard(); // takes it, never answers
                                } else {
                                    answer(message.getTask().getTaskId());
                                }
                            }
                            case POLICY_UPDATE -> policy(message.getPolicyUpdate());
                            case CLOSING -> lastFailure = "the hub closed the session: " + message.getClosing().getReason();
                            default -> {
                                // Settings and trust updates need no answer here.
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        lost(current, "stream failed: " + describe(Status.fromThrowable(t)));
                    }

                    @Override
                    public void onCompleted() {
                        lost(current, "the server ended the stream");
                    }
                });
        synchronized (this) {
            if (current != attempt || stopped) {
                stream.onError(Status.CANCELLED.withDescription("superseded").asRuntimeException());
                return;
            }
            requests = stream;
            stream.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(info())).build());
            long interval = heartbeatInterval();
            heartbeats = fleet.timer().scheduleAtFixedRate(this::heartbeat, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    private NodeInfo info() {
        return NodeInfo.newBuilder().setHostname(name).setOs("simulated").setAgentVersion("meshhub-bench-fleet").build();
    }

    /** The server answered on the stream: the session is up (the agent resets its backoff here too). */
    private void heard() {
        if (!open) {
            open = true;
            synchronized (this) {
                backoff.reset();
                if (conduct == Conduct.FLAPPING) {
                    scheduleFlap(attempt);
                }
            }
            fleet.opened(this);
        }
    }

    private void policy(dev.meshhub.proto.v1.SandboxPolicy next) {
        dev.meshhub.proto.v1.SandboxPolicy held = policy;
        if (held == null || next.getRevision() > held.getRevision()) {
            policy = next;
            policyNanos = System.nanoTime();
        }
    }

    private void answer(String taskId) {
        heard();
        List<NodeMessage> answers = SimulatedNode.answers(taskId);
        synchronized (this) {
            if (requests != null) {
                answers.forEach(requests::onNext);
            }
        }
    }

    private synchronized void heartbeat() {
        if (requests != null) {
            requests.onNext(NodeMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                    .setSentAtMs(System.currentTimeMillis()).setSequence(++heartbeatSequence)).build());
        }
    }

    /** The attempt's handshake or stream ended: back off (jittered, as the agent does) and try again. */
    private void lost(int current, String why) {
        Duration delay;
        synchronized (this) {
            if (current != attempt) {
                return;
            }
            attempt++;
            dropStream();
            if (stopped) {
                return;
            }
            failures++;
            lastFailure = why;
            fleet.failed(this, why);
            delay = backoff.nextDelay();
            nextAttempt = fleet.timer().schedule(() -> attempt(null), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (open) {
            open = false;
            fleet.closed(this);
        }
    }

    private static String describe(Status status) {
        String description = status.getDescription() == null ? "" : " " + status.getDescription();
        return status.getCode() + (description.length() > 120 ? description.substring(0, 120) + "..." : description);
    }

    /** Guarded by {@code this}. */
    private void dropStream() {
        if (heartbeats != null) {
            heartbeats.cancel(false);
            heartbeats = null;
        }
        if (requests != null) {
            try {
                requests.onError(Status.CANCELLED.withDescription("the node left").asRuntimeException());
            } catch (RuntimeException alreadyGone) {
                // The stream ended already.
            }
            requests = null;
        }
    }

    /** Runs {@code settled} once, when the connection is READY or failed (or at once when null). */
    private void watchReady(int current, Runnable settled) {
        ConnectivityState state = channel.getState(true);
        if (state == ConnectivityState.READY || state == ConnectivityState.TRANSIENT_FAILURE || state == ConnectivityState.SHUTDOWN
                || current != attempt) {
            settled.run();
            return;
        }
        channel.notifyWhenStateChanged(state, () -> watchReady(current, settled));
    }

    private static Runnable once(Runnable action) {
        if (action == null) {
            return () -> { };
        }
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                action.run();
            }
        };
    }

    /** Leaves: the stream is ended, no retry follows, the connection is closed. */
    void stop() {
        ManagedChannel closing;
        synchronized (this) {
            stopped = true;
            attempt++;
            if (nextAttempt != null) {
                nextAttempt.cancel(false);
                nextAttempt = null;
            }
            if (requests != null) {
                try {
                    requests.onCompleted();
                } catch (RuntimeException alreadyGone) {
                    // The stream ended already.
                }
                requests = null;
            }
            if (heartbeats != null) {
                heartbeats.cancel(false);
                heartbeats = null;
            }
            closing = channel;
            channel = null;
            target = null;
        }
        if (open) {
            open = false;
            fleet.closed(this);
        }
        if (closing != null) {
            closing.shutdownNow();
        }
    }
}
