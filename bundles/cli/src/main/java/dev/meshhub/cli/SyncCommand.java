package dev.meshhub.cli;

import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncFinished;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncStarted;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl sync pull NODE PATH}: file sync between nodes and the hub's mirror. */
@Command(name = "sync", mixinStandardHelpOptions = true, subcommands = SyncCommand.Pull.class,
        description = "Copies files between nodes' workspaces and the hub's mirror (data/mirror/<node id>/).")
final class SyncCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a sync command: pull");
    }

    /** Pulls one file from a node into the mirror, with progress. */
    @Command(name = "pull", mixinStandardHelpOptions = true,
            description = {"Pulls a file from a node's workspace into the hub's mirror, verified by SHA-256.",
                "An interrupted pull resumes where it stopped: only the missing bytes are sent.",
                "Progress goes to stderr: a bar on a terminal, a line every 5 s otherwise."},
            footerHeading = "%n",
            footer = {"Examples:", "  meshctl sync pull web-1 logs/app.log",
                "", "Exit codes: 0 the file is in the mirror; 1 the hub or node refused or the transfer failed"
                    + " (what arrived is kept for a resume); 130 interrupted (Ctrl-C); 2 usage error."})
    static final class Pull implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "NODE", description = "The node's id (n-...) or name.")
        String node;

        @Parameters(index = "1", paramLabel = "PATH", description = "The file, relative to the node's workspace.")
        String path;

        @Option(names = "--plain", description = "Plain progress lines even on a terminal.")
        boolean plain;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            Context.CancellableContext callContext = Context.current().withCancellation();
            AtomicBoolean interrupted = new AtomicBoolean();
            CountDownLatch ended = new CountDownLatch(1);
            Progress progress = new Progress(root.err(), !plain && System.console() != null, "pull " + node + ":" + path);
            try (Interrupts.Registration registration = root.interrupts().register(() -> {
                    interrupted.set(true);
                    callContext.cancel(null);
                    try {
                        ended.await(ExecCommand.INTERRUPT_GRACE_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                 AdminClient client = root.connect()) {
                if (!client.awaitConnected(callContext)) {
                    return interruptedExit(root);
                }
                SyncFinished finished = null;
                SyncStarted started = null;
                try {
                    Iterator<SyncEvent> events;
                    Context previous = callContext.attach();
                    try {
                        events = client.unboundedStub().syncPull(SyncPullRequest.newBuilder().setNode(node).setPath(path).build());
                    } finally {
                        callContext.detach(previous);
                    }
                    while (events.hasNext()) {
                        SyncEvent event = events.next();
                        switch (event.getPayloadCase()) {
                            case STARTED -> {
                                started = event.getStarted();
                                progress.start(started.getResumedFrom(), started.getTotalSize(), System.nanoTime());
                            }
                            case PROGRESS -> progress.update(event.getProgress().getBytes(), event.getProgress().getTotalSize(),
                                    System.nanoTime());
                            case FINISHED -> finished = event.getFinished();
                            default -> {
                                // a newer hub's event
                            }
                        }
                    }
                } catch (StatusRuntimeException e) {
                    progress.end();
                    if (interrupted.get()) {
                        return interruptedExit(root);
                    }
                    throw new CliException(CliException.FAILED, client.explain(e.getStatus()), e);
                }
                progress.end();
                if (finished == null) {
                    if (interrupted.get()) {
                        return interruptedExit(root);
                    }
                    throw new CliException(CliException.FAILED, "the hub ended the pull without a result");
                }
                long resumed = finished.getSize() - finished.getTransferred();
                root.out().println("pulled " + path + " from " + node + ": " + Progress.size(finished.getSize())
                        + (resumed > 0 ? " (" + Progress.size(resumed) + " resumed)" : "") + ", sha256 " + finished.getSha256());
                root.out().println(finished.getMirrorFile());
                return 0;
            } finally {
                callContext.cancel(null);
                ended.countDown();
            }
        }

        private static int interruptedExit(MeshCtl root) {
            root.err().println("meshctl: interrupted; what arrived is kept in the hub for a resume");
            return ExecCommand.EXIT_CANCELLED;
        }
    }
}
