package dev.meshhub.transport.impl.sync;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.FileSyncFailed;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.transport.impl.TransportConfig;
import dev.meshhub.transport.impl.TransportConfigCheck;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.session.SessionListener;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * File sync on the hub, offered as {@link FileTransfers}: node uploads into the mirror
 * ({@link UploadReceiver}), pulls that ask a node for a file ({@link PullRequests}), pushes of a file
 * to a node ({@link PushTransfers}) whose bytes the node fetches ({@link DownloadSender}).
 *
 * <p>Threads: gRPC threads only check requests and hand work on; every mirror (disk) call runs on
 * this component's IO pool, each upload's and download's work in order through its own
 * {@link SerialExecutor}. The mirror, the lock registry and the enrollment store are optional,
 * dynamic references: while one is missing, what needs it is refused with UNAVAILABLE naming it.
 * Its limits and its pool size apply live.
 */
@Component(service = {FileTransfers.class, FileSyncService.class},
        configurationPid = TransportConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class FileSyncService implements FileTransfers, SessionListener {

    private static final Logger LOG = LoggerFactory.getLogger(FileSyncService.class);

    /** Chunks requested ahead from a node: bounds memory per upload, keeps the disk busy. */
    static final int WINDOW = 4;
    /** Largest chunk accepted and sent. */
    static final int MAX_CHUNK = 1024 * 1024;
    /** Admin progress events at most this often. */
    static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** The limits uploads and pulls are held to; replaced whole on a configuration change. */
    public record SyncLimits(Duration lockTtl, Duration startTimeout, int maxUploads, int maxUploadsPerNode, Duration idleTimeout) {
        static SyncLimits of(TransportConfig config) {
            return new SyncLimits(Duration.ofSeconds(config.uploadLockTtlSeconds()), Duration.ofSeconds(config.syncStartTimeoutSeconds()),
                    config.maxUploads(), config.maxUploadsPerNode(), Duration.ofSeconds(config.uploadIdleTimeoutSeconds()));
        }

        /** Limits with the default per-node share (8) and idle timeout (60 s). */
        public SyncLimits(Duration lockTtl, Duration startTimeout, int maxUploads) {
            this(lockTtl, startTimeout, maxUploads, 8, Duration.ofSeconds(60));
        }
    }

    private final NodeSessions sessions;
    private final ExecutorService io;
    private final ScheduledExecutorService timer;
    private final Set<UploadReceiver> uploads = ConcurrentHashMap.newKeySet();
    private final PullRequests pulls;
    private final PushTransfers pushes;
    private final AtomicInteger sequence = new AtomicInteger();
    private volatile SyncLimits limits;
    private volatile boolean stopped;
    private volatile MirrorStore mirrorStore;
    private volatile LockRegistry lockRegistry;
    private volatile EnrollmentStore enrollmentStore;

    /** The component: its own IO pool and timer. */
    @Activate
    public FileSyncService(@Reference NodeSessions sessions, @Reference Dispatcher dispatcher, TransportConfig config,
                           Map<String, Object> properties) {
        this(sessions, dispatcher, pool(config.fileIoThreads()), GrpcServers.timer("meshhub-sync-timer"),
                check(config, properties));
    }

    /** Without OSGi (tests): pools supplied (a direct executor keeps a test's order), services bound by hand. */
    public FileSyncService(NodeSessions sessions, Dispatcher dispatcher, ExecutorService io, ScheduledExecutorService timer, SyncLimits limits) {
        this.sessions = sessions;
        this.io = io;
        this.timer = timer;
        this.limits = limits;
        this.pulls = new PullRequests(this);
        this.pushes = new PushTransfers(this, dispatcher);
        sessions.addListener(this);
        timer.scheduleWithFixedDelay(() -> {
            try {
                endIdleUploads();
            } catch (RuntimeException e) {
                LOG.warn("the idle upload sweep failed", e);
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    static ThreadPoolExecutor pool(int threads) {
        return new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                GrpcServers.threads("meshhub-file-io"));
    }

    private static SyncLimits check(TransportConfig config, Map<String, Object> properties) {
        TransportConfigCheck.requireUsable(properties);
        return SyncLimits.of(config);
    }

    @Modified
    void modified(TransportConfig config, Map<String, Object> properties) {
        if (!TransportConfigCheck.usable(properties)) {
            return;
        }
        SyncLimits next = SyncLimits.of(config);
        int threads = config.fileIoThreads();
        boolean resized = io instanceof ThreadPoolExecutor pool && GrpcServers.resize(pool, threads);
        if (next.equals(limits) && !resized) {
            return;
        }
        limits = next;
        LOG.info("file sync now: {} IO thread(s), at most {} uploads ({} per node, ended after {} s idle), lock TTL {} s, pulls"
                + " start within {} s", threads, next.maxUploads(), next.maxUploadsPerNode(), next.idleTimeout().toSeconds(),
                next.lockTtl().toSeconds(), next.startTimeout().toSeconds());
    }

    @Deactivate
    void deactivate() {
        sessions.removeListener(this);
        stop();
        // Let the uploads' cleanup (closing mirror files, releasing locks) queued by stop() run.
        io.shutdown();
        try {
            if (!io.awaitTermination(5, TimeUnit.SECONDS)) {
                io.shutdownNow();
            }
        } catch (InterruptedException e) {
            io.shutdownNow();
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindMirrorStore")
    public void bindMirrorStore(MirrorStore store) {
        mirrorStore = store;
    }

    public void unbindMirrorStore(MirrorStore store) {
        if (mirrorStore == store) {
            mirrorStore = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindLockRegistry")
    public void bindLockRegistry(LockRegistry registry) {
        lockRegistry = registry;
    }

    public void unbindLockRegistry(LockRegistry registry) {
        if (lockRegistry == registry) {
            lockRegistry = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindEnrollmentStore")
    public void bindEnrollmentStore(EnrollmentStore store) {
        enrollmentStore = store;
    }

    public void unbindEnrollmentStore(EnrollmentStore store) {
        if (enrollmentStore == store) {
            enrollmentStore = null;
        }
    }

    // ---- node side ----

    /** A node opened an Upload stream. */
    public StreamObserver<UploadRequest> upload(EnrolledNode node, String peer, StreamObserver<UploadResponse> responses) {
        ServerCallStreamObserver<UploadResponse> out = (ServerCallStreamObserver<UploadResponse>) responses;
        out.disableAutoRequest();
        UploadReceiver receiver = new UploadReceiver(this, node, peer, out);
        out.setOnCancelHandler(() -> receiver.ended(Status.CANCELLED.withDescription("the node's upload stream was cancelled"
                + " (the node went away or its connection dropped)")));
        out.request(1);
        return receiver;
    }

    /** A node fetches the bytes of a push. */
    public void download(EnrolledNode node, DownloadRequest request, StreamObserver<DownloadChunk> responses) {
        DownloadSender.serve(this, pushes.find(request.getTransferId(), node.nodeId()), request,
                (ServerCallStreamObserver<DownloadChunk>) responses);
    }

    /** A node could not start an upload the hub asked for. */
    public void syncFailed(NodeSessionHandle session, FileSyncFailed failed) {
        pulls.syncFailed(session, failed);
    }

    /** The node's session ended: its uploads stop and its pulls fail, at once. */
    @Override
    public void sessionEnded(NodeSessionHandle session, String cause) {
        for (UploadReceiver upload : uploads) {
            if (upload.nodeId().equals(session.nodeId())) {
                upload.ended(Status.ABORTED.withDescription("the node's session ended (" + cause + "); what arrived is kept"
                        + " for a resume"));
            }
        }
        pulls.sessionEnded(session, cause);
    }

    /** Every upload, pull and push ends now (locks released, partials kept). */
    void stop() {
        stopped = true;
        for (UploadReceiver upload : uploads) {
            upload.ended(Status.UNAVAILABLE.withDescription("the hub's transport is stopping; resume the upload later"));
        }
        pulls.stopAll();
        pushes.stopAll();
    }

    // ---- FileTransfers ----

    @Override
    public java.util.Optional<dev.meshhub.api.stats.SyncStats> stats() {
        long[] pulled = pulls.finished();
        long[] pushed = pushes.finished();
        return java.util.Optional.of(new dev.meshhub.api.stats.SyncStats(pulled[0], pulled[1], pushed[0], pushed[1]));
    }

    @Override
    public java.util.List<dev.meshhub.api.sync.TransferProgress> inProgress() {
        java.util.List<dev.meshhub.api.sync.TransferProgress> all = new java.util.ArrayList<>(pulls.inProgress());
        all.addAll(pushes.inProgress());
        return all;
    }

    @Override
    public TransferHandle pull(String nodeRef, String path, TransferListener listener) throws TransferException {
        String clean = checkPath(requireMirror(), path);
        return pulls.start(node(nodeRef), clean, listener);
    }

    @Override
    public TransferHandle push(String nodeRef, String source, String path, TransferListener listener) throws TransferException {
        MirrorStore store = requireMirror();
        return pushes.start(store, node(nodeRef), source, checkPath(store, path), listener);
    }

    // ---- for the parts ----

    NodeSessions sessions() {
        return sessions;
    }

    ExecutorService io() {
        return io;
    }

    ScheduledExecutorService timer() {
        return timer;
    }

    SyncLimits limits() {
        return limits;
    }

    boolean isStopped() {
        return stopped;
    }

    MirrorStore mirror() {
        return mirrorStore;
    }

    LockRegistry locks() {
        return lockRegistry;
    }

    EnrollmentStore enrollment() {
        return enrollmentStore;
    }

    PullRequests pulls() {
        return pulls;
    }

    /**
     * Adds an upload unless the hub runs its maximum already, or its node its share.
     *
     * @return null when admitted, else why not (for a RESOURCE_EXHAUSTED status)
     */
    String admit(UploadReceiver upload) {
        SyncLimits current = limits;
        synchronized (uploads) {
            if (uploads.size() >= current.maxUploads()) {
                return "the hub runs " + current.maxUploads() + " uploads already (maxUploads); retry shortly";
            }
            long mine = uploads.stream().filter(running -> running.nodeId().equals(upload.nodeId())).count();
            if (mine >= current.maxUploadsPerNode()) {
                return "node " + upload.nodeId() + " runs " + mine + " uploads already (maxUploadsPerNode " + current.maxUploadsPerNode()
                        + "); retry when one ends";
            }
            uploads.add(upload);
            return null;
        }
    }

    /** Ends the uploads that sent nothing for longer than the idle timeout (on the timer, every few seconds). */
    void endIdleUploads() {
        endIdleUploads(System.nanoTime());
    }

    /** As {@link #endIdleUploads()}, as of {@code now} ({@link System#nanoTime()} scale). */
    void endIdleUploads(long now) {
        Duration idle = limits.idleTimeout();
        for (UploadReceiver upload : uploads) {
            if (now - upload.lastActivityNanos() > idle.toNanos()) {
                upload.ended(Status.DEADLINE_EXCEEDED.withDescription("the upload sent nothing for " + idle.toSeconds()
                        + " s (uploadIdleTimeoutSeconds): it is ended and its slot and file lock are free; what arrived is kept,"
                        + " upload again to resume"));
            }
        }
    }

    void ended(UploadReceiver upload) {
        uploads.remove(upload);
    }

    /** Uploads running now. */
    int uploadsRunning() {
        return uploads.size();
    }

    String nextId(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 13).replace("-", "") + sequence.incrementAndGet();
    }

    MirrorStore requireMirror() throws TransferException {
        MirrorStore store = mirrorStore;
        if (store == null) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "no mirror is running; start the meshhub-mirror"
                    + " feature (bundle dev.meshhub.mirror)");
        }
        return store;
    }

    static String checkPath(MirrorStore store, String path) throws TransferException {
        try {
            return store.checkPath(path);
        } catch (MirrorException e) {
            throw new TransferException(TransferException.Reason.INVALID, e.getMessage(), e);
        }
    }

    /** An enrolled, not revoked node by id or name. */
    EnrolledNode node(String nodeRef) throws TransferException {
        if (nodeRef == null || nodeRef.isBlank()) {
            throw new TransferException(TransferException.Reason.INVALID, "name a node (id or name)");
        }
        EnrollmentStore nodes = enrollmentStore;
        if (nodes == null) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "the enrollment store is not available"
                    + " (journal stopped?); retry shortly");
        }
        return nodes.find(nodeRef).filter(n -> !n.revoked()).orElseThrow(() -> new TransferException(
                TransferException.Reason.NOT_FOUND, "no enrolled node with id or name '" + Answers.shorten(nodeRef, 80) + "'"));
    }

    /** Calls a caller's listener; a listener that throws never ends a transfer. */
    static void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("a transfer listener failed; the transfer goes on", e);
        }
    }
}
