package dev.meshhub.node;

import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;
import io.grpc.Channel;
import io.grpc.Context;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One file the hub pushes (a DOWNLOAD task): resolved, fetched and moved into place by
 * {@link FileDownloader} on a thread of its own ({@code meshnode-task-<id>-download}), reported like
 * a command: {@code TaskStarted} once the destination is accepted, then one {@code TaskFinished}.
 *
 * <ul>
 * <li>A refused destination: REFUSED, no TaskStarted, nothing written.</li>
 * <li>A cancel or the timeout: the call is cancelled, the temporary file deleted, then CANCELLED or
 * TIMED_OUT is reported. Once the verified file is being moved into place a stop is ignored: the
 * result then says what happened to the destination.</li>
 * <li>The session ends: the download is {@linkplain #abandon abandoned} the same way, nothing more
 * is reported.</li>
 * </ul>
 *
 * <p>Threading: {@link #start}, {@link #stop}, {@link #abandon} and the reporting run on the agent's
 * thread; the download thread hands its result there. The little state both sides read (whether
 * the task was stopped, whether the file is being moved) is guarded by this object's lock.
 */
final class RunningDownload implements SupervisedTask {

    /** Margin of the call's own deadline over the task's timeout, which should always come first. */
    static final long DEADLINE_MARGIN_MS = 5_000;

    private static final Logger LOG = Logger.getLogger(RunningDownload.class.getName());

    private final String id;
    private final String label;
    private final FileDownload download;
    private final String shown;
    private final Path workspace;
    private final Path stateDirectory;
    private final String nodeLabel;
    private final Channel hub;
    private final OutboundQueue out;
    private final long timeoutMs;
    private final TaskSupervisor supervisor;
    private final ScheduledExecutorService scheduler;
    private final Executor serial;
    /** The Download call runs in it; cancelling it ends the call. Not tied to any other call. */
    private final Context.CancellableContext call = Context.ROOT.withCancellation();
    /** Completes when the download thread is done with the disk (temporary file gone or moved). */
    private final CompletableFuture<Void> threadEnded = new CompletableFuture<>();

    // Both threads; guarded by this.
    private TaskFinished.Outcome stopOutcome;
    private String stopReason;
    private boolean committing;
    private boolean abandoned;

    // Confined to the agent's thread.
    private boolean done;
    private ScheduledFuture<?> timeout;

    /**
     * @param hub the channel to the hub, with the node's credential header
     */
    RunningDownload(String id, FileDownload download, Path workspace, Path stateDirectory, String nodeLabel, Channel hub,
            OutboundQueue out, long timeoutMs, TaskSupervisor supervisor, ScheduledExecutorService scheduler,
            Executor serial) {
        this.id = id;
        this.label = TaskSupervisor.shorten(id, 60);
        this.download = download;
        this.shown = TaskSupervisor.shorten(download.getPath(), 200);
        this.workspace = workspace;
        this.stateDirectory = stateDirectory;
        this.nodeLabel = nodeLabel;
        this.hub = hub;
        this.out = out;
        this.timeoutMs = timeoutMs;
        this.supervisor = supervisor;
        this.scheduler = scheduler;
        this.serial = serial;
    }

    @Override
    public String id() {
        return id;
    }

    /** Completes once the download thread no longer touches the disk. */
    CompletableFuture<Void> threadEnded() {
        return threadEnded;
    }

    /** Arms the timeout and starts the download thread. */
    void start() {
        timeout = scheduler.schedule(() -> stop(TaskFinished.Outcome.TIMED_OUT, "timed out after " + timeoutMs + " ms"),
                timeoutMs, TimeUnit.MILLISECONDS);
        Thread t = new Thread(this::run, "meshnode-task-" + TaskSupervisor.shorten(id, 32) + "-download");
        t.setDaemon(true);
        t.start();
    }

    // ---- agent thread ----

    @Override
    public void stop(TaskFinished.Outcome outcome, String reason) {
        synchronized (this) {
            if (done || abandoned || stopOutcome != null) {
                LOG.fine("task " + label + " is already ending; ignoring: " + reason);
                return;
            }
            if (committing) {
                LOG.info("task " + label + ": " + reason + "; ignored, " + shown + " is already being moved into place");
                return;
            }
            stopOutcome = outcome;
            stopReason = reason;
        }
        cancelTimeout();
        LOG.info("task " + label + ": " + reason + "; stopping the download of " + shown);
        call.cancel(null);
    }

    @Override
    public void abandon(long maxGraceMs) {
        if (done) {
            return;
        }
        done = true;
        synchronized (this) {
            abandoned = true;
        }
        cancelTimeout();
        call.cancel(null);
    }

    private void reportStarted() {
        if (!done) {
            out.add(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id)).build());
        }
    }

    private void complete(TaskFinished result) {
        if (done) {
            return;
        }
        done = true;
        cancelTimeout();
        out.add(NodeMessage.newBuilder().setTaskFinished(result).build());
        supervisor.finished(this, result);
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    // ---- download thread ----

    private void run() {
        TaskFinished result;
        try {
            result = transfer();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "task " + label + ": the download of " + shown + " failed", e);
            result = finished(TaskFinished.Outcome.FAILED, "the download of " + shown + " failed: " + e);
        } finally {
            call.cancel(null);
            threadEnded.complete(null);
        }
        TaskFinished r = result;
        serial.execute(() -> complete(r));
    }

    private TaskFinished transfer() {
        Path destination;
        try {
            destination = WorkingDirectory.resolveDestination(workspace, download.getPath(), nodeLabel);
        } catch (WorkingDirectory.Refused e) {
            return stopped().orElse(finished(TaskFinished.Outcome.REFUSED, e.getMessage()));
        } catch (IOException e) {
            return stopped().orElse(finished(TaskFinished.Outcome.FAILED, "node " + nodeLabel + " cannot prepare "
                    + shown + " in its workspace: " + FileDownloader.reason(e)));
        }
        Optional<TaskFinished> stoppedEarly = stopped();
        if (stoppedEarly.isPresent()) {
            return stoppedEarly.get(); // the parents it created stay: they are inside the workspace
        }
        serial.execute(this::reportStarted);
        LOG.info("task " + label + ": downloading " + download.getSize() + " bytes to " + destination + " (timeout "
                + timeoutMs + " ms)");
        Context previous = call.attach();
        try {
            FileDownloader.Result written = new FileDownloader(hub, stateDirectory).download(download, destination, shown,
                    timeoutMs + DEADLINE_MARGIN_MS, this::beginCommit);
            return finished(TaskFinished.Outcome.SUCCEEDED, "wrote " + written.size() + " bytes to " + shown
                    + " (sha256 " + written.sha256() + ")");
        } catch (FileDownloader.DownloadException e) {
            return stopped().orElse(finished(TaskFinished.Outcome.FAILED, e.getMessage()));
        } finally {
            call.detach(previous);
        }
    }

    /** Whether the verified file may be moved into place; from then on a stop is ignored. */
    private synchronized boolean beginCommit() {
        if (stopOutcome != null || abandoned) {
            return false;
        }
        committing = true;
        return true;
    }

    /** The result a stop asked for, if the task was stopped. */
    private synchronized Optional<TaskFinished> stopped() {
        return stopOutcome == null ? Optional.empty()
                : Optional.of(finished(stopOutcome, stopReason));
    }

    private TaskFinished finished(TaskFinished.Outcome outcome, String diagnostic) {
        return TaskFinished.newBuilder().setTaskId(id).setOutcome(outcome).setDiagnostic(diagnostic).build();
    }
}
