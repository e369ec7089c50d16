package dev.meshhub.node;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The node agent: enrolls once with an invite token, then keeps one TaskStream open to the hub
 * for as long as it runs, sending heartbeats and reconnecting with jittered backoff after any
 * disconnect.
 *
 * <p>Threading: the agent owns one single-threaded {@code ScheduledExecutorService} (daemon,
 * named {@code meshnode-agent-N}). It is also the executor of the gRPC channel, so every gRPC
 * callback, timer and state change runs on that one thread and the state needs no locks. Nothing
 * on it blocks on the network: calls are asynchronous, with a deadline on every unary call.
 *
 * <p>Tasks the hub assigns are run by a {@link TaskSupervisor}: its state lives on the same
 * thread; only the reading of task output (two threads per task), the fetching of files the hub
 * pushes (one thread per download) and the searching and signalling of process trees (one
 * process-control thread) happen elsewhere. When a session ends, every running task's process
 * tree is ended (and every download stopped), since its result could no longer be reported.
 *
 * <p>Permanent failures (enrollment refused, credential rejected, session replaced) complete
 * {@link #exitFuture()} with the exit code and a one-line message; transient ones (hub down,
 * deadline, resource exhausted, stream reset, silent hub) are retried forever.
 */
public final class NodeAgent implements AutoCloseable {

    /** Shape of an invite token per the wire contract. */
    public static final Pattern INVITE_TOKEN_SHAPE = Pattern.compile("^mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}$");
    /** Names the hub accepts: letters, digits, '.', '_', '-'; at most 63 characters. */
    public static final Pattern NODE_NAME_SHAPE = Pattern.compile("^[A-Za-z0-9._-]{1,63}$");
    /** Deadline of every unary call. */
    static final long RPC_DEADLINE_MS = 10_000;
    /** Used when the hub sends no heartbeat interval. */
    static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
    /** Floor for the interval, so a bad setting cannot turn heartbeats into a busy loop. */
    static final long MIN_HEARTBEAT_INTERVAL_MS = 50;

    private static final Logger LOG = Logger.getLogger(NodeAgent.class.getName());
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final NodeAgentConfig config;
    private final CredentialStore store;
    private final Backoff backoff;
    private final ScheduledThreadPoolExecutor executor;
    /** Hands work to {@link #executor}; drops it quietly once the agent is closed. */
    private final Executor serial;
    private final CompletableFuture<AgentExit> exit = new CompletableFuture<>();
    private final TaskSupervisor tasks;
    /** The queue of the current (or last) session; read by tests. */
    private volatile OutboundQueue outbound;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile ManagedChannel channel;
    private boolean closed; // guarded by this

    // Confined to the executor thread.
    private boolean stopping;
    private boolean everConnected;
    private NodeInfo info;
    private NodeIdentity identity;
    private ClientInterceptor credentialHeader;
    private Session session;
    private ScheduledFuture<?> nextAttempt;

