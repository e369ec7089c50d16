package dev.meshhub.transport.impl;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.FileSyncFailed;
import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.api.sync.TransferResult;
import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;

/**
 * File sync on the hub: node uploads into the mirror ({@code Upload} streams) and admin pulls that
 * ask a node for a file ({@code SyncPull}).
 *
 * <p>Threads: gRPC threads only check requests and hand work on; every mirror (disk) call runs on the
 * IO pool, one upload's work in order through its own {@link SerialExecutor}. Inbound flow control is
 * manual, so an upload has at most {@link #WINDOW} chunks in memory whatever the node sends.
 *
 * <p>Locks: an upload takes its file's IO lock before opening the mirror file and releases it in
 * every ending path — done, failed, the node's stream ended or cancelled, the node's session ended,
 * the transport stopping. The lock's TTL (renewed on every chunk) is only the registry's backstop.
 */
final class FileSync implements dev.meshhub.api.sync.FileTransfers {

    private static final Logger LOG = LoggerFactory.getLogger(FileSync.class);

    /** Chunks requested ahead from a node: bounds memory per upload, keeps the disk busy. */
    static final int WINDOW = 4;
    /** Largest chunk accepted. */
    static final int MAX_CHUNK = 1024 * 1024;
    /** How a push source names a file in a node's mirror. */
    static final String MIRROR_SOURCE = "mirror:";
    /** A push's time limit: this, plus one millisecond per {@link #PUSH_TIMEOUT_BYTES_PER_MS} bytes. */
    static final Duration PUSH_TIMEOUT_BASE = Duration.ofMinutes(10);
    static final long PUSH_TIMEOUT_BYTES_PER_MS = 1_000;
    /** Admin progress events at most this often. */
    static final long PROGRESS_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final Supplier<MirrorStore> mirror;
    private final Supplier<LockRegistry> locks;
    private final Supplier<EnrollmentStore> enrollment;
    private final NodeSessions sessions;
    private final ExecutorService io;
    private final ScheduledExecutorService timer;
    private final Duration lockTtl;
    private final Duration startTimeout;
    private final int maxUploads;
    private final Map<UploadCall, Boolean> uploads = new ConcurrentHashMap<>();
    private final Map<String, Pull> pulls = new ConcurrentHashMap<>();
    private final Map<String, Push> pushes = new ConcurrentHashMap<>();
    private volatile Dispatcher dispatcher;
    private final AtomicInteger sequence = new AtomicInteger();
    private volatile boolean stopped;

    FileSync(Supplier<MirrorStore> mirror, Supplier<LockRegistry> locks, Supplier<EnrollmentStore> enrollment,
             NodeSessions sessions, ExecutorService io, ScheduledExecutorService timer, Duration lockTtl,
             Duration startTimeout, int maxUploads) {
        this.mirror = mirror;
        this.locks = locks;
        this.enrollment = enrollment;
        this.sessions = sessions;
        this.io = io;
        this.timer = timer;
        this.lockTtl = lockTtl;
        this.startTimeout = startTimeout;
        this.maxUploads = maxUploads;
    }


    // ---- node side: the Upload stream ----

    StreamObserver<UploadRequest> upload(EnrolledNode node, String peer, StreamObserver<UploadResponse> responses) {
        ServerCallStreamObserver<UploadResponse> out = (ServerCallStreamObserver<UploadResponse>) responses;
        out.disableAutoRequest();
        UploadCall call = new UploadCall(node, peer, out);
        out.setOnCancelHandler(() -> call.ended(Status.CANCELLED.withDescription("the node's upload stream was cancelled"
                + " (the node went away or its connection dropped)")));
        out.request(1);
        return call;
    }

    /** A node could not start an upload the hub asked for. */
    void syncFailed(NodeSessionHandle session, FileSyncFailed failed) {
        Pull pull = pulls.get(failed.getSyncId());
        if (pull == null || !pull.nodeId.equals(session.nodeId())) {
            LOG.debug("node {} reported a failed sync {} the hub does not know", session.nodeId(), failed.getSyncId());
            return;
        }
        pull.fail(new TransferException(TransferException.Reason.REFUSED, "node " + pull.label + " cannot upload "
                + pull.path + ": " + Answers.shorten(failed.getReason(), 500)));
    }

