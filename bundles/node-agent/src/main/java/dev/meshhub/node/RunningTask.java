package dev.meshhub.node;

import com.google.protobuf.ByteString;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskOutput;
import dev.meshhub.proto.v1.TaskStarted;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One started task: its process, the two threads reading its output, its timeout, and how it ends.
 *
 * <p>Every way a task ends goes through {@link ProcessTree#end} (SIGTERM, grace, SIGKILL), and
 * {@code TaskFinished} is reported only after that, so when the hub reads a result nothing of the
 * task runs any more:
 * <ul>
 * <li>The process exits: at once the tree is swept for processes the task left behind, which are
 * ended too and mentioned in the diagnostic; a background child holding an output pipe open would
 * otherwise keep the task from ever finishing. The result follows when both pipes reached end of
 * file, so all output is queued before it.</li>
 * <li>A cancel or the timeout comes first: the tree is ended, the result is CANCELLED or
 * TIMED_OUT.</li>
 * <li>The session ends: the task is {@linkplain #abandon abandoned}, its tree ended the same way,
 * but nothing more is reported, since the hub has already failed it.</li>
 * </ul>
 *
 * <p>Threading: everything but {@link #output} and {@link #outputClosed} runs on the agent's
 * thread. The reader threads take {@code outputLock} to number and queue a chunk in one step (one
 * counter across both streams, in the order read); the agent's thread never takes that lock, as a
 * reader may hold it while waiting for room in the {@link OutboundQueue}.
 */
final class RunningTask implements SupervisedTask {

    /**
     * After the tree was ended, how long to wait for the pipes to close before reporting anyway:
     * a process outside the tree (one that escaped it) may hold them open.
     */
    static final long PIPE_LINGER_MS = 2_000;

    private static final Logger LOG = Logger.getLogger(RunningTask.class.getName());

    private final String id;
    /** The id as logs show it (printable, shortened). */
    private final String label;
    private final String program;
    private final Process process;
    private final ProcessTree tree;
    private final OutboundQueue out;
    private final long timeoutMs;
    private final long graceMs;
    private final TaskSupervisor supervisor;
    private final ScheduledExecutorService scheduler;
    private final Executor serial;

    // Reader threads.
    private final Object outputLock = new Object();
    private long sequence; // guarded by outputLock
    private volatile boolean outputDetached;
    private final CreditGate credit;
    /** Output read while the task was being ended, with no credit left for it. */
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();

    // Confined to the agent's thread.
    private int openPipes = 2;
    private boolean exited;
    private int exitCode;
    private TaskFinished.Outcome stopOutcome;
    private String stopReason;
    private CompletableFuture<ProcessTree.Ending> ending;
    private ProcessTree.Ending ended;
    private boolean done;
    private ScheduledFuture<?> timeout;
    private ScheduledFuture<?> linger;

    RunningTask(String id, String program, Process process, String marker, OutboundQueue out, CreditGate credit, long timeoutMs,
            long graceMs, TaskSupervisor supervisor, ScheduledExecutorService scheduler, Executor serial) {
        this.credit = credit;
        this.id = id;
        this.label = TaskSupervisor.shorten(id, 60);
        this.program = program;
        this.process = process;
        this.tree = new ProcessTree(process.toHandle(), marker);
        this.out = out;
        this.timeoutMs = timeoutMs;
        this.graceMs = graceMs;
        this.supervisor = supervisor;
        this.scheduler = scheduler;
        this.serial = serial;
    }

    @Override
    public String id() {
        return id;
    }

    /** The id as logs show it. */
    String label() {
        return label;
    }

    ProcessTree tree() {
        return tree;
    }

    /** Reports the start, starts the readers, watches for the exit and arms the timeout. */
    void start() {
        out.add(NodeMessage.newBuilder()
                .setTaskStarted(TaskStarted.newBuilder().setTaskId(id).setPid(process.pid()).setProgram(program))
                .build());
        pump(TaskOutput.Stream.STDOUT, "out");
        pump(TaskOutput.Stream.STDERR, "err");
        process.onExit().thenAcceptAsync(p -> exited(p.exitValue()), serial);
        timeout = scheduler.schedule(() -> stop(TaskFinished.Outcome.TIMED_OUT, "timed out after " + timeoutMs + " ms"),
                timeoutMs, TimeUnit.MILLISECONDS);
    }

    private void pump(TaskOutput.Stream stream, String suffix) {
        OutputPump pump = new OutputPump(this, stream,
                stream == TaskOutput.Stream.STDOUT ? process.getInputStream() : process.getErrorStream(), credit);
        Thread t = new Thread(pump, "meshnode-task-" + TaskSupervisor.shorten(id, 32) + "-" + suffix);
        t.setDaemon(true);
        t.start();
    }

    // ---- reader threads ----

    /** A chunk read from a pipe; waits while the outbound queue is full. */
    void output(TaskOutput.Stream stream, byte[] buffer, int offset, int length) throws InterruptedException {
        synchronized (outputLock) {
            if (outputDetached) {
                return;
            }
            NodeMessage chunk = NodeMessage.newBuilder()
                    .setTaskOutput(TaskOutput.newBuilder()
                            .setTaskId(id)
                            .setStream(stream)
                            .setData(ByteString.copyFrom(buffer, offset, length))
                            .setSequence(sequence + 1))
                    .build();
            if (out.put(chunk, () -> !outputDetached)) {
                sequence++;
            }
        }
    }

    /** Output read without credit while the task was being ended: dropped, counted for the diagnostic. */
    void dropped(int bytes) {
        dropped.addAndGet(bytes);
    }

    /** The hub took some of this task's output and grants room for more. */
    void credit(long bytes) {
        credit.grant(bytes);
    }

    /** A pipe reached end of file. */
    void outputClosed(TaskOutput.Stream stream) {
        serial.execute(() -> {
            openPipes--;
            LOG.fine("task " + label + ": " + stream + " closed");
            completeIfDone();
        });
    }

    // ---- agent thread ----

    private void exited(int code) {
        exited = true;
        exitCode = code;
        if (ending == null && !done) {
            // Exited by itself: whatever it left running is ended before the result is reported.
            cancelTimeout();
            endTree(graceMs);
        }
        completeIfDone();
    }

    /**
     * Ends the task's whole process tree and reports {@code outcome} once it is gone. The first
     * stop wins; later ones (a cancel after the timeout) are ignored.
     */
    @Override
    public void stop(TaskFinished.Outcome outcome, String reason) {
        if (done || ending != null) {
            LOG.fine("task " + label + " is already ending; ignoring: " + reason);
            return;
        }
        stopOutcome = outcome;
        stopReason = reason;
        cancelTimeout();
        // A process being ended must not wait on a full pipe for credit the hub may never send.
        credit.release();
        LOG.info("task " + label + ": " + reason + "; ending its process tree (pid " + process.pid() + ", grace "
                + graceMs + " ms)");
        endTree(graceMs);
    }

    /**
     * The session that could carry this task's result is gone: end the process tree, report
     * nothing more. The grace is capped at {@code maxGraceMs}.
     */
    @Override
    public void abandon(long maxGraceMs) {
        if (done) {
            return;
        }
        done = true;
        detachOutput();
        cancelTimeout();
        if (ending == null) {
            endTree(Math.min(graceMs, maxGraceMs));
        }
    }

    private void endTree(long grace) {
        ending = supervisor.endTree(tree, grace);
        ending.whenCompleteAsync(this::treeEnded, serial);
    }

    private void treeEnded(ProcessTree.Ending result, Throwable failure) {
        ended = result != null ? result : new ProcessTree.Ending(0, 0);
        if (failure != null) {
            LOG.log(Level.WARNING, "task " + label + ": ending its process tree failed", failure);
        }
        if (done) {
            return;
        }
        completeIfDone();
        if (!done) {
            linger = scheduler.schedule(this::stopWaiting, PIPE_LINGER_MS, TimeUnit.MILLISECONDS);
        }
    }

    /** The tree is gone yet a pipe is still open (or the process did not exit): report what we have. */
    private void stopWaiting() {
        if (!done) {
            complete();
        }
    }

    private void completeIfDone() {
        if (done || !exited || openPipes > 0 || ended == null) {
            return;
        }
        complete();
    }

    private void complete() {
        done = true;
        cancelTimeout();
        if (linger != null) {
            linger.cancel(false);
        }
        boolean outputLost = openPipes > 0;
        detachOutput();

        TaskFinished.Builder finished = TaskFinished.newBuilder().setTaskId(id);
        if (exited) {
            finished.setExitCode(exitCode);
        }
        StringBuilder diagnostic = new StringBuilder();
        int killed = ended == null ? 0 : ended.killed();
        if (stopOutcome != null) {
            finished.setOutcome(stopOutcome);
            diagnostic.append(stopReason);
        } else {
            if (exitCode == 0) {
                finished.setOutcome(TaskFinished.Outcome.SUCCEEDED);
            } else {
                finished.setOutcome(TaskFinished.Outcome.FAILED);
                diagnostic.append("'").append(program).append("' exited with code ").append(exitCode);
            }
            int leftBehind = ended == null ? 0 : ended.terminated();
            if (leftBehind > 0) {
                append(diagnostic, processes(leftBehind) + " it left running " + (leftBehind == 1 ? "was" : "were")
                        + " ended");
                LOG.warning("task " + label + ": '" + program + "' exited and left " + processes(leftBehind)
                        + " running; ended them");
            }
        }
        if (killed > 0) {
            append(diagnostic, processes(killed) + " still running after the " + graceMs + " ms grace "
                    + (killed == 1 ? "was" : "were") + " killed");
        }
        if (!exited) {
            append(diagnostic, "the process did not exit after it was killed");
        }
        if (outputLost) {
            append(diagnostic, "its output was still held open by a process outside its process tree;"
                    + " output after this point is dropped");
        }
        long droppedBytes = dropped.get();
        if (droppedBytes > 0) {
            append(diagnostic, droppedBytes + " bytes of output written while it was being ended were dropped"
                    + " (the hub had not taken the output before them yet)");
        }
        finished.setDiagnostic(diagnostic.toString());
        out.add(NodeMessage.newBuilder().setTaskFinished(finished).build());
        supervisor.finished(this, finished.build());
    }

    private static String processes(int n) {
        return n == 1 ? "1 process" : n + " processes";
    }

    private static void append(StringBuilder diagnostic, String note) {
        if (diagnostic.length() > 0) {
            diagnostic.append("; ");
        }
        diagnostic.append(note);
    }

    private void detachOutput() {
        outputDetached = true;
        credit.release();
        out.releaseWaiting();
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }
}
