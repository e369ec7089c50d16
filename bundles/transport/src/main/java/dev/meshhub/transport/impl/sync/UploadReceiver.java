package dev.meshhub.transport.impl.sync;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * One node's Upload stream into the mirror. gRPC delivers messages one at a time (we request them:
 * at most {@link FileSyncService#WINDOW} chunks are in memory whatever the node sends), and every
 * step runs on the IO pool through {@link #work}, in order; so the fields below are only touched
 * there.
 *
 * <p>The upload takes its file's IO lock before opening the mirror file and releases it in every
 * ending path: done, failed, the node's stream ended or cancelled, the node's session ended, the
 * transport stopping. The lock's TTL (renewed on every chunk) is only the registry's backstop.
 */
final class UploadReceiver implements StreamObserver<UploadRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(UploadReceiver.class);

    private final FileSyncService sync;
    private final EnrolledNode node;
    private final String peer;
    private final ServerCallStreamObserver<UploadResponse> out;
    private final SerialExecutor work;
    private final String uploadId;
    private IoLock lock;
    private MirrorUpload upload;
    private PullRequests.Pull pull;
    private long total = -1;
    private long resumedFrom;
    private boolean started;
    private boolean ending;
    private boolean finished;
    /** When the node last sent anything on this stream (for the idle timeout; read by the timer). */
    private volatile long lastActivityNanos = System.nanoTime();

    UploadReceiver(FileSyncService sync, EnrolledNode node, String peer, ServerCallStreamObserver<UploadResponse> out) {
        this.sync = sync;
        this.work = new SerialExecutor(sync.io());
        this.uploadId = sync.nextId("u-");
        this.node = node;
        this.peer = peer;
        this.out = out;
    }

    long lastActivityNanos() {
        return lastActivityNanos;
    }

    @Override
    public void onNext(UploadRequest request) {
        lastActivityNanos = System.nanoTime();
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

    String nodeId() {
        return node.nodeId();
    }

    /** Ends the upload from outside (stream gone, session ended, pull cancelled, transport stopping). */
    void ended(Status status) {
        work.execute(() -> fail(status));
    }

    private void start(UploadStart request) {
        if (started || finished) {
            fail(Status.INVALID_ARGUMENT.withDescription("UploadStart must be the first message of an Upload stream, once"));
            return;
        }
        started = true;
        MirrorStore store = sync.mirror();
        LockRegistry registry = sync.locks();
        if (sync.isStopped()) {
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
            PullRequests.Pull wanted = sync.pulls().attach(request.getSyncId(), node.nodeId(), path, this);
            if (wanted == null) {
                fail(Status.FAILED_PRECONDITION.withDescription("no pending sync " + Answers.shorten(request.getSyncId(), 40)
                        + " of " + path + " for this node (it ended, timed out or was cancelled)"));
                return;
            }
            pull = wanted;
        }
        FileSyncService.SyncLimits limits = sync.limits();
        String refused = sync.admit(this);
        if (refused != null) {
            fail(Status.RESOURCE_EXHAUSTED.withDescription(refused));
            return;
        }
        String key = "mirror/" + node.nodeId() + "/" + path;
        lock = registry.tryAcquire(key, "upload " + uploadId + " of node " + node.nodeId(), limits.lockTtl()).orElse(null);
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
        out.request(FileSyncService.WINDOW);
    }

    private void chunk(long offset, ByteString data) {
        if (finished) {
            return;
        }
        if (upload == null || ending) {
            fail(Status.INVALID_ARGUMENT.withDescription(ending ? "a chunk arrived after UploadEnd"
                    : "the first message of an Upload stream must be UploadStart"));
            return;
        }
        if (data.size() > FileSyncService.MAX_CHUNK) {
            fail(Status.INVALID_ARGUMENT.withDescription("chunks carry at most " + FileSyncService.MAX_CHUNK + " bytes; this one has " + data.size()));
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
            sync.ended(this);
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
