package dev.meshhub.transport.impl.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.api.sync.TransferResult;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.server.support.Answers;
import dev.meshhub.transport.impl.dispatch.Dispatcher;

/**
 * Pushes: a file on the hub's machine, or a complete file in a node's mirror, sent to a node as a
 * journaled task (kind {@code push}). The source is found and hashed on the IO pool; the task tells
 * the node the size and SHA-256; the node fetches the bytes ({@link DownloadSender}) and verifies them.
 * A mirror source is resolved by the mirror alone ({@link MirrorStore#existingFile}), so its
 * confinement is the mirror's, never re-implemented here.
 */
final class PushTransfers {

    private static final Logger LOG = LoggerFactory.getLogger(PushTransfers.class);

    /** How a push source names a file in a node's mirror. */
    static final String MIRROR_SOURCE = "mirror:";
    /** A push's time limit: this, plus one millisecond per {@link #PUSH_TIMEOUT_BYTES_PER_MS} bytes. */
    static final Duration PUSH_TIMEOUT_BASE = Duration.ofMinutes(10);
    static final long PUSH_TIMEOUT_BYTES_PER_MS = 1_000;

    private final FileSyncService sync;
    private final Dispatcher dispatcher;
    private final Map<String, Push> running = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.LongAdder files = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytes = new java.util.concurrent.atomic.LongAdder();

    /** Pushes that succeeded and the bytes of their files. */
    long[] finished() {
        return new long[] {files.sum(), bytes.sum()};
    }

    PushTransfers(FileSyncService sync, Dispatcher dispatcher) {
        this.sync = sync;
        this.dispatcher = dispatcher;
    }

