package dev.meshhub.node;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.time.Duration;
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
    private final WorkspaceUploads uploads;
    /** The queue of the current (or last) session; read by tests. */
    private volatile OutboundQueue outbound;
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile ManagedChannel channel;
    private HubLink link;
    private final NodeCredentials credentials;
    private boolean closed; // guarded by this

    // Confined to the executor thread.
    private boolean stopping;
    private boolean everConnected;
    private NodeInfo info;
    private volatile NodeIdentity identity;
    private volatile ClientInterceptor credentialHeader;
    private HubSession session;
    private ScheduledFuture<?> nextAttempt;
    private final CertificateRenewal renewal;
    private final HubRefusals refusals;

    public NodeAgent(NodeAgentConfig config) {
        this.config = config;
        this.store = new CredentialStore(config.stateDirectory());
        this.credentials = new NodeCredentials(store);
        this.refusals = new HubRefusals(config.hub(), store.directory());
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
        this.uploads = new WorkspaceUploads(config, executor, this::uploadLink, n);
        this.renewal = new CertificateRenewal(executor, serial, credentials, new CertificateRenewal.Agent() {
            @Override
            public boolean stopping() {
                return stopping;
            }

            @Override
            public ManagedChannel channel() {
                return channel;
            }

            @Override
            public NodeInfo info() {
                return info;
            }

            @Override
            public boolean relink() {
                return NodeAgent.this.relink();
            }
        });
    }

    /** Where workspace uploads go now; null until the agent has a channel and a credential. */
    private WorkspaceUploads.Link uploadLink() {
        ManagedChannel ch = channel;
        ClientInterceptor header = credentialHeader;
        NodeIdentity id = identity;
        return ch == null || header == null || id == null ? null : new WorkspaceUploads.Link(ch, header, id.describe());
    }

    /** Where the key and certificate live (the state directory). */
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
        uploads.close();
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
        AgentExit unprepared = AgentStart.prepareDirectories(config);
        if (unprepared != null) {
            finish(unprepared);
            return;
        }
        if (stopping) {
            return;
        }
        info = AgentStart.nodeInfo(config.agentVersion());
        if ("bwrap".equals(config.confinement()) && !tasks.confinement().confined()) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "--confinement bwrap: STRICT tasks cannot be confined"
                    + " here (" + tasks.confinement().description() + "); install the bubblewrap package, or start with"
                    + " --confinement auto to run STRICT tasks unconfined"));
            return;
        }
        AgentStart start = AgentStart.check(config, store);
        if (start.refusal() != null) {
            finish(start.refusal());
            return;
        }
        identity = start.stored();
        if (identity != null) {
            credentialHeader = NodeCredentials.header(identity);
        }
        try {
            if (identity != null) {
                credentials.load();
            }
            link = HubLink.open(config, store, serial, credentials.certificate(), false);
        } catch (IOException e) {
            finish(new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, e.getMessage()));
            return;
        }
        channel = link.channel();
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
        SyncConfigurationRequest request = credentials.enrollment(config.inviteToken(), config.nodeName(), info);
        // INFO once; each retry already logs its own line.
        LOG.log(backoff.attempts() == 0 ? Level.INFO : Level.FINE, "enrolling with the hub at " + config.hub()
                + (config.nodeName() == null ? "" : " as '" + config.nodeName() + "'"));
        callSyncConfiguration(NodeServiceGrpc.newFutureStub(channel), request, this::enrolled, this::enrollmentFailed);
    }

    /** One SyncConfiguration call with the unary deadline; its outcome is handled on the agent's thread. */
    private void callSyncConfiguration(NodeServiceGrpc.NodeServiceFutureStub stub, SyncConfigurationRequest request,
            java.util.function.Consumer<SyncConfigurationResponse> answered, java.util.function.Consumer<Status> failed) {
        ListenableFuture<SyncConfigurationResponse> call = stub.withDeadlineAfter(RPC_DEADLINE_MS, TimeUnit.MILLISECONDS)
                .syncConfiguration(request);
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(SyncConfigurationResponse response) {
                answered.accept(response);
            }

            @Override
            public void onFailure(Throwable t) {
                failed.accept(Status.fromThrowable(t));
            }
        }, serial);
    }

    private void enrolled(SyncConfigurationResponse response) {
        if (stopping) {
            return;
        }
        if (response.getNodeId().isEmpty() || (response.getCertificateChainCount() == 0
                && !CredentialStore.isUsableCredential(response.getNodeCredential()))) {
            finish(new AgentExit(AgentExit.FAILED, "the hub at " + config.hub() + " accepted the invite token but sent"
                    + " no usable credential; check that hub and node agent versions match, then enroll with a new"
                    + " invite token"));
            return;
        }
        NodeIdentity enrolled;
        try {
            enrolled = credentials.enrolled(response);
        } catch (IOException | java.security.cert.CertificateException e) {
            finish(new AgentExit(AgentExit.FAILED, "enrolled as " + response.getNodeId() + " but could not store the"
                    + " certificate or credential in " + store.directory() + " (" + e.getMessage() + "); the invite token is spent:"
                    + " fix the directory, then enroll with a new invite token"));
            return;
        }
        identity = enrolled;
        credentialHeader = NodeCredentials.header(enrolled);
        if (credentials.certificate() != null) {
            LOG.info("enrolled as " + enrolled.describe() + "; certificate (valid until " + credentials.certificate().notAfter()
                    + ") and key stored in " + store.directory());
            if (!relink()) {
                return;
            }
        } else {
            LOG.info("enrolled as " + enrolled.describe() + "; credential stored in " + store.credentialFile());
        }
        syncConfiguration();
    }

    private void enrollmentFailed(Status status) {
        if (stopping) {
            return;
        }
        AgentExit refused = refusals.ofEnrollment(status);
        if (refused != null) {
            finish(refused);
        } else {
            retry("enrollment at " + config.hub() + " failed: " + StatusText.describe(status), StatusText.levelFor(status));
        }
    }

    private void syncConfiguration() {
        SyncConfigurationRequest request = credentials.reconnect(identity, info);
        callSyncConfiguration(NodeServiceGrpc.newFutureStub(channel).withInterceptors(credentialHeader), request,
                this::openSession, this::syncFailed);
    }

    private void syncFailed(Status status) {
        if (stopping) {
            return;
        }
        AgentExit refused = refusals.ofReconnect(status);
        if (refused != null) {
            finish(refused);
        } else {
            retry((everConnected ? "reconnecting to " : "cannot connect to ") + config.hub() + ": "
                    + StatusText.describe(status), StatusText.levelFor(status));
        }
    }

    private void openSession(SyncConfigurationResponse response) {
        if (stopping) {
            return;
        }
        link.keepVerifiedCa();
        Optional<NodeIdentity> moved;
        try {
            moved = credentials.moved(identity, response);
        } catch (IOException | java.security.cert.CertificateException e) {
            finish(new AgentExit(AgentExit.FAILED, "the hub issued this node a certificate, but it could not be stored in "
                    + store.directory() + " (" + e.getMessage() + "); fix the directory and start again"));
            return;
        }
        if (moved.isPresent()) {
            identity = moved.get();
            credentialHeader = NodeCredentials.header(identity);
            LOG.info("moved from the bearer credential to a certificate (valid until " + credentials.certificate().notAfter()
                    + "); the credential file is deleted");
            if (relink()) {
                syncConfiguration();
            }
            return;
        }
        NodeSettings settings = response.getSettings();
        long interval = HubSession.heartbeatInterval(settings);
        long timeout = HubSession.heartbeatTimeout(settings, interval);
        if (!response.getNodeName().isEmpty() && !response.getNodeName().equals(identity.name())) {
            identity = new NodeIdentity(identity.nodeId(), response.getNodeName(), identity.credential());
        }
        tasks.policyFromHandshake(response.getPolicy());
        session = new HubSession(new SessionOwner(), executor, serial, tasks, channel, credentialHeader, identity.describe(),
                config.outputBufferBytes(), interval, timeout);
        outbound = session.queue();
        session.open(info);
        everConnected = true;
        LOG.info("connected to " + config.hub() + " as " + identity.describe() + "; heartbeat every "
                + StatusText.seconds(interval));
        renewal.schedule();
    }

    /** What the current session reports, on the agent's thread. */
    private final class SessionOwner implements HubSession.Owner {
        @Override
        public void healthy() {
            uploads.startFolderSync();
            backoff.reset();
        }

        @Override
        public void syncRequested(FileSyncRequest request, OutboundQueue queue) {
            uploads.requested(request, queue);
        }

        @Override
        public void trustUpdated(dev.meshhub.proto.v1.TrustUpdate update) {
            renewal.trustUpdated(update, store);
        }

        @Override
        public void rejected(String hubSays) {
            finish(refusals.rejected(hubSays));
        }

        @Override
        public void replaced(String detail) {
            finish(new AgentExit(AgentExit.REPLACED, "another process is running with this node's credential (the hub"
                    + " replaced this session" + detail + "); stop the other meshnode that uses " + store.directory()
                    + ", or give this one its own workspace and invite token"));
        }

        @Override
        public void ended(HubSession ended, String cause, Level level) {
            if (session == ended) {
                session = null;
            }
            retry("disconnected: " + cause, level);
        }
    }

    private void retry(String what, Level level) {
        if (stopping) {
            return;
        }
        Optional<String> refused = link == null ? Optional.empty() : link.refusal();
        if (refused.isPresent()) {
            // The TLS handshake failed on our side: nothing, token included, was sent. Retrying cannot help.
            finish(new AgentExit(AgentExit.HUB_NOT_TRUSTED, "refused the hub at " + config.hub() + ": " + refused.get()));
            return;
        }
        Duration delay = backoff.nextDelay();
        LOG.log(level, what + "; retrying in " + StatusText.seconds(delay.toMillis()));
        nextAttempt = executor.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Ends the agent with the given outcome; the first outcome wins. */
    private void finish(AgentExit outcome) {
        if (stopping) {
            return;
        }
        stopping = true;
        renewal.cancel();
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

    /** Bytes the outbound queue of the current (or last) session held at most; for tests. */
    long outboundPeakBytes() {
        OutboundQueue q = outbound;
        return q == null ? 0 : q.peakBytes();
    }

    // ---- helpers ----

    /** A new channel that presents the node's certificate; the old one (no call in flight) is closed. */
    private boolean relink() {
        ManagedChannel old = channel;
        try {
            link = HubLink.open(config, store, serial, credentials.certificate(), true);
        } catch (IOException e) {
            finish(new AgentExit(AgentExit.FAILED, e.getMessage()));
            return false;
        }
        channel = link.channel();
        if (old != null) {
            old.shutdown();
        }
        return true;
    }
}
