package dev.meshhub.cli;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncFinished;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncPushRequest;
import dev.meshhub.proto.v1.SyncStarted;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl sync pull|push ...}: file sync between nodes and the hub. */
@Command(name = "sync", mixinStandardHelpOptions = true, subcommands = {SyncCommand.Pull.class, SyncCommand.Push.class},
        description = "Copies files between nodes' workspaces and the hub (its mirror: data/mirror/<node id>/).")
final class SyncCommand implements Callable<Integer> {

    /** Prefix of a push source that is a file in a node's mirror on the hub, not a local file. */
    static final String MIRROR_PREFIX = "mirror:";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a sync command: pull or push");
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
            Transfer t = follow(root, plain, "pull", "pull " + node + ":" + path,
                    stub -> stub.syncPull(SyncPullRequest.newBuilder().setNode(node).setPath(path).build()),
                    started -> "what arrived is kept in the hub for a resume");
            if (t == null) {
                return ExecCommand.EXIT_CANCELLED;
            }
            SyncFinished finished = t.finished();
            root.out().println("pulled " + path + " from " + node + ": " + sizes(finished) + ", sha256 "
                    + finished.getSha256());
            root.out().println(finished.getMirrorFile());
            return 0;
        }
    }

    /** Pushes one file from the hub's machine (or a node's mirror) to a node, with progress. */
    @Command(name = "push", mixinStandardHelpOptions = true,
            description = {"Pushes a file to a node's workspace as a task: the node fetches it, verifies its size"
                    + " and SHA-256 and moves it into place atomically (the old file stays if anything fails).",
                "LOCAL is a file on the hub's machine (where meshctl runs), or mirror:NODE/PATH for a file in a"
                    + " node's mirror on the hub.",
                "Progress goes to stderr: a bar on a terminal, a line every 5 s otherwise."},
            footerHeading = "%n",
            footer = {"Examples:", "  meshctl sync push web-1 build/app.cfg conf/app.cfg",
                "  meshctl sync push web-2 mirror:web-1/conf/app.cfg conf/app.cfg",
                "", "Exit codes: 0 the file is in place on the node; 1 LOCAL is not readable, or the hub or node"
                    + " refused or the transfer failed (the node's file is unchanged); 130 interrupted (Ctrl-C, the"
                    + " push is cancelled); 2 usage error."})
    static final class Push implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "NODE", description = "The node's id (n-...) or name.")
        String node;

        @Parameters(index = "1", paramLabel = "LOCAL",
                description = "A file on the hub's machine, or mirror:NODE/PATH (a file in a node's mirror).")
        String local;

        @Parameters(index = "2", paramLabel = "REMOTE", description = "The destination, relative to the node's"
                + " workspace; missing directories are created.")
        String remote;

        @Option(names = "--plain", description = "Plain progress lines even on a terminal.")
        boolean plain;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            String source = source(local);
            Transfer t = follow(root, plain, "push", "push " + local + " to " + node + ":" + remote,
                    stub -> stub.syncPush(SyncPushRequest.newBuilder().setNode(node).setSource(source).setPath(remote)
                            .build()),
                    started -> "cancelling " + (started == null ? "the push"
                            : "task " + started.getSyncId() + " (see 'meshctl task " + started.getSyncId() + "')"));
            if (t == null) {
                return ExecCommand.EXIT_CANCELLED;
            }
            SyncFinished finished = t.finished();
            String destination = finished.getMirrorFile().isEmpty() ? remote : finished.getMirrorFile();
            root.out().println("pushed " + local + " to " + node + ":" + destination + ": " + sizes(finished)
                    + ", sha256 " + finished.getSha256()
                    + (t.started() == null ? "" : " (task " + t.started().getSyncId() + ")"));
            return 0;
        }

        /**
         * What the hub is told to read: {@code mirror:...} as is, else the local file's absolute path,
         * checked here so that a typo fails at once with a clear message.
         */
        static String source(String local) {
            if (local.startsWith(MIRROR_PREFIX)) {
                return local;
            }
            Path file;
            try {
                file = Path.of(local).toAbsolutePath().normalize();
            } catch (InvalidPathException e) {
                throw new CliException(CliException.FAILED, local + " is not a readable file (not a valid path)");
            }
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new CliException(CliException.FAILED, local + " is not a readable file"
                        + (file.toString().equals(local) ? "" : " (" + file + ")"));
            }
            return file.toString();
        }
    }

    // ---- the event loop both share ----

    /** How a sync call ended well: its result, and its start if the hub sent one. */
    record Transfer(SyncStarted started, SyncFinished finished) {
    }

    /**
     * Runs one sync call and follows its events to the end, showing progress on stderr. Ctrl-C
     * cancels the call, which makes the hub stop the transfer.
     *
     * @param verb          "pull" or "push", for messages
     * @param what          names the transfer on progress lines
     * @param ifInterrupted what an interrupt means, given the start event (null if none came yet);
     *                      printed before the interrupt is let go (the process ends then)
     * @return the result, or null if the user interrupted (the message is printed)
     * @throws CliException (exit 1) the hub cannot be reached, refused, or the transfer failed
     */
    static Transfer follow(MeshCtl root, boolean plain, String verb, String what,
            Function<AdminServiceGrpc.AdminServiceBlockingStub, Iterator<SyncEvent>> call,
            Function<SyncStarted, String> ifInterrupted) {
        Context.CancellableContext callContext = Context.current().withCancellation();
        AtomicBoolean interrupted = new AtomicBoolean();
        CountDownLatch ended = new CountDownLatch(1);
        Progress progress = new Progress(root.err(), !plain && System.console() != null, what);
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
                return reportInterrupt(root, ifInterrupted.apply(null));
            }
            SyncStarted started = null;
            SyncFinished finished = null;
            try {
                Iterator<SyncEvent> events;
                Context previous = callContext.attach();
                try {
                    events = call.apply(client.unboundedStub());
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
                    return reportInterrupt(root, ifInterrupted.apply(started));
                }
                throw new CliException(CliException.FAILED, client.explain(e.getStatus()), e);
            }
            progress.end();
            if (finished == null) {
                if (interrupted.get()) {
                    return reportInterrupt(root, ifInterrupted.apply(started));
                }
                throw new CliException(CliException.FAILED, "the hub ended the " + verb + " without a result");
            }
            return new Transfer(started, finished);
        } finally {
            callContext.cancel(null);
            ended.countDown();
        }
    }

    private static Transfer reportInterrupt(MeshCtl root, String meaning) {
        root.err().println("meshctl: interrupted; " + meaning);
        root.err().flush();
        return null;
    }

    /** {@code 1.5 MiB} or {@code 1.5 MiB (512.0 KiB resumed)}. */
    private static String sizes(SyncFinished finished) {
        long resumed = finished.getSize() - finished.getTransferred();
        return Progress.size(finished.getSize()) + (resumed > 0 ? " (" + Progress.size(resumed) + " resumed)" : "");
    }
}