    /** The node's session ended: its uploads stop and its pulls fail, at once. */
    void sessionEnded(NodeSessionHandle session, String cause) {
        for (UploadCall call : uploads.keySet()) {
            if (call.node.nodeId().equals(session.nodeId())) {
                call.ended(Status.ABORTED.withDescription("the node's session ended (" + cause + "); what arrived is kept"
                        + " for a resume"));
            }
        }
        for (Pull pull : pulls.values()) {
            if (pull.nodeId.equals(session.nodeId()) && pull.call == null) {
                pull.fail(Status.UNAVAILABLE.withDescription("node " + pull.label + " disconnected before its upload"
                        + " started: " + cause + "; pull again once it is back"));
            }
        }
    }

    /** The transport stops: every upload and pull ends now (locks released, partials kept). */
    void stop() {
        stopped = true;
        for (UploadCall call : uploads.keySet()) {
            call.ended(Status.UNAVAILABLE.withDescription("the hub's transport is stopping; resume the upload later"));
        }
        for (Pull pull : pulls.values()) {
            pull.fail(Status.UNAVAILABLE.withDescription("the hub's transport is stopping; pull again later"));
        }
        for (Push push : pushes.values()) {
            push.fail(new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push again later"));
        }
    }

    // ---- FileTransfers: pull ----

    @Override
    public TransferHandle pull(String nodeRef, String path, TransferListener listener) throws TransferException {
        MirrorStore store = requireMirror();
        String clean = checkPath(store, path);
        EnrolledNode node = node(nodeRef);
        String label = node.name() + " (" + node.nodeId() + ")";
        Optional<NodeSessionHandle> session = sessions.live(node.nodeId());
        if (session.isEmpty()) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "node " + label + " is not connected; pull once it is");
        }
        String syncId = "s-" + UUID.randomUUID().toString().substring(0, 13).replace("-", "") + sequence.incrementAndGet();
        Pull pull = new Pull(syncId, node.nodeId(), label, clean, listener);
        pulls.put(syncId, pull);
        pull.deadline = timer.schedule(() -> pull.fail(Status.DEADLINE_EXCEEDED.withDescription("node " + label
                + " did not start uploading " + clean + " within " + startTimeout.toSeconds() + " s; is its agent current?")),
                startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        boolean sent = session.get().send(HubMessage.newBuilder()
                .setSyncRequest(FileSyncRequest.newBuilder().setSyncId(syncId).setPath(clean)).build());
        if (!sent) {
            pull.fail(Status.UNAVAILABLE.withDescription("node " + label + " disconnected; pull once it is back"));
        } else {
            LOG.info("pull {} of {} from node {} requested", syncId, clean, label);
        }
        return pull;
    }

