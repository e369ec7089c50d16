package dev.meshhub.node;

import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.NodeCapabilities;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SessionClosing;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One TaskStream: Hello, heartbeats, a watchdog on hub silence, and the tasks' messages.
 *
 * <p>Task messages go through a bounded {@link OutboundQueue} and are sent only while the call
 * {@code isReady()}, resumed by its on-ready handler. Hello and heartbeats are sent directly:
 * they are small and few, and a heartbeat must not wait behind megabytes of output.
 */
final class HubSession implements ClientResponseObserver<NodeMessage, HubMessage> {

    private static final Logger LOG = Logger.getLogger(HubSession.class.getName());
    /** Used when the hub sends no heartbeat interval. */
    static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
    /** Floor for the interval, so a bad setting cannot turn heartbeats into a busy loop. */
    static final long MIN_HEARTBEAT_INTERVAL_MS = 50;

    /** What a session tells the agent that owns it; all on the agent's thread. */
    interface Owner {
        /** The first heartbeat came back: the session is healthy. */
        void healthy();

        /** The hub asks for a workspace file; a refusal goes on {@code queue}. */
        void syncRequested(FileSyncRequest request, OutboundQueue queue);

        /** The hub's CAs changed (a CA rotation): keep the bundle, and renew now when asked. */
        void trustUpdated(dev.meshhub.proto.v1.TrustUpdate update);

        /** The hub rejected the node's credential; the agent ends. */
        void rejected(String hubSays);

        /** Another process took over this node's session ({@code detail}: what the hub said); the agent ends. */
        void replaced(String detail);

        /** The session ended ({@code cause}); the agent reconnects. Not called after {@link #stop}. */
        void ended(HubSession session, String cause, Level level);
    }

    private final Owner owner;
    private final ScheduledExecutorService agentThread;
    private final TaskSupervisor tasks;
    private final Channel channel;
    private final ClientInterceptor credentialHeader;
    private final String nodeLabel;
    private long intervalMs;
    private long timeoutMs;
    private final OutboundQueue queue;
    private ClientCallStreamObserver<NodeMessage> toHub;
    private ScheduledFuture<?> heartbeats;
    private ScheduledFuture<?> watchdog;
    private long lastHeardNanos;
    private long sequence;
    private boolean healthy;
    private boolean ended;
    private SessionClosing closing;

    /**
     * @param agentThread the agent's single thread: every callback, timer and state change of the session runs on it
     * @param serial      hands work to {@code agentThread}, dropping it once the agent is closed
     */
    HubSession(Owner owner, ScheduledExecutorService agentThread, Executor serial, TaskSupervisor tasks, Channel channel,
            ClientInterceptor credentialHeader, String nodeLabel, long outputBufferBytes, long intervalMs, long timeoutMs) {
        this.owner = owner;
        this.agentThread = agentThread;
        this.tasks = tasks;
        this.channel = channel;
        this.credentialHeader = credentialHeader;
        this.nodeLabel = nodeLabel;
        this.intervalMs = intervalMs;
        this.timeoutMs = timeoutMs;
        this.queue = new OutboundQueue(outputBufferBytes, () -> serial.execute(this::drain));
    }

    /** The queue of the tasks' messages to the hub. */
    OutboundQueue queue() {
        return queue;
    }

