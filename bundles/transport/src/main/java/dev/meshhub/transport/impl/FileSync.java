package dev.meshhub.transport.impl;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
import dev.meshhub.proto.v1.FileSyncFailed;
import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncFinished;
import dev.meshhub.proto.v1.SyncProgress;
import dev.meshhub.proto.v1.SyncStarted;
import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

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
final class FileSync {

    private static final Logger LOG = LoggerFactory.getLogger(FileSync.class);

    /** Chunks requested ahead from a node: bounds memory per upload, keeps the disk busy. */
    static final int WINDOW = 4;
    /** Largest chunk accepted. */
    static final int MAX_CHUNK = 1024 * 1024;
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

    /** Uploads in progress (for tests and status). */
    int activeUploads() {
        return uploads.size();
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
        pull.fail(Status.FAILED_PRECONDITION.withDescription("node " + pull.label + " cannot upload " + pull.path + ": "
                + Answers.shorten(failed.getReason(), 500)));
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
    }

    // ---- admin side: SyncPull ----

    void pull(String nodeRef, String path, StreamObserver<SyncEvent> responses) {
        ServerCallStreamObserver<SyncEvent> out = (ServerCallStreamObserver<SyncEvent>) responses;
        MirrorStore store = mirror.get();
        if (store == null) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("no mirror is running; start the meshhub-mirror feature"
                    + " (bundle dev.meshhub.mirror)").asRuntimeException());
            return;
        }
        String clean;
        try {
            clean = store.checkPath(path);
        } catch (MirrorException e) {
            out.onError(status(e).asRuntimeException());
            return;
        }
        EnrollmentStore nodes = enrollment.get();
        Optional<EnrolledNode> target = nodes == null ? Optional.empty()
                : nodes.find(nodeRef).filter(n -> !n.revoked());
        if (nodes == null) {
            out.onError(Status.UNAVAILABLE.withDescription("the enrollment store is not available (journal stopped?);"
                    + " retry shortly").asRuntimeException());
            return;
        }
        if (target.isEmpty()) {
            out.onError(Status.NOT_FOUND.withDescription("no enrolled node with id or name '"
                    + Answers.shorten(nodeRef, 80) + "'").asRuntimeException());
            return;
        }
        EnrolledNode node = target.get();
        String label = node.name() + " (" + node.nodeId() + ")";
        Optional<NodeSessionHandle> session = sessions.live(node.nodeId());
        if (session.isEmpty()) {
            out.onError(Status.UNAVAILABLE.withDescription("node " + label + " is not connected; pull once it is")
                    .asRuntimeException());
            return;
        }
        String syncId = "s-" + UUID.randomUUID().toString().substring(0, 13).replace("-", "") + sequence.incrementAndGet();
        Pull pull = new Pull(syncId, node.nodeId(), label, clean, out);
        pulls.put(syncId, pull);
        out.setOnCancelHandler(() -> pull.cancelled());
        pull.deadline = timer.schedule(() -> pull.fail(Status.DEADLINE_EXCEEDED.withDescription("node " + label
                + " did not start uploading " + clean + " within " + startTimeout.toSeconds() + " s; is its agent current?")),
                startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        boolean sent = session.get().send(HubMessage.newBuilder()
                .setSyncRequest(FileSyncRequest.newBuilder().setSyncId(syncId).setPath(clean)).build());
        if (!sent) {
            pull.fail(Status.UNAVAILABLE.withDescription("node " + label + " disconnected; pull once it is back"));
            return;
        }
        LOG.info("pull {} of {} from node {} requested", syncId, clean, label);
    }

    // ---- mapping ----

    static Status status(MirrorException e) {
        Status status = switch (e.reason()) {
            case BAD_PATH -> Status.INVALID_ARGUMENT;
            case SYMLINK -> Status.FAILED_PRECONDITION;
            case BUSY -> Status.ABORTED;
            case QUOTA_EXCEEDED, DISK_RESERVE -> Status.RESOURCE_EXHAUSTED;
            case BAD_OFFSET -> Status.OUT_OF_RANGE;
            case SIZE_MISMATCH, CHECKSUM_MISMATCH -> Status.DATA_LOSS;
            case IO -> Status.INTERNAL;
        };
        return status.withDescription(e.getMessage());
    }

    /** One admin pull: waits for the node's upload, then relays its progress. */
    private final class Pull {
        final String syncId;
        final String nodeId;
        final String label;
        final String path;
        private final ServerCallStreamObserver<SyncEvent> out;
        volatile UploadCall call;
        volatile ScheduledFuture<?> deadline;
        private boolean done;
        private long lastProgress;

        Pull(String syncId, String nodeId, String label, String path, ServerCallStreamObserver<SyncEvent> out) {
            this.syncId = syncId;
            this.nodeId = nodeId;
            this.label = label;
            this.path = path;
            this.out = out;
        }

        synchronized boolean attach(UploadCall upload) {
            if (done || call != null) {
                return false;
            }
            call = upload;
            if (deadline != null) {
                deadline.cancel(false);
            }
            return true;
        }

        synchronized void started(long resumedFrom, long total) {
            send(SyncEvent.newBuilder().setStarted(SyncStarted.newBuilder().setSyncId(syncId).setNodeId(nodeId)
                    .setResumedFrom(resumedFrom).setTotalSize(total)).build());
        }

        synchronized void progress(long bytes, long total, boolean force) {
            long now = System.nanoTime();
            if (force || now - lastProgress >= PROGRESS_EVERY_NANOS) {
                lastProgress = now;
                send(SyncEvent.newBuilder().setProgress(SyncProgress.newBuilder().setBytes(bytes).setTotalSize(total)).build());
            }
        }

        synchronized void finished(MirrorFile file, long transferred) {
            if (done) {
                return;
            }
            send(SyncEvent.newBuilder().setFinished(SyncFinished.newBuilder().setMirrorFile(file.file().toString())
                    .setSize(file.size()).setSha256(file.sha256()).setTransferred(transferred)).build());
            done = true;
            pulls.remove(syncId);
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // the admin went away meanwhile
            }
        }

        synchronized void fail(Status status) {
            if (done) {
                return;
            }
            done = true;
            pulls.remove(syncId);
            if (deadline != null) {
                deadline.cancel(false);
            }
            LOG.info("pull {} of {} from node {} failed: {}", syncId, path, label, status.getDescription());
            try {
                out.onError(status.asRuntimeException());
            } catch (RuntimeException ignored) {
                // the admin went away meanwhile
            }
        }

        void cancelled() {
            UploadCall upload;
            synchronized (this) {
                if (done) {
                    return;
                }
                done = true;
                pulls.remove(syncId);
                if (deadline != null) {
                    deadline.cancel(false);
                }
                upload = call;
            }
            LOG.info("pull {} of {} from node {} cancelled by the admin", syncId, path, label);
            if (upload != null) {
                upload.ended(Status.CANCELLED.withDescription("the admin cancelled the pull; what arrived is kept for a resume"));
            }
        }

        private void send(SyncEvent event) {
            if (done || out.isCancelled()) {
                return;
            }
            try {
                out.onNext(event);
            } catch (RuntimeException ignored) {
                // the admin went away meanwhile
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
                case START -> work.execute(() -> start(request.getStart()));
                case CHUNK -> work.execute(() -> chunk(request.getChunk().getOffset(), request.getChunk().getData()));
                case END -> work.execute(() -> end(request.getEnd().getTotalSize(), request.getEnd().getSha256().toByteArray()));
                default -> work.execute(() -> fail(Status.INVALID_ARGUMENT.withDescription("an Upload message must carry"
                        + " start, chunk or end; this hub does not know the one sent")));
            }
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
                fail(status(e));
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
                fail(status(e));
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
                fail(status(e));
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
                fail(status(e));
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