    /** Starts a push of {@code source} to {@code dest} (already checked) on {@code node}. */
    TransferHandle start(MirrorStore store, EnrolledNode node, String source, String dest, TransferListener listener)
            throws TransferException {
        String label = node.name() + " (" + node.nodeId() + ")";
        if (source == null || source.isBlank()) {
            throw new TransferException(TransferException.Reason.INVALID, "name the file to push: an absolute path on the"
                    + " hub's machine, or mirror:NODE/PATH");
        }
        if (!source.startsWith(MIRROR_SOURCE)) {
            Path local;
            try {
                local = Path.of(source);
            } catch (InvalidPathException e) {
                throw new TransferException(TransferException.Reason.INVALID, "'" + Answers.shorten(source, 80) + "' is not a path");
            }
            if (!local.isAbsolute()) {
                throw new TransferException(TransferException.Reason.INVALID, "give the source as an absolute path on the hub's"
                        + " machine (meshctl resolves relative ones), or as mirror:NODE/PATH");
            }
        }
        if (sync.sessions().live(node.nodeId()).isEmpty()) {
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "node " + label + " is not connected; push once it is");
        }
        Push push = new Push(sync.nextId("x-"), node, label, dest, source, listener);
        running.put(push.transferId, push);
        try {
            sync.io().execute(() -> push.prepare(store));
        } catch (RejectedExecutionException e) {
            running.remove(push.transferId);
            throw new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push later");
        }
        return push;
    }

    /** The push a node may fetch: running, hashed, and for that node. */
    Push find(String transferId, String nodeId) {
        Push push = running.get(transferId);
        return push != null && push.file != null && push.node.nodeId().equals(nodeId) ? push : null;
    }

    void stopAll() {
        for (Push push : running.values()) {
            push.fail(new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push again later"));
        }
    }

    /** The file a push sends. Disk work: on the IO pool. */
    private Path resolveSource(MirrorStore store, String source) throws TransferException {
        if (!source.startsWith(MIRROR_SOURCE)) {
            Path file = Path.of(source);
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new TransferException(TransferException.Reason.NOT_FOUND, source + " is not a readable file on the hub's machine");
            }
            return file;
        }
        String rest = source.substring(MIRROR_SOURCE.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw new TransferException(TransferException.Reason.INVALID, "write a mirror source as mirror:NODE/PATH");
        }
        EnrollmentStore nodes = sync.enrollment();
        EnrolledNode owner = nodes == null ? null : nodes.find(rest.substring(0, slash)).orElse(null);
        if (owner == null) {
            throw new TransferException(TransferException.Reason.NOT_FOUND, "no enrolled node '"
                    + Answers.shorten(rest.substring(0, slash), 80) + "' whose mirror holds the source");
        }
        try {
            return store.existingFile(owner.nodeId(), rest.substring(slash + 1));
        } catch (MirrorException e) {
            throw new TransferException(switch (e.reason()) {
                case BAD_PATH -> TransferException.Reason.INVALID;
                case NOT_FOUND -> TransferException.Reason.NOT_FOUND;
                default -> TransferException.Reason.REFUSED;
            }, e.getMessage(), e);
        }
    }

    /** One push: hash the source, journal and send the task, relay the node's fetching, end with the task. */
    /** The pushes running now, with their progress (size -1 while the file is still being hashed). */
    java.util.List<dev.meshhub.api.sync.TransferProgress> inProgress() {
        return running.values().stream().map(push -> new dev.meshhub.api.sync.TransferProgress(push.transferId, "push",
                push.node.nodeId(), push.dest, push.sent, push.file == null ? -1 : push.size, push.startedAt)).toList();
    }

    final class Push implements TransferHandle {
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
        private volatile TaskHandle task;
        private long lastProgress;
        private final java.time.Instant startedAt = java.time.Instant.now();
        private volatile long sent;

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
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                long total = 0;
                try (FileChannel in = open(resolved)) {
                    ByteBuffer buffer = ByteBuffer.allocate(FileSyncService.MAX_CHUNK);
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
                sha256 = HexFormat.of().formatHex(digest);
                file = resolved;
            } catch (TransferException e) {
                fail(e);
                return;
            } catch (IOException | NoSuchAlgorithmException e) {
                fail(new TransferException(TransferException.Reason.NOT_FOUND, "cannot read " + source + ": " + e.getMessage(), e));
                return;
            }
            if (result.isDone()) {
                return; // cancelled while the source was being hashed: nothing is sent
            }
            if (sync.isStopped()) {
                fail(new TransferException(TransferException.Reason.UNAVAILABLE, "the hub's transport is stopping; push later"));
                return;
            }
            long timeoutMs = Math.min(0xFFFF_FFFFL, PUSH_TIMEOUT_BASE.toMillis() + size / PUSH_TIMEOUT_BYTES_PER_MS);
            try {
                task = dispatcher.dispatchDownload(node.nodeId(), FileDownload.newBuilder()
                        .setTransferId(transferId).setPath(dest).setSize(size)
                        .setSha256(ByteString.copyFrom(digest)).setTimeoutMs((int) timeoutMs).build(),
                        "push " + Answers.shorten(source, 120) + " -> " + dest);
            } catch (DispatchException e) {
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
            FileSyncService.tell(() -> listener.started(taskId, 0, size));
            task.result().whenComplete((ended, failure) -> {
                if (failure != null) {
                    fail(new TransferException(TransferException.Reason.FAILED, "push task " + taskId + " failed: "
                            + failure.getMessage(), failure));
                } else if (ended.state() == TaskState.SUCCEEDED) {
                    progress(size, true);
                    running.remove(transferId);
                    files.increment();
                    bytes.add(size);
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

        /** Opens the source for reading; a file from a mirror is never read through a symlink put there since. */
        FileChannel open(Path path) throws IOException {
            return source.startsWith(MIRROR_SOURCE)
                    ? FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)
                    : FileChannel.open(path, StandardOpenOption.READ);
        }

        void progress(long bytes, boolean force) {
            this.sent = bytes;
            long now = System.nanoTime();
            synchronized (this) {
                if (!force && now - lastProgress < FileSyncService.PROGRESS_EVERY_NANOS) {
                    return;
                }
                lastProgress = now;
            }
            FileSyncService.tell(() -> listener.progress(bytes, size));
        }

        void fail(TransferException failure) {
            running.remove(transferId);
            if (result.completeExceptionally(failure)) {
                LOG.info("push {} of {} to node {} failed: {}", transferId, source, label, failure.getMessage());
            }
        }

        @Override
        public void cancel(String reason) {
            String why = reason == null || reason.isBlank() ? "cancelled" : reason;
            TaskHandle started = task;
            fail(new TransferException(TransferException.Reason.CANCELLED, why));
            if (started != null) {
                started.cancel(why);
            }
        }
    }
}