    public NodeAgent(NodeAgentConfig config) {
        this.config = config;
        this.store = new CredentialStore(config.workspace());
        this.backoff = config.newBackoff();
        int n = INSTANCES.incrementAndGet();
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "meshnode-agent-" + n);
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.serial = task -> {
            try {
                executor.execute(task);
            } catch (RejectedExecutionException e) {
                LOG.fine("agent closed; dropping a late callback");
            }
        };
        this.tasks = new TaskSupervisor(config, executor, serial, n);
        this.uploads = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "meshnode-upload-" + n);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs uploads the hub asks for, off the agent's thread (they block on disk and flow control). */
    private final java.util.concurrent.ExecutorService uploads;

    private FolderSync folderSync;
    private ScheduledFuture<?> folderPasses;
    private final AtomicBoolean folderPassRunning = new AtomicBoolean();

    /** On the agent's thread, once a session is healthy: passes over the sync folders begin (once per agent). */
    private void startFolderSync() {
        if (config.syncFolders().isEmpty() || folderPasses != null) {
            return;
        }
        folderSync = new FolderSync(config.workspace(), config.syncFolders(), identity == null ? "?" : identity.describe());
        long every = config.syncInterval().toMillis();
        folderPasses = executor.scheduleWithFixedDelay(this::folderPass, 0, every, TimeUnit.MILLISECONDS);
        LOG.info("mirroring " + config.syncFolders() + " to the hub every " + config.syncInterval().toSeconds() + " s");
    }

    /** Hands one pass to an upload thread, unless one is still going. */
    private void folderPass() {
        ManagedChannel ch = channel;
        ClientInterceptor header = credentialHeader;
        if (ch == null || header == null || !folderPassRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            uploads.execute(() -> {
                try {
                    FolderSync.Pass pass = folderSync.pass(new FileUploader(ch, header));
                    if (pass.uploaded() > 0 || pass.failed() > 0) {
                        LOG.info("folder sync: " + pass.uploaded() + " file(s) uploaded, " + pass.unchanged() + " unchanged, "
                                + pass.failed() + " failed");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "folder sync pass failed", e);
                } finally {
                    folderPassRunning.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            folderPassRunning.set(false);
        }
    }

    /** Uploads a workspace file the hub asked for; a refusal is reported on the control stream. */
    private void sync(dev.meshhub.proto.v1.FileSyncRequest request, OutboundQueue queue) {
        ManagedChannel ch = channel;
        ClientInterceptor header = credentialHeader;
        String label = identity == null ? "?" : identity.describe();
        try {
            uploads.execute(() -> {
                java.nio.file.Path file;
                try {
                    file = WorkingDirectory.resolveFile(config.workspace(), request.getPath(), label);
                } catch (WorkingDirectory.Refused | java.io.IOException e) {
                    LOG.warning("cannot upload " + request.getPath() + ": " + e.getMessage());
                    queue.add(dev.meshhub.proto.v1.NodeMessage.newBuilder().setSyncFailed(dev.meshhub.proto.v1.FileSyncFailed
                            .newBuilder().setSyncId(request.getSyncId()).setReason(e.getMessage())).build());
                    return;
                }
                try {
                    FileUploader.Result done = new FileUploader(ch, header).upload(file, request.getPath(), request.getSyncId());
                    LOG.info("uploaded " + done.path() + " to the hub's mirror: " + done.size() + " bytes (" + done.sent()
                            + " sent, " + done.resumedFrom() + " resumed), sha256 " + done.sha256());
                } catch (FileUploader.UploadException e) {
                    LOG.warning("upload of " + request.getPath() + " failed: " + e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.fine("agent closed; not uploading " + request.getPath());
        }
    }

    /** Where the credential lives ({@code <workspace>/.meshnode}). */
    public CredentialStore credentialStore() {
        return store;
    }

    /** Starts enrolling or connecting in the background; returns at once. */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("already started");
        }
        serial.execute(this::begin);
    }

    /**
     * Completes when the agent ends: {@link AgentExit#STOPPED} after {@link #close()}, another
     * code after a permanent failure. Completing the returned future has no effect on the agent.
     */
    public CompletableFuture<AgentExit> exitFuture() {
        return exit.copy();
    }

    /**
     * Ends every running task's process tree (grace, then kill; waits for that), cancels the
     * stream, shuts the channel and the executor down. Idempotent; safe from any thread but the
     * agent's.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            executor.submit(() -> finish(AgentExit.stopped())).get(5, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | ExecutionException | TimeoutException e) {
            LOG.log(Level.FINE, "stopping the agent", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        exit.complete(AgentExit.stopped());
        tasks.close();
        uploads.shutdownNow();
        ManagedChannel ch = channel;
        try {
            if (ch != null) {
                ch.shutdownNow();
                if (!ch.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warning("the gRPC channel did not terminate within 5 s");
                }
            }
            executor.shutdown();
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    // ---- lifecycle, all on the executor thread ----

    private void begin() {
        int swept = DownloadTemps.sweep(config.workspace());
        if (swept > 0) {
            LOG.info("removed " + swept + " temporary file(s) of pushes a previous run did not finish");
        }
        if (stopping) {
            return;
        }
        info = nodeInfo(config.agentVersion());
        Optional<NodeIdentity> stored;
        try {
            stored = store.load();
        } catch (IOException e) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, e.getMessage()));
            return;
        }
        String token = config.inviteToken();
        if (stored.isPresent()) {
            identity = stored.get();
            if (token != null) {
                LOG.warning("a credential is already stored in " + store.directory() + "; ignoring the invite token"
                        + " (delete that directory to enroll again)");
            }
            if (config.nodeName() != null && !config.nodeName().equals(identity.name())) {
                LOG.warning("--name is only used at enrollment; this node is enrolled as " + identity.describe());
            }
            credentialHeader = credentialHeader(identity);
            LOG.info("using the stored credential of " + identity.describe() + " from " + store.directory());
        } else if (token == null) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "no credential in " + store.directory()
                    + " and no invite token; start once with --token <invite token>"
                    + " (an admin creates one with 'meshctl invite create')"));
            return;
        } else if (!INVITE_TOKEN_SHAPE.matcher(token).matches()) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "the invite token is malformed (expected"
                    + " mhi.<16 hex digits>.<43 characters>); copy it again from 'meshctl invite create'"));
            return;
        } else if (config.nodeName() != null && !NODE_NAME_SHAPE.matcher(config.nodeName()).matches()) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "invalid --name '" + config.nodeName()
                    + "': use letters, digits, '.', '_' or '-', at most 63 characters"));
            return;
        }
        channel = ManagedChannelBuilder.forAddress(config.hub().host(), config.hub().port())
                .usePlaintext()
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(false)
                .executor(serial)
                .userAgent("meshnode/" + config.agentVersion())
                .build();
        attempt();
    }

    private void attempt() {
        nextAttempt = null;
        if (stopping) {
            return;
        }
        // Our own backoff decides when to try; skip the channel's internal reconnect backoff.
        channel.resetConnectBackoff();
        if (identity == null) {
            enroll();
        } else {
            syncConfiguration();
        }
    }

    private void enroll() {
        SyncConfigurationRequest.Builder request = SyncConfigurationRequest.newBuilder()
                .setInviteToken(config.inviteToken())
                .setInfo(info);
        if (config.nodeName() != null) {
            request.setNodeName(config.nodeName());
        }
        // INFO once; each retry already logs its own line.
        LOG.log(backoff.attempts() == 0 ? Level.INFO : Level.FINE, "enrolling with the hub at " + config.hub()
                + (config.nodeName() == null ? "" : " as '" + config.nodeName() + "'"));
        ListenableFuture<SyncConfigurationResponse> call = NodeServiceGrpc.newFutureStub(channel)
                .withDeadlineAfter(RPC_DEADLINE_MS, TimeUnit.MILLISECONDS)
                .syncConfiguration(request.build());
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(SyncConfigurationResponse response) {
                enrolled(response);
            }

            @Override
            public void onFailure(Throwable t) {
                enrollmentFailed(Status.fromThrowable(t));
            }
        }, serial);
    }

    private void enrolled(SyncConfigurationResponse response) {
        if (stopping) {
            return;
        }
        if (response.getNodeId().isEmpty() || !CredentialStore.isUsableCredential(response.getNodeCredential())) {
            finish(new AgentExit(AgentExit.FAILED, "the hub at " + config.hub() + " accepted the invite token but sent"
                    + " no usable credential; check that hub and node agent versions match, then enroll with a new"
                    + " invite token"));
            return;
        }
        NodeIdentity enrolled = new NodeIdentity(response.getNodeId(), response.getNodeName(),
                response.getNodeCredential());
        try {
            store.save(enrolled);
        } catch (IOException e) {
            finish(new AgentExit(AgentExit.FAILED, "enrolled as " + enrolled.describe() + " but could not store the"
                    + " credential in " + store.directory() + " (" + e.getMessage() + "); the invite token is spent:"
                    + " fix the directory, then enroll with a new invite token"));
            return;
        }
        identity = enrolled;
        credentialHeader = credentialHeader(enrolled);
        LOG.info("enrolled as " + enrolled.describe() + "; credential stored in " + store.credentialFile());
        syncConfiguration();
    }

    private void enrollmentFailed(Status status) {
        if (stopping) {
            return;
        }
        switch (status.getCode()) {
            case UNAUTHENTICATED:
            case INVALID_ARGUMENT:
            case PERMISSION_DENIED:
                finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED,
                        "enrollment refused: " + hubMessage(status)));
                break;
            case UNIMPLEMENTED:
                finish(notTheNodeApi());
                break;
            default:
                retry("enrollment at " + config.hub() + " failed: " + describe(status), levelFor(status));
        }
    }

    private void syncConfiguration() {
        SyncConfigurationRequest request = SyncConfigurationRequest.newBuilder()
                .setNodeCredential(identity.credential())
                .setInfo(info)
                .build();
        ListenableFuture<SyncConfigurationResponse> call = NodeServiceGrpc.newFutureStub(channel)
                .withInterceptors(credentialHeader)
                .withDeadlineAfter(RPC_DEADLINE_MS, TimeUnit.MILLISECONDS)
                .syncConfiguration(request);
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(SyncConfigurationResponse response) {
                openSession(response);
            }

            @Override
            public void onFailure(Throwable t) {
                syncFailed(Status.fromThrowable(t));
            }
        }, serial);
    }

    private void syncFailed(Status status) {
        if (stopping) {
            return;
        }
        switch (status.getCode()) {
            case UNAUTHENTICATED:
            case PERMISSION_DENIED:
                finish(credentialRejected(hubMessage(status)));
                break;
            case UNIMPLEMENTED:
                finish(notTheNodeApi());
                break;
            default:
                retry((everConnected ? "reconnecting to " : "cannot connect to ") + config.hub() + ": "
                        + describe(status), levelFor(status));
        }
    }

    private void openSession(SyncConfigurationResponse response) {
        if (stopping) {
            return;
        }
        NodeSettings settings = response.getSettings();
        long interval = heartbeatInterval(settings);
        long timeout = heartbeatTimeout(settings, interval);
        if (!response.getNodeName().isEmpty() && !response.getNodeName().equals(identity.name())) {
            identity = new NodeIdentity(identity.nodeId(), response.getNodeName(), identity.credential());
        }
        tasks.policyFromHandshake(response.getPolicy());
        session = new Session(interval, timeout);
        session.open();
        everConnected = true;
        LOG.info("connected to " + config.hub() + " as " + identity.describe() + "; heartbeat every "
                + seconds(interval));
    }

    /** The heartbeat interval the hub asks for, with a floor so a bad setting cannot make a busy loop. */
    private static long heartbeatInterval(NodeSettings settings) {
        return settings.getHeartbeatIntervalMs() > 0
                ? Math.max(MIN_HEARTBEAT_INTERVAL_MS, settings.getHeartbeatIntervalMs())
                : DEFAULT_HEARTBEAT_INTERVAL_MS;
    }

    private static long heartbeatTimeout(NodeSettings settings, long interval) {
        return settings.getHeartbeatTimeoutMs() > 0 ? settings.getHeartbeatTimeoutMs() : 3 * interval;
    }

    private void sessionEnded(Session ended, String cause, Level level) {
        if (session == ended) {
            session = null;
        }
        retry("disconnected: " + cause, level);
    }

    private void retry(String what, Level level) {
        if (stopping) {
            return;
        }
        Duration delay = backoff.nextDelay();
        LOG.log(level, what + "; retrying in " + seconds(delay.toMillis()));
        nextAttempt = executor.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Ends the agent with the given outcome; the first outcome wins. */
    private void finish(AgentExit outcome) {
        if (stopping) {
            return;
        }
        stopping = true;
        if (nextAttempt != null) {
            nextAttempt.cancel(false);
            nextAttempt = null;
        }
        tasks.abandonAll("node agent stopping", TaskSupervisor.SHUTDOWN_KILL_GRACE_MS);
        if (session != null) {
            session.stop("node agent stopping");
            session = null;
        }
        ManagedChannel ch = channel;
        if (ch != null) {
            ch.shutdownNow();
        }
        if (outcome.code() == AgentExit.STOPPED) {
            LOG.info("stopped");
        } else {
            LOG.fine("ending: " + outcome);
        }
        exit.complete(outcome);
    }

    private AgentExit credentialRejected(String hubSays) {
        return new AgentExit(AgentExit.CREDENTIAL_REJECTED, "this node's credential was rejected (revoked?); delete "
                + store.directory() + " and enroll with a new invite token (hub: " + hubSays + ")");
    }

    private AgentExit notTheNodeApi() {
        return new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "the server at " + config.hub()
                + " does not offer meshhub's node API (UNIMPLEMENTED); point --hub at the hub's node port (default "
                + WireHeaders.DEFAULT_NODE_PORT + ")");
    }

    /** Bytes the outbound queue of the current (or last) session held at most; for tests. */
    long outboundPeakBytes() {
        OutboundQueue q = outbound;
        return q == null ? 0 : q.peakBytes();
    }

    /**
     * One TaskStream: Hello, heartbeats, a watchdog on hub silence, and the tasks' messages.
     *
     * <p>Task messages go through a bounded {@link OutboundQueue} and are sent only while the call
     * {@code isReady()}, resumed by its on-ready handler. Hello and heartbeats are sent directly:
     * they are small and few, and a heartbeat must not wait behind megabytes of output.
     */
    private final class Session implements ClientResponseObserver<NodeMessage, HubMessage> {
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

        Session(long intervalMs, long timeoutMs) {
            this.intervalMs = intervalMs;
            this.timeoutMs = timeoutMs;
            this.queue = new OutboundQueue(config.outputBufferBytes(), () -> serial.execute(this::drain));
            outbound = queue;
        }

        void open() {
            NodeServiceGrpc.newStub(channel).withInterceptors(credentialHeader).taskStream(this);
            lastHeardNanos = System.nanoTime();
            toHub.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(info)).build());
            heartbeats = executor.scheduleAtFixedRate(this::sendHeartbeat, intervalMs, intervalMs,
                    TimeUnit.MILLISECONDS);
            watchdog = executor.schedule(this::checkSilence, timeoutMs, TimeUnit.MILLISECONDS);
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
                end("heard nothing from the hub for " + seconds(silentMs), Level.WARNING);
            } else {
                watchdog = executor.schedule(this::checkSilence, timeoutMs - silentMs, TimeUnit.MILLISECONDS);
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
                        startFolderSync();
                        backoff.reset();
                        LOG.fine("first heartbeat from the hub; session healthy");
                    }
                    break;
                case CLOSING:
                    closing = message.getClosing();
                    onClosing(closing);
                    break;
                case TASK:
                    tasks.assign(message.getTask(), identity.describe(), queue,
                            ClientInterceptors.intercept(channel, credentialHeader));
                    break;
                case CANCEL_TASK:
                    tasks.cancel(message.getCancelTask());
                    break;
                case POLICY_UPDATE:
                    tasks.policyUpdate(message.getPolicyUpdate());
                    break;
                case SETTINGS_UPDATE:
                    settingsUpdate(message.getSettingsUpdate());
                    break;
                case SYNC_REQUEST:
                    sync(message.getSyncRequest(), queue);
                    break;
                default:
                    LOG.fine("ignoring a hub message this agent does not know (" + message.getPayloadCase() + ")");
            }
        }

        /** The hub's settings changed while connected: heartbeats and the watchdog follow them from now on. */
        private void settingsUpdate(NodeSettings settings) {
            long interval = heartbeatInterval(settings);
            long timeout = heartbeatTimeout(settings, interval);
            if (interval == intervalMs && timeout == timeoutMs) {
                return;
            }
            LOG.info("the hub changed its settings: heartbeat every " + seconds(interval) + " (was " + seconds(intervalMs)
                    + "), silence limit " + seconds(timeout) + " (was " + seconds(timeoutMs) + ")");
            timeoutMs = timeout;
            // The watchdog was armed for the old limit; arm it for the new one now.
            watchdog.cancel(false);
            long silentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastHeardNanos);
            watchdog = executor.schedule(this::checkSilence, Math.max(0, timeout - silentMs), TimeUnit.MILLISECONDS);
            if (interval != intervalMs) {
                intervalMs = interval;
                heartbeats.cancel(false);
                heartbeats = executor.scheduleAtFixedRate(this::sendHeartbeat, interval, interval, TimeUnit.MILLISECONDS);
            }
        }

        private void onClosing(SessionClosing c) {
            String detail = c.getDetail().isEmpty() ? "" : ": " + c.getDetail();
            switch (c.getReason()) {
                case REVOKED:
                    finish(credentialRejected("REVOKED" + detail));
                    break;
                case REPLACED:
                    finish(new AgentExit(AgentExit.REPLACED, "another process is running with this node's"
                            + " credential (the hub replaced this session" + detail + "); stop the other meshnode"
                            + " that uses " + store.directory() + ", or give this one its own workspace and invite"
                            + " token"));
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
                finish(credentialRejected(hubMessage(status)));
                return;
            }
            end("stream failed: " + describe(status) + closingSuffix(),
                    closing != null ? Level.INFO : levelFor(status));
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
            sessionEnded(this, cause, level);
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

    // ---- helpers ----

    private static ClientInterceptor credentialHeader(NodeIdentity identity) {
        Metadata headers = new Metadata();
        headers.put(WireHeaders.NODE_CREDENTIAL, identity.credential());
        return MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    private static Level levelFor(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE ? Level.INFO : Level.WARNING;
    }

    /** What the hub said: its description, or the status code when it said nothing. */
    static String hubMessage(Status status) {
        String d = status.getDescription();
        return d == null || d.isBlank() ? status.getCode().name() : d;
    }

    /** Code, description and root cause, e.g. {@code UNAVAILABLE: io exception (Connection refused)}. */
    static String describe(Status status) {
        StringBuilder b = new StringBuilder(status.getCode().name());
        if (status.getDescription() != null && !status.getDescription().isBlank()) {
            b.append(": ").append(status.getDescription());
        }
        Throwable root = status.getCause();
        if (root != null) {
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            b.append(" (").append(root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName())
                    .append(')');
        }
        return b.toString();
    }

    /** {@code 350 ms}, {@code 1.3 s}. */
    static String seconds(long millis) {
        return millis < 1000 ? millis + " ms" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static NodeInfo nodeInfo(String agentVersion) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException | RuntimeException e) {
            host = System.getenv().getOrDefault("HOSTNAME", System.getenv().getOrDefault("COMPUTERNAME", "unknown"));
        }
        String os = System.getProperty("os.name", "unknown") + " " + System.getProperty("os.version", "")
                + " (" + System.getProperty("os.arch", "") + ")";
        return NodeInfo.newBuilder().setHostname(host).setOs(os).setAgentVersion(agentVersion).build();
    }
}
