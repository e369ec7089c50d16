package dev.meshhub.node;

import dev.meshhub.proto.v1.FileSyncFailed;
import dev.meshhub.proto.v1.FileSyncRequest;
import dev.meshhub.proto.v1.NodeMessage;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Uploads from the node's workspace to the hub's mirror: the files the hub asks for
 * ({@code FileSyncRequest}) and, once a session is healthy, passes over the sync folders every
 * {@code --sync-interval}. Uploads block on disk and flow control, so they run on two threads of their
 * own, never on the agent's; the agent's thread only hands them over and times the passes.
 */
final class WorkspaceUploads implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(WorkspaceUploads.class.getName());

    /** Where uploads go: the hub's channel, the node's credential header, and how the node is named in messages. */
    record Link(Channel channel, ClientInterceptor credential, String nodeLabel) {
    }

    private final NodeAgentConfig config;
    private final ScheduledExecutorService agentThread;
    /** The current link, or null while there is none (not yet enrolled). */
    private final Supplier<Link> link;
    private final ExecutorService uploads;
    private final AtomicBoolean passRunning = new AtomicBoolean();
    // Confined to the agent's thread.
    private FolderSync folderSync;
    private ScheduledFuture<?> folderPasses;

    WorkspaceUploads(NodeAgentConfig config, ScheduledExecutorService agentThread, Supplier<Link> link, int instance) {
        this.config = config;
        this.agentThread = agentThread;
        this.link = link;
        this.uploads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "meshnode-upload-" + instance);
            t.setDaemon(true);
            return t;
        });
    }

    /** On the agent's thread, once a session is healthy: passes over the sync folders begin (once per agent). */
    void startFolderSync() {
        Link now = link.get();
        if (config.syncFolders().isEmpty() || folderPasses != null || now == null) {
            return;
        }
        folderSync = new FolderSync(config.workspace(), config.syncFolders(), now.nodeLabel());
        long every = config.syncInterval().toMillis();
        folderPasses = agentThread.scheduleWithFixedDelay(this::folderPass, 0, every, TimeUnit.MILLISECONDS);
        LOG.info("mirroring " + config.syncFolders() + " to the hub every " + config.syncInterval().toSeconds() + " s");
    }

    /** Hands one pass to an upload thread, unless one is still going. */
    private void folderPass() {
        Link now = link.get();
        if (now == null || !passRunning.compareAndSet(false, true)) {
            return;
        }
        try {
            uploads.execute(() -> {
                try {
                    FolderSync.Pass pass = folderSync.pass(new FileUploader(now.channel(), now.credential()));
                    if (pass.uploaded() > 0 || pass.failed() > 0) {
                        LOG.info("folder sync: " + pass.uploaded() + " file(s) uploaded, " + pass.unchanged() + " unchanged, "
                                + pass.failed() + " failed");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "folder sync pass failed", e);
                } finally {
                    passRunning.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            passRunning.set(false);
        }
    }

    /** Uploads a workspace file the hub asked for; a refusal is reported on the control stream ({@code queue}). */
    void requested(FileSyncRequest request, OutboundQueue queue) {
        Link now = link.get();
        if (now == null) {
            return;
        }
        try {
            uploads.execute(() -> {
                Path file;
                try {
                    file = WorkingDirectory.resolveFile(config.workspace(), request.getPath(), now.nodeLabel());
                } catch (WorkingDirectory.Refused | IOException e) {
                    LOG.warning("cannot upload " + request.getPath() + ": " + e.getMessage());
                    queue.add(NodeMessage.newBuilder().setSyncFailed(FileSyncFailed.newBuilder()
                            .setSyncId(request.getSyncId()).setReason(e.getMessage())).build());
                    return;
                }
                try {
                    FileUploader.Result done = new FileUploader(now.channel(), now.credential())
                            .upload(file, request.getPath(), request.getSyncId());
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

    /** Stops uploads in progress (interrupting them); the passes end with the agent's thread. */
    @Override
    public void close() {
        uploads.shutdownNow();
    }
}