    private MirrorStore requireMirror() throws TransferException {
        MirrorStore store = mirror.get();
        if (store == null) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "no mirror is running; start the meshhub-mirror"
                    + " feature (bundle dev.meshhub.mirror)");
        }
        return store;
    }

    private static String checkPath(MirrorStore store, String path) throws TransferException {
        try {
            return store.checkPath(path);
        } catch (MirrorException e) {
            throw new TransferException(TransferException.Reason.INVALID, e.getMessage(), e);
        }
    }

    private EnrolledNode node(String nodeRef) throws TransferException {
        if (nodeRef == null || nodeRef.isBlank()) {
            throw new TransferException(TransferException.Reason.INVALID, "name a node (id or name)");
        }
        EnrollmentStore nodes = enrollment.get();
        if (nodes == null) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "the enrollment store is not available"
                    + " (journal stopped?); retry shortly");
        }
        return nodes.find(nodeRef).filter(n -> !n.revoked()).orElseThrow(() -> new TransferException(
                TransferException.Reason.NOT_FOUND, "no enrolled node with id or name '" + Answers.shorten(nodeRef, 80) + "'"));
    }

    // ---- FileTransfers: push ----

    /** The dispatcher that journals and sends push tasks (set once the transport built it). */
    FileSync dispatcher(Dispatcher tasks) {
        this.dispatcher = tasks;
        return this;
    }

    @Override
    public TransferHandle push(String nodeRef, String source, String path, TransferListener listener) throws TransferException {
        MirrorStore store = requireMirror();
        String dest = checkPath(store, path);
        EnrolledNode node = node(nodeRef);
        String label = node.name() + " (" + node.nodeId() + ")";
        if (source == null || source.isBlank()) {
            throw new TransferException(TransferException.Reason.INVALID, "name the file to push: an absolute path on the"
                    + " hub's machine, or mirror:NODE/PATH");
        }
        if (!source.startsWith(MIRROR_SOURCE)) {
            Path local;
            try {
                local = Path.of(source);
            } catch (java.nio.file.InvalidPathException e) {
                throw new TransferException(TransferException.Reason.INVALID, "'" + Answers.shorten(source, 80) + "' is not a path");
            }
            if (!local.isAbsolute()) {
                throw new TransferException(TransferException.Reason.INVALID, "give the source as an absolute path on the hub's"
                        + " machine (meshctl resolves relative ones), or as mirror:NODE/PATH");
            }
        }
        if (sessions.live(node.nodeId()).isEmpty()) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "node " + label + " is not connected; push once it is");
        }
        String transferId = "x-" + UUID.randomUUID().toString().substring(0, 13).replace("-", "") + sequence.incrementAndGet();
        Push push = new Push(transferId, node, label, dest, source, listener);
        pushes.put(transferId, push);
        try {
            io.execute(() -> push.prepare(store));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pushes.remove(transferId);
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push later");
        }
        return push;
    }

    /** The file a push sends: checked on the IO pool (disk work). */
    private Path resolveSource(MirrorStore store, String source) throws TransferException {
        Path file;
        if (source.startsWith(MIRROR_SOURCE)) {
            String rest = source.substring(MIRROR_SOURCE.length());
            int slash = rest.indexOf('/');
            if (slash <= 0) {
                throw new TransferException(TransferException.Reason.INVALID, "write a mirror source as mirror:NODE/PATH");
            }
            EnrollmentStore nodes = enrollment.get();
            EnrolledNode owner = nodes == null ? null : nodes.find(rest.substring(0, slash)).orElse(null);
            if (owner == null) {
                throw new TransferException(TransferException.Reason.NOT_FOUND, "no enrolled node '"
                        + Answers.shorten(rest.substring(0, slash), 80) + "' whose mirror holds the source");
            }
            Path root = store.nodeRoot(owner.nodeId());
            file = root.resolve(checkPath(store, rest.substring(slash + 1)));
            try {
                if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !file.toRealPath().startsWith(root.toRealPath())) {
                    throw new TransferException(TransferException.Reason.NOT_FOUND, "no file " + rest.substring(slash + 1)
                            + " in the mirror of node " + owner.name() + " (" + owner.nodeId() + ")");
                }
            } catch (java.io.IOException e) {
                throw new TransferException(TransferException.Reason.NOT_FOUND, "cannot read " + source + ": " + e.getMessage());
            }
        } else {
            file = Path.of(source);
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new TransferException(TransferException.Reason.NOT_FOUND, source + " is not a readable file on the hub's machine");
            }
        }
        return file;
    }

    /** A node fetches the bytes of a push. */
    void download(EnrolledNode node, DownloadRequest request, StreamObserver<DownloadChunk> responses) {
        ServerCallStreamObserver<DownloadChunk> out = (ServerCallStreamObserver<DownloadChunk>) responses;
        Push push = pushes.get(request.getTransferId());
        if (push == null || push.file == null || !push.node.nodeId().equals(node.nodeId())) {
            out.onError(Status.NOT_FOUND.withDescription("no transfer " + Answers.shorten(request.getTransferId(), 40)
                    + " for this node (it ended or was cancelled)").asRuntimeException());
            return;
        }
        if (request.getOffset() < 0 || request.getOffset() > push.size) {
            out.onError(Status.OUT_OF_RANGE.withDescription("offset " + request.getOffset() + " is outside the file (0 to "
                    + push.size + ")").asRuntimeException());
            return;
        }
        Sender sender = new Sender(push, out, request.getOffset());
        out.setOnReadyHandler(sender::pump);
        out.setOnCancelHandler(sender::cancelled);
        sender.pump();
    }

    /** Sends one push's bytes as fast as the node takes them, reading on the IO pool. */
    private final class Sender {
        private final Push push;
        private final ServerCallStreamObserver<DownloadChunk> out;
        private final SerialExecutor work = new SerialExecutor(io);
        private final java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(MAX_CHUNK);
        private java.nio.channels.FileChannel channel;
        private long position;
        private boolean done;

        Sender(Push push, ServerCallStreamObserver<DownloadChunk> out, long offset) {
            this.push = push;
            this.out = out;
            this.position = offset;
        }

        void pump() {
            work.execute(this::send);
        }

        void cancelled() {
            work.execute(this::close);
        }

        private void send() {
            if (done) {
                return;
            }
            try {
                if (channel == null) {
                    channel = java.nio.channels.FileChannel.open(push.file, java.nio.file.StandardOpenOption.READ);
                }
                while (!done && out.isReady() && position < push.size) {
                    buffer.clear().limit((int) Math.min(MAX_CHUNK, push.size - position));
                    int read = channel.read(buffer, position);
                    if (read < 0) {
                        close();
                        out.onError(Status.DATA_LOSS.withDescription(push.source + " shrank to " + position
                                + " bytes while being pushed (" + push.size + " were announced); push it again")
                                .asRuntimeException());
                        return;
                    }
                    buffer.flip();
                    out.onNext(DownloadChunk.newBuilder().setOffset(position)
                            .setData(com.google.protobuf.ByteString.copyFrom(buffer)).build());
                    position += read;
                    push.progress(position, false);
                }
                if (!done && position >= push.size) {
                    close();
                    out.onCompleted();
                }
            } catch (java.io.IOException e) {
                close();
                LOG.warn("push {} cannot read {}", push.transferId, push.file, e);
                out.onError(Status.INTERNAL.withDescription("the hub cannot read the file it pushes: " + e.getMessage())
                        .asRuntimeException());
            } catch (RuntimeException e) {
                // The call was cancelled under us.
                close();
            }
        }

        private void close() {
            done = true;
            if (channel != null) {
                try {
                    channel.close();
                } catch (java.io.IOException e) {
                    LOG.debug("closing {}", push.file, e);
                }
                channel = null;
            }
        }
    }

    /** One push: hash the source, journal and send the task, relay the node's fetching, end with the task. */
    private final class Push implements TransferHandle {
        final String transferId;
        final EnrolledNode node;
        final String label;
        final String dest;
        final String source;
        private final TransferListener listener;
        private final CompletableFuture<TransferResult> result = new CompletableFuture<>();
        volatile Path file;
        volatile long size;
        private volatile String sha256;
        private volatile dev.meshhub.api.task.TaskHandle task;
        private long lastProgress;

        Push(String transferId, EnrolledNode node, String label, String dest, String source, TransferListener listener) {
            this.transferId = transferId;
            this.node = node;
            this.label = label;
            this.dest = dest;
            this.source = source;
            this.listener = listener == null ? new TransferListener() { } : listener;
        }

        @Override
        public String id() {
            return transferId;
        }

        @Override
        public CompletionStage<TransferResult> result() {
            return result.minimalCompletionStage();
        }

        /** On the IO pool: find and hash the source, then dispatch the task. */
        void prepare(MirrorStore store) {
            byte[] digest;
            try {
                Path resolved = resolveSource(store, source);
                java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                long total = 0;
                try (java.nio.channels.FileChannel in = java.nio.channels.FileChannel.open(resolved, java.nio.file.StandardOpenOption.READ)) {
                    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(MAX_CHUNK);
                    while (in.read(buffer.clear()) >= 0) {
                        if (result.isDone()) {
                            return;
                        }
                        buffer.flip();
                        total += buffer.remaining();
                        sha.update(buffer);
                    }
                }
                digest = sha.digest();
                size = total;
                sha256 = java.util.HexFormat.of().formatHex(digest);
                file = resolved;
            } catch (TransferException e) {
                fail(e);
                return;
            } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
                fail(new TransferException(TransferException.Reason.NOT_FOUND, "cannot read " + source + ": " + e.getMessage(), e));
                return;
            }
            if (result.isDone()) {
                return; // cancelled while the source was being hashed: nothing is sent
            }
            Dispatcher tasks = dispatcher;
            if (tasks == null || stopped) {
                fail(new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push later"));
                return;
            }
            long timeoutMs = Math.min(0xFFFF_FFFFL, PUSH_TIMEOUT_BASE.toMillis() + size / PUSH_TIMEOUT_BYTES_PER_MS);
            try {
                task = tasks.dispatchDownload(node.nodeId(), dev.meshhub.proto.v1.FileDownload.newBuilder()
                        .setTransferId(transferId).setPath(dest).setSize(size)
                        .setSha256(com.google.protobuf.ByteString.copyFrom(digest)).setTimeoutMs((int) timeoutMs).build(),
                        "push " + Answers.shorten(source, 120) + " -> " + dest);
            } catch (dev.meshhub.api.task.DispatchException e) {
                fail(new TransferException(switch (e.reason()) {
                    case UNKNOWN_NODE -> TransferException.Reason.NOT_FOUND;
                    case NODE_OFFLINE, UNAVAILABLE -> TransferException.Reason.UNAVAILABLE;
                    case BUSY -> TransferException.Reason.EXHAUSTED;
                    case INVALID -> TransferException.Reason.INVALID;
                    default -> TransferException.Reason.REFUSED;
                }, e.getMessage(), e));
                return;
            }
            LOG.info("push {} of {} ({} bytes, sha256 {}) to {} on node {} is task {}", transferId, source, size, sha256, dest,
                    label, task.taskId());
            String taskId = task.taskId();
            tell(() -> listener.started(taskId, 0, size));
            task.result().whenComplete((ended, failure) -> {
                if (failure != null) {
                    fail(new TransferException(TransferException.Reason.FAILED, "push task " + taskId + " failed: "
                            + failure.getMessage(), failure));
                } else if (ended.state() == dev.meshhub.api.task.TaskState.SUCCEEDED) {
                    progress(size, true);
                    pushes.remove(transferId);
                    result.complete(new TransferResult(node.nodeId(), dest, dest, size, sha256, size));
                } else {
                    TransferException.Reason why = switch (ended.state()) {
                        case CANCELLED -> TransferException.Reason.CANCELLED;
                        case TIMED_OUT -> TransferException.Reason.TIMED_OUT;
                        default -> TransferException.Reason.FAILED;
                    };
                    fail(new TransferException(why, "push task " + taskId + " " + ended.state() + ": " + ended.diagnostic()));
                }
            });
        }

        void progress(long bytes, boolean force) {
            long now = System.nanoTime();
            synchronized (this) {
                if (!force && now - lastProgress < PROGRESS_EVERY_NANOS) {
                    return;
                }
                lastProgress = now;
            }
            tell(() -> listener.progress(bytes, size));
        }

        void fail(TransferException failure) {
            pushes.remove(transferId);
            if (result.completeExceptionally(failure)) {
                LOG.info("push {} of {} to node {} failed: {}", transferId, source, label, failure.getMessage());
            }
        }

        @Override
        public void cancel(String reason) {
            String why = reason == null || reason.isBlank() ? "cancelled" : reason;
            dev.meshhub.api.task.TaskHandle running = task;
            fail(new TransferException(TransferException.Reason.CANCELLED, why));
            if (running != null) {
                running.cancel(why);
            }
        }
    }

    private static void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("a transfer listener failed; the transfer goes on", e);
        }
    }

    /** One pull: waits for the node's upload, then relays its progress. */
    private final class Pull implements TransferHandle {
        final String syncId;
        final String nodeId;
        final String label;
        final String path;
        private final TransferListener listener;
        private final CompletableFuture<TransferResult> result = new CompletableFuture<>();
        volatile UploadCall call;
        volatile ScheduledFuture<?> deadline;
        private long lastProgress;

        Pull(String syncId, String nodeId, String label, String path, TransferListener listener) {
            this.syncId = syncId;
            this.nodeId = nodeId;
            this.label = label;
            this.path = path;
            this.listener = listener == null ? new TransferListener() { } : listener;
        }

        @Override
        public String id() {
            return syncId;
        }

        @Override
        public CompletionStage<TransferResult> result() {
            return result.minimalCompletionStage();
        }

        synchronized boolean attach(UploadCall upload) {
            if (result.isDone() || call != null) {
                return false;
            }
            call = upload;
            if (deadline != null) {
                deadline.cancel(false);
            }
            return true;
        }

        void started(long resumedFrom, long total) {
            tell(() -> listener.started(syncId, resumedFrom, total));
        }

        void progress(long bytes, long total, boolean force) {
            long now = System.nanoTime();
            synchronized (this) {
                if (!force && now - lastProgress < PROGRESS_EVERY_NANOS) {
                    return;
                }
                lastProgress = now;
            }
            tell(() -> listener.progress(bytes, total));
        }

        void finished(MirrorFile file, long transferred) {
            pulls.remove(syncId);
            result.complete(new TransferResult(nodeId, path, file.file().toString(), file.size(), file.sha256(), transferred));
        }

        void fail(Status status) {
            fail(new TransferException(ApiStatuses.transferReason(status), status.getDescription() == null ? status.getCode().toString()
                    : status.getDescription()));
        }

        void fail(TransferException failure) {
            pulls.remove(syncId);
            if (deadline != null) {
                deadline.cancel(false);
            }
            if (result.completeExceptionally(failure)) {
                LOG.info("pull {} of {} from node {} failed: {}", syncId, path, label, failure.getMessage());
            }
        }

        @Override
        public void cancel(String reason) {
            String why = reason == null || reason.isBlank() ? "cancelled" : reason;
            fail(new TransferException(TransferException.Reason.CANCELLED, why + "; what arrived is kept for a resume"));
            UploadCall upload = call;
            if (upload != null) {
                upload.ended(Status.CANCELLED.withDescription(why + "; what arrived is kept for a resume"));
            }
        }
    }

    /**
     * One Upload stream. gRPC delivers messages one at a time (we request them), and every state
     * change runs on {@link #work}, in order; so the fields below are only touched there.
     */
    private final class UploadCall implements StreamObserver<UploadRequest> {
        final EnrolledNode node;
        private final String peer;
        private final ServerCallStreamObserver<UploadResponse> out;
        private final SerialExecutor work = new SerialExecutor(io);
        private final String uploadId = "u-" + UUID.randomUUID().toString().substring(0, 8) + "-" + sequence.incrementAndGet();
        private IoLock lock;
        private MirrorUpload upload;
        private Pull pull;
        private long total = -1;
        private long resumedFrom;
        private boolean started;
        private boolean ending;
        private boolean finished;

        UploadCall(EnrolledNode node, String peer, ServerCallStreamObserver<UploadResponse> out) {
            this.node = node;
            this.peer = peer;
            this.out = out;
        }

        @Override
        public void onNext(UploadRequest request) {
            switch (request.getPayloadCase()) {
                case START -> guarded(() -> start(request.getStart()));
                case CHUNK -> guarded(() -> chunk(request.getChunk().getOffset(), request.getChunk().getData()));
                case END -> guarded(() -> end(request.getEnd().getTotalSize(), request.getEnd().getSha256().toByteArray()));
                default -> guarded(() -> fail(Status.INVALID_ARGUMENT.withDescription("an Upload message must carry"
                        + " start, chunk or end; this hub does not know the one sent")));
            }
        }

        /**
         * Runs a step on this upload's executor; a step that throws (say, a lock registry or mirror
         * being replaced under it) ends the upload with a status instead of leaving the node waiting.
         */
        private void guarded(Runnable step) {
            work.execute(() -> {
                try {
                    step.run();
                } catch (RuntimeException e) {
                    LOG.warn("upload {} from node {} failed unexpectedly", uploadId, node.nodeId(), e);
                    fail(Status.UNAVAILABLE.withDescription("the hub failed while handling the upload (" + e.getClass().getSimpleName()
                            + "); retry: what arrived is kept for a resume"));
                }
            });
        }

        @Override
        public void onError(Throwable t) {
            ended(Status.fromThrowable(t).augmentDescription("the node's upload stream failed"));
        }

        @Override
        public void onCompleted() {
            work.execute(() -> {
                if (!finished) {
                    fail(Status.INVALID_ARGUMENT.withDescription("the upload stream ended before UploadEnd; what arrived"
                            + " is kept, resume by uploading " + (upload == null ? "the file" : upload.path()) + " again"));
                }
            });
        }

        /** Ends the upload from outside (stream gone, session ended, pull cancelled, transport stopping). */
        void ended(Status status) {
            work.execute(() -> fail(status));
        }

        private void start(dev.meshhub.proto.v1.UploadStart request) {
            if (started || finished) {
                fail(Status.INVALID_ARGUMENT.withDescription("UploadStart must be the first message of an Upload stream, once"));
                return;
            }
            started = true;
            MirrorStore store = mirror.get();
            LockRegistry registry = locks.get();
            if (stopped) {
                fail(Status.UNAVAILABLE.withDescription("the hub's transport is stopping; upload later"));
                return;
            }
            if (store == null || registry == null) {
                fail(Status.UNAVAILABLE.withDescription("file sync is not available: " + (store == null
                        ? "no mirror is running (feature meshhub-mirror)" : "no lock registry is running (feature meshhub-locks)")
                        + "; retry when it is"));
                return;
            }
            if (request.getSize() < -1) {
                fail(Status.INVALID_ARGUMENT.withDescription("UploadStart.size must be the file's size or -1, is " + request.getSize()));
                return;
            }
            String path;
            try {
                path = store.checkPath(request.getPath());
            } catch (MirrorException e) {
                fail(ApiStatuses.of(e));
                return;
            }
            if (!request.getSyncId().isEmpty()) {
                Pull wanted = pulls.get(request.getSyncId());
                if (wanted == null || !wanted.nodeId.equals(node.nodeId()) || !wanted.path.equals(path)
                        || !wanted.attach(this)) {
                    fail(Status.FAILED_PRECONDITION.withDescription("no pending sync " + Answers.shorten(request.getSyncId(), 40)
                            + " of " + path + " for this node (it ended, timed out or was cancelled)"));
                    return;
                }
                pull = wanted;
            }
            if (uploads.size() >= maxUploads) {
                fail(Status.RESOURCE_EXHAUSTED.withDescription("the hub runs " + maxUploads + " uploads already;"
                        + " retry shortly"));
                return;
            }
            uploads.put(this, Boolean.TRUE);
            String key = "mirror/" + node.nodeId() + "/" + path;
            lock = registry.tryAcquire(key, "upload " + uploadId + " of node " + node.nodeId(), lockTtl).orElse(null);
            if (lock == null) {
                fail(Status.ABORTED.withDescription(path + " of node " + node.nodeId() + " is being uploaded already;"
                        + " retry when that upload ends"));
                return;
            }
            try {
                upload = store.openUpload(node.nodeId(), path, request.getSize());
            } catch (MirrorException e) {
                fail(ApiStatuses.of(e));
                return;
            } catch (RuntimeException e) {
                LOG.warn("opening upload of {} from node {} failed", path, node.nodeId(), e);
                fail(Status.INTERNAL.withDescription("the mirror failed to open " + path + "; see the hub log"));
                return;
            }
            total = request.getSize();
            resumedFrom = upload.offset();
            LOG.info("upload {} of {} from node {} ({}) started at offset {} of {}", uploadId, path, node.nodeId(), peer,
                    resumedFrom, total);
            if (!send(UploadResponse.newBuilder().setReady(UploadReady.newBuilder().setUploadId(uploadId)
                    .setOffset(resumedFrom)).build())) {
                return;
            }
            if (pull != null) {
                pull.started(resumedFrom, total);
            }
            out.request(WINDOW);
        }

        private void chunk(long offset, com.google.protobuf.ByteString data) {
            if (finished) {
                return;
            }
            if (upload == null || ending) {
                fail(Status.INVALID_ARGUMENT.withDescription(ending ? "a chunk arrived after UploadEnd"
                        : "the first message of an Upload stream must be UploadStart"));
                return;
            }
            if (data.size() > MAX_CHUNK) {
                fail(Status.INVALID_ARGUMENT.withDescription("chunks carry at most " + MAX_CHUNK + " bytes; this one has " + data.size()));
                return;
            }
            try {
                upload.write(offset, data.asReadOnlyByteBuffer());
            } catch (MirrorException e) {
                fail(ApiStatuses.of(e));
                return;
            } catch (RuntimeException e) {
                LOG.warn("writing upload {} failed", uploadId, e);
                fail(Status.INTERNAL.withDescription("the mirror failed to write; see the hub log"));
                return;
            }
            lock.renew();
            if (pull != null) {
                pull.progress(upload.offset(), total, false);
            }
            out.request(1);
        }

        private void end(long totalSize, byte[] sha256) {
            if (finished) {
                return;
            }
            if (upload == null || ending) {
                fail(Status.INVALID_ARGUMENT.withDescription(ending ? "UploadEnd was sent twice"
                        : "the first message of an Upload stream must be UploadStart"));
                return;
            }
            ending = true;
            if (sha256.length != 32) {
                fail(Status.INVALID_ARGUMENT.withDescription("UploadEnd.sha256 must be the 32-byte SHA-256 of the whole"
                        + " file, has " + sha256.length + " bytes"));
                return;
            }
            MirrorFile file;
            try {
                file = upload.finish(totalSize, sha256);
            } catch (MirrorException e) {
                fail(ApiStatuses.of(e));
                return;
            } catch (RuntimeException e) {
                LOG.warn("finishing upload {} failed", uploadId, e);
                fail(Status.INTERNAL.withDescription("the mirror failed to finish the file; see the hub log"));
                return;
            }
            finished = true;
            release();
            LOG.info("upload {} of {} from node {} done: {} bytes ({} sent, {} resumed), sha256 {}", uploadId, file.path(),
                    node.nodeId(), file.size(), file.size() - resumedFrom, resumedFrom, file.sha256());
            send(UploadResponse.newBuilder().setDone(UploadDone.newBuilder().setPath(file.path()).setSize(file.size())
                    .setSha256(file.sha256())).build());
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // the node went away meanwhile; the file is in place regardless
            }
            if (pull != null) {
                pull.progress(file.size(), file.size(), true);
                pull.finished(file, file.size() - resumedFrom);
            }
        }

        /** Ends the upload with an error: keeps the partial, releases the lock, tells node and admin. */
        private void fail(Status status) {
            if (finished) {
                return;
            }
            finished = true;
            if (upload != null) {
                LOG.info("upload {} of {} from node {} ended at {} bytes: {}", uploadId, upload.path(), node.nodeId(),
                        upload.offset(), status.getDescription());
            } else {
                LOG.info("upload {} from node {} refused: {}", uploadId, node.nodeId(), status.getDescription());
            }
            release();
            try {
                out.onError(status.asRuntimeException());
            } catch (RuntimeException ignored) {
                // already cancelled
            }
            if (pull != null) {
                pull.fail(status);
            }
        }

        private void release() {
            try {
                if (upload != null) {
                    upload.close();
                }
            } catch (RuntimeException e) {
                LOG.warn("closing upload {} failed", uploadId, e);
            } finally {
                if (lock != null) {
                    lock.close();
                }
                uploads.remove(this);
            }
        }

        private boolean send(UploadResponse response) {
            try {
                out.onNext(response);
                return true;
            } catch (StatusRuntimeException | IllegalStateException e) {
                fail(Status.CANCELLED.withDescription("the node's upload stream is gone"));
                return false;
            }
        }
    }
}