    /** Opens the TaskStream and says Hello with {@code info}; heartbeats and the silence watchdog start. */
    void open(NodeInfo info) {
        NodeServiceGrpc.newStub(channel).withInterceptors(credentialHeader).taskStream(this);
        lastHeardNanos = System.nanoTime();
        toHub.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(info)
                .setConfinement(tasks.confinement().description())
                .addCapabilities(NodeCapabilities.OUTPUT_CREDIT)).build());
        heartbeats = agentThread.scheduleAtFixedRate(this::sendHeartbeat, intervalMs, intervalMs,
                TimeUnit.MILLISECONDS);
        watchdog = agentThread.schedule(this::checkSilence, timeoutMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<NodeMessage> requestStream) {
        this.toHub = requestStream;
        // Runs on the channel's executor, which is the agent's thread.
        requestStream.setOnReadyHandler(this::drain);
    }

    /** Sends queued task messages while the transport takes them. */
    private void drain() {
        if (ended) {
            return;
        }
        try {
            queue.drainTo(toHub::isReady, toHub::onNext);
        } catch (RuntimeException e) {
            end("could not send to the hub (" + e + ")", Level.WARNING);
        }
    }

    private void sendHeartbeat() {
        if (ended) {
            return;
        }
        try {
            toHub.onNext(NodeMessage.newBuilder()
                    .setHeartbeat(Heartbeat.newBuilder()
                            .setSequence(++sequence)
                            .setSentAtMs(System.currentTimeMillis()))
                    .build());
        } catch (RuntimeException e) {
            // A throwing periodic task would be silently unscheduled; end the session instead.
            end("could not send a heartbeat (" + e + ")", Level.WARNING);
        }
    }

    private void checkSilence() {
        if (ended) {
            return;
        }
        long silentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastHeardNanos);
        if (silentMs >= timeoutMs) {
            end("heard nothing from the hub for " + StatusText.seconds(silentMs), Level.WARNING);
        } else {
            watchdog = agentThread.schedule(this::checkSilence, timeoutMs - silentMs, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void onNext(HubMessage message) {
        if (ended) {
            return;
        }
        lastHeardNanos = System.nanoTime();
        switch (message.getPayloadCase()) {
            case HEARTBEAT:
                if (!healthy) {
                    healthy = true;
                    owner.healthy();
                    LOG.fine("first heartbeat from the hub; session healthy");
                }
                break;
            case CLOSING:
                closing = message.getClosing();
                onClosing(closing);
                break;
            case TASK:
                tasks.assign(message.getTask(), nodeLabel, queue, ClientInterceptors.intercept(channel, credentialHeader));
                break;
            case CANCEL_TASK:
                tasks.cancel(message.getCancelTask());
                break;
            case OUTPUT_CREDIT:
                tasks.credit(message.getOutputCredit());
                break;
            case POLICY_UPDATE:
                tasks.policyUpdate(message.getPolicyUpdate());
                break;
            case SETTINGS_UPDATE:
                settingsUpdate(message.getSettingsUpdate());
                break;
            case SYNC_REQUEST:
                owner.syncRequested(message.getSyncRequest(), queue);
                break;
            case TRUST_UPDATE:
                owner.trustUpdated(message.getTrustUpdate());
                break;
            default:
                LOG.fine("ignoring a hub message this agent does not know (" + message.getPayloadCase() + ")");
        }
    }

    /** The heartbeat interval the hub asks for, with a floor so a bad setting cannot make a busy loop. */
    static long heartbeatInterval(NodeSettings settings) {
        return settings.getHeartbeatIntervalMs() > 0
                ? Math.max(MIN_HEARTBEAT_INTERVAL_MS, settings.getHeartbeatIntervalMs())
                : DEFAULT_HEARTBEAT_INTERVAL_MS;
    }

    static long heartbeatTimeout(NodeSettings settings, long interval) {
        return settings.getHeartbeatTimeoutMs() > 0 ? settings.getHeartbeatTimeoutMs() : 3 * interval;
    }

    /** The hub's settings changed while connected: heartbeats and the watchdog follow them from now on. */
    private void settingsUpdate(NodeSettings settings) {
        long interval = heartbeatInterval(settings);
        long timeout = heartbeatTimeout(settings, interval);
        if (interval == intervalMs && timeout == timeoutMs) {
            return;
        }
        LOG.info("the hub changed its settings: heartbeat every " + StatusText.seconds(interval) + " (was " + StatusText.seconds(intervalMs)
                + "), silence limit " + StatusText.seconds(timeout) + " (was " + StatusText.seconds(timeoutMs) + ")");
        timeoutMs = timeout;
        // The watchdog was armed for the old limit; arm it for the new one now.
        watchdog.cancel(false);
        long silentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastHeardNanos);
        watchdog = agentThread.schedule(this::checkSilence, Math.max(0, timeout - silentMs), TimeUnit.MILLISECONDS);
        if (interval != intervalMs) {
            intervalMs = interval;
            heartbeats.cancel(false);
            heartbeats = agentThread.scheduleAtFixedRate(this::sendHeartbeat, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    private void onClosing(SessionClosing c) {
        String detail = c.getDetail().isEmpty() ? "" : ": " + c.getDetail();
        switch (c.getReason()) {
            case REVOKED:
                owner.rejected("REVOKED" + detail);
                break;
            case REPLACED:
                owner.replaced(detail);
                break;
            default:
                // The stream end follows and triggers the reconnect.
                LOG.info("the hub is closing this session (" + c.getReason() + detail + ")");
        }
    }

    @Override
    public void onError(Throwable t) {
        if (ended) {
            return;
        }
        Status status = Status.fromThrowable(t);
        if (status.getCode() == Status.Code.UNAUTHENTICATED || status.getCode() == Status.Code.PERMISSION_DENIED) {
            owner.rejected(StatusText.hubMessage(status));
            return;
        }
        end("stream failed: " + StatusText.describe(status) + closingSuffix(), closing != null ? Level.INFO : StatusText.levelFor(status));
    }

    @Override
    public void onCompleted() {
        if (ended) {
            return;
        }
        end("the hub ended the session" + closingSuffix(), Level.INFO);
    }

    private String closingSuffix() {
        if (closing == null) {
            return "";
        }
        return " (" + closing.getReason() + (closing.getDetail().isEmpty() ? "" : ": " + closing.getDetail())
                + ")";
    }

    private void end(String cause, Level level) {
        stop(cause);
        owner.ended(this, cause, level);
    }

    /** Cancels timers and the call. Idempotent. */
    void stop(String why) {
        if (ended) {
            return;
        }
        ended = true;
        tasks.abandonAll("session ended (" + why + ")", TaskSupervisor.MAX_KILL_GRACE_MS);
        queue.close();
        if (heartbeats != null) {
            heartbeats.cancel(false);
        }
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        if (toHub != null) {
            toHub.cancel(why, null);
        }
    }
}
