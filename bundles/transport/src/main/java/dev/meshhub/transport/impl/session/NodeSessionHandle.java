package dev.meshhub.transport.impl.session;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshhub.api.node.NodeSession;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.SessionClosing;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * One node's live TaskStream. Every outbound call goes through this object's monitor, because a
 * gRPC stream observer is not thread-safe and the heartbeat thread, admin calls and the stream's own
 * handlers all write to it.
 */
public final class NodeSessionHandle {

    private static final java.util.concurrent.atomic.AtomicLong SESSION_IDS = new java.util.concurrent.atomic.AtomicLong();

    private final String sessionId = "s-" + SESSION_IDS.incrementAndGet();
    private final String nodeId;
    private final String name;
    private final String address;
    private final Instant connectedSince;
    private final ServerCallStreamObserver<HubMessage> outbound;
    private final Clock clock;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean registered;
    private final AtomicLong heartbeatSequence = new AtomicLong();
    private volatile Instant lastHeard;
    private volatile Instant lastSent;
    /** Until when the certificate the session stands on is valid (renewals move it); null for a bearer session. */
    private volatile Instant certificateValidUntil;

    public NodeSessionHandle(String nodeId, String name, String address, ServerCallStreamObserver<HubMessage> outbound, Clock clock) {
        this.nodeId = nodeId;
        this.name = name;
        this.address = address;
        this.outbound = outbound;
        this.clock = clock;
        this.connectedSince = clock.instant();
        this.lastHeard = connectedSince;
        this.lastSent = connectedSince;
    }

    public String nodeId() {
        return nodeId;
    }

    /** Until when the node's certificate is valid, or null when the session was opened without one. */
    public Instant certificateValidUntil() {
        return certificateValidUntil;
    }

    /** The session stands on a certificate valid until then (at opening, and again at each renewal). */
    public void certificateValidUntil(Instant until) {
        certificateValidUntil = until;
    }

    private volatile java.security.cert.X509Certificate certificate;

    /** The node certificate the session stands on (the newest renewal's), or null for a bearer credential. */
    public java.security.cert.X509Certificate certificate() {
        return certificate;
    }

    /** The session stands on {@code current} from now on: its certificate and expiry. */
    public void certificate(java.security.cert.X509Certificate current) {
        certificate = current;
        certificateValidUntil = current == null ? null : current.getNotAfter().toInstant();
    }

    /** This session's id (unique while the hub runs), for logs and takeover audits. */
    public String sessionId() {
        return sessionId;
    }

    public String name() {
        return name;
    }

    public String address() {
        return address;
    }

    public Instant lastHeard() {
        return lastHeard;
    }

    public Instant lastSent() {
        return lastSent;
    }

    public Instant connectedSince() {
        return connectedSince;
    }

    /** Whether the session said Hello and entered the directory. */
    public boolean isRegistered() {
        return registered;
    }

    void markRegistered() {
        registered = true;
    }

    /** Records that the node was heard from. */
    public void heard() {
        lastHeard = clock.instant();
    }

    public NodeSession snapshot() {
        return new NodeSession(nodeId, name, address, connectedSince, lastHeard, 0, "", confinement);
    }

    private volatile String confinement = "";
    private volatile boolean outputCredit;

    /** Whether the node honours output credit (its Hello listed {@code output-credit}). */
    public boolean outputCredit() {
        return outputCredit;
    }

    /** What the node's Hello said it understands; names this hub does not know are ignored. */
    public void capabilities(java.util.List<String> said) {
        outputCredit = said.contains(dev.meshhub.proto.v1.NodeCapabilities.OUTPUT_CREDIT);
    }

    /** How the node confines STRICT tasks, as its Hello said (bounded and printable; "" when it did not say). */
    public void confinement(String said) {
        String printable = said == null ? "" : said.replaceAll("[\\p{Cntrl}]", "?");
        confinement = printable.length() > 200 ? printable.substring(0, 200) + "..." : printable;
    }

    /**
     * Sends a heartbeat unless the node is not reading (flow control): a node that does not drain its
     * stream never makes the hub buffer heartbeats for it.
     *
     * @return whether one was sent
     */
    public synchronized boolean sendHeartbeat() {
        if (ended.get() || !outbound.isReady()) {
            return false;
        }
        Instant now = clock.instant();
        try {
            outbound.onNext(HubMessage.newBuilder()
                    .setHeartbeat(Heartbeat.newBuilder()
                            .setSentAtMs(now.toEpochMilli())
                            .setSequence(heartbeatSequence.incrementAndGet()))
                    .build());
            lastSent = now;
            return true;
        } catch (StatusRuntimeException | IllegalStateException alreadyClosed) {
            return false;
        }
    }

    /**
     * Sends one message (a task, a cancel, a policy update). Not subject to {@code isReady}: the
     * dispatcher bounds how many tasks a node may have pending, which bounds what can queue here.
     *
     * @return false when the stream is already over
     */
    public synchronized boolean send(HubMessage message) {
        if (ended.get()) {
            return false;
        }
        try {
            outbound.onNext(message);
            return true;
        } catch (StatusRuntimeException | IllegalStateException alreadyClosed) {
            return false;
        }
    }

    /** The policy last sent to this node (at handshake time: none; the handshake carried one). */
    private volatile dev.meshhub.proto.v1.SandboxPolicy policySent;

    public dev.meshhub.proto.v1.SandboxPolicy policySent() {
        return policySent;
    }

    public void policySent(dev.meshhub.proto.v1.SandboxPolicy policy) {
        policySent = policy;
    }

    /** Whether the session has ended (closed by either side). */
    public boolean isEnded() {
        return ended.get();
    }

    /**
     * Marks the session ended.
     *
     * @return true for the first caller only
     */
    public boolean markEnded() {
        return ended.compareAndSet(false, true);
    }

    /**
     * Ends the stream from the hub's side: tells the node why (when it is reading), then closes the
     * call with {@code status}. Safe to call from any thread, any number of times.
     */
    public synchronized void closeStream(SessionClosing.Reason reason, Status status) {
        try {
            if (outbound.isReady()) {
                outbound.onNext(HubMessage.newBuilder()
                        .setClosing(SessionClosing.newBuilder().setReason(reason).setDetail(status.getDescription() == null ? "" : status.getDescription()))
                        .build());
            }
            outbound.onError(status.asRuntimeException());
        } catch (StatusRuntimeException | IllegalStateException alreadyClosed) {
            // The call is already over (cancelled by the node or closed before); nothing to send.
        }
    }

    /** Completes the stream normally (the node half-closed first). */
    public synchronized void completeStream() {
        try {
            outbound.onCompleted();
        } catch (StatusRuntimeException | IllegalStateException alreadyClosed) {
            // already over
        }
    }

    @Override
    public String toString() {
        return nodeId + " (" + name + ") from " + address;
    }
}
