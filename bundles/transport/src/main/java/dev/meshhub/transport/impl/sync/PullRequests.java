package dev.meshhub.transport.impl.sync;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.api.sync.TransferResult;
import dev.meshhub.proto.v1.FileSyncFailed;
import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import io.grpc.Status;

/**
 * Pulls: the hub asks a node (on its TaskStream) to upload a file, waits a bounded time for the
 * node's Upload stream naming it, then relays the upload's progress and outcome to the caller.
 */
final class PullRequests {

    private static final Logger LOG = LoggerFactory.getLogger(PullRequests.class);

    private final FileSyncService sync;
    private final Map<String, Pull> pending = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder files = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytes = new java.util.concurrent.atomic.LongAdder();

    /** Pulls finished (verified) and the bytes they transferred. */
    long[] finished() {
        return new long[] {files.sum(), bytes.sum()};
    }

    PullRequests(FileSyncService sync) {
        this.sync = sync;
    }

    /** Asks the node for {@code path} (already checked). */
    TransferHandle start(EnrolledNode node, String path, TransferListener listener) throws TransferException {
        String label = node.name() + " (" + node.nodeId() + ")";
        Optional<NodeSessionHandle> session = sync.sessions().live(node.nodeId());
        if (session.isEmpty()) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "node " + label + " is not connected; pull once it is");
        }
        String syncId = sync.nextId("s-");
        Pull pull = new Pull(syncId, node.nodeId(), label, path, listener);
        pending.put(syncId, pull);
        long waitMillis = sync.limits().startTimeout().toMillis();
        pull.deadline = sync.timer().schedule(() -> pull.fail(Status.DEADLINE_EXCEEDED.withDescription("node " + label
                + " did not start uploading " + path + " within " + waitMillis / 1000 + " s; is its agent current?")),
                waitMillis, TimeUnit.MILLISECONDS);
        boolean sent = session.get().send(HubMessage.newBuilder()
                .setSyncRequest(FileSyncRequest.newBuilder().setSyncId(syncId).setPath(path)).build());
        if (!sent) {
            pull.fail(Status.UNAVAILABLE.withDescription("node " + label + " disconnected; pull once it is back"));
        } else {
            LOG.info("pull {} of {} from node {} requested", syncId, path, label);
        }
        return pull;
    }

    /** The pull an upload names, if it is this node's, of this path, and still waiting for its upload. */
    Pull attach(String syncId, String nodeId, String path, UploadReceiver upload) {
        Pull pull = pending.get(syncId);
        return pull != null && pull.nodeId.equals(nodeId) && pull.path.equals(path) && pull.attach(upload) ? pull : null;
    }

    /** A node could not start an upload the hub asked for. */
    void syncFailed(NodeSessionHandle session, FileSyncFailed failed) {
        Pull pull = pending.get(failed.getSyncId());
        if (pull == null || !pull.nodeId.equals(session.nodeId())) {
            LOG.debug("node {} reported a failed sync {} the hub does not know", session.nodeId(), failed.getSyncId());
            return;
        }
        pull.fail(new TransferException(TransferException.Reason.REFUSED, "node " + pull.label + " cannot upload "
                + pull.path + ": " + Answers.shorten(failed.getReason(), 500)));
    }

    /** Pulls still waiting for this node's upload fail at once. */
    void sessionEnded(NodeSessionHandle session, String cause) {
        for (Pull pull : pending.values()) {
            if (pull.nodeId.equals(session.nodeId()) && pull.upload == null) {
                pull.fail(Status.UNAVAILABLE.withDescription("node " + pull.label + " disconnected before its upload"
                        + " started: " + cause + "; pull again once it is back"));
            }
        }
    }

    void stopAll() {
        for (Pull pull : pending.values()) {
            pull.fail(Status.UNAVAILABLE.withDescription("the hub's transport is stopping; pull again later"));
        }
    }

    /** One pull: waits for the node's upload, then relays its progress. */
    /** The pulls running now, with their progress. */
    java.util.List<dev.meshhub.api.sync.TransferProgress> inProgress() {
        return pending.values().stream().map(pull -> new dev.meshhub.api.sync.TransferProgress(pull.syncId, "pull", pull.nodeId,
                pull.path, pull.bytes, pull.total, pull.startedAt)).toList();
    }

    final class Pull implements TransferHandle {
        final String syncId;
        final String nodeId;
        final String label;
        final String path;
        private final TransferListener listener;
        private final CompletableFuture<TransferResult> result = new CompletableFuture<>();
        volatile UploadReceiver upload;
        volatile ScheduledFuture<?> deadline;
        private long lastProgress;
        private final java.time.Instant startedAt = java.time.Instant.now();
        private volatile long bytes;
        private volatile long total = -1;

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

        private synchronized boolean attach(UploadReceiver receiver) {
            if (result.isDone() || upload != null) {
                return false;
            }
            upload = receiver;
            if (deadline != null) {
                deadline.cancel(false);
            }
            return true;
        }

        void started(long resumedFrom, long total) {
            this.bytes = resumedFrom;
            this.total = total;
            FileSyncService.tell(() -> listener.started(syncId, resumedFrom, total));
        }

        void progress(long bytes, long total, boolean force) {
            this.bytes = bytes;
            this.total = total;
            long now = System.nanoTime();
            synchronized (this) {
                if (!force && now - lastProgress < FileSyncService.PROGRESS_EVERY_NANOS) {
                    return;
                }
                lastProgress = now;
            }
            FileSyncService.tell(() -> listener.progress(bytes, total));
        }

        void finished(MirrorFile file, long transferred) {
            pending.remove(syncId);
            files.increment();
            PullRequests.this.bytes.add(transferred);
            result.complete(new TransferResult(nodeId, path, file.file().toString(), file.size(), file.sha256(), transferred));
        }

        void fail(Status status) {
            fail(new TransferException(ApiStatuses.transferReason(status), status.getDescription() == null ? status.getCode().toString()
                    : status.getDescription()));
        }

        void fail(TransferException failure) {
            pending.remove(syncId);
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
            UploadReceiver receiver = upload;
            if (receiver != null) {
                receiver.ended(Status.CANCELLED.withDescription(why + "; what arrived is kept for a resume"));
            }
        }
    }
}
