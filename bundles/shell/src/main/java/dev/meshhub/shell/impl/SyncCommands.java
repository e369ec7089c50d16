package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.api.sync.TransferResult;

/**
 * Gogo commands for file sync, in scope {@code mesh}: pull (node → mirror) and push (hub → node).
 * They wait on the shell's thread and print progress lines to the session's console.
 */
@Component(service = SyncCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=pull",
        "osgi.command.function=push"})
public class SyncCommands {

    /** A progress line at most this often. */
    static final long PROGRESS_EVERY_NANOS = 2_000_000_000L;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile FileTransfers transfers;

    public SyncCommands() {
    }

    SyncCommands(FileTransfers transfers) {
        this.transfers = transfers;
    }

    @Descriptor("pull a file from a node's workspace into the hub's mirror (data/mirror/<node id>/); resumes an interrupted pull")
    public String pull(CommandSession session,
            @Descriptor("the node's id or name") String node,
            @Descriptor("the file, relative to the node's workspace") String path) throws Exception {
        PrintStream console = session.getConsole();
        TransferHandle handle = need().pull(node, path, progress(console, "pull " + node + ":" + path));
        TransferResult done = await(handle);
        return "pulled " + path + " from " + node + ": " + done.size() + " bytes"
                + (done.size() > done.transferred() ? " (" + (done.size() - done.transferred()) + " resumed)" : "")
                + ", sha256 " + done.sha256() + " -> " + done.location();
    }

    @Descriptor("push a file to a node's workspace, as a journaled task")
    public String push(CommandSession session,
            @Descriptor("the node's id or name") String node,
            @Descriptor("an absolute path on the hub's machine, or mirror:NODE/PATH") String source,
            @Descriptor("the destination, relative to the node's workspace") String path) throws Exception {
        PrintStream console = session.getConsole();
        TransferHandle handle = need().push(node, source, path, progress(console, "push " + source + " -> " + node + ":" + path));
        TransferResult done = await(handle);
        return "pushed " + source + " to " + node + ":" + path + ": " + done.size() + " bytes, sha256 " + done.sha256();
    }

    private FileTransfers need() {
        FileTransfers service = transfers;
        if (service == null) {
            throw new IllegalStateException("file transfers are not available: the transport is not running");
        }
        return service;
    }

    private static TransferResult await(TransferHandle handle) throws Exception {
        CompletableFuture<TransferResult> result = handle.result().toCompletableFuture();
        try {
            return result.get();
        } catch (InterruptedException e) {
            handle.cancel("the shell command was interrupted");
            Thread.currentThread().interrupt();
            throw e;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Plain progress lines on the console (progress arrives on hub threads). */
    static TransferListener progress(PrintStream console, String what) {
        return new TransferListener() {
            private long last;

            @Override
            public void started(String transferId, long resumedFrom, long totalSize) {
                console.println(what + ": " + transferId + " started" + (resumedFrom > 0 ? ", resuming at " + resumedFrom
                        + " bytes" : "") + (totalSize >= 0 ? " of " + totalSize : ""));
            }

            @Override
            public synchronized void progress(long bytes, long totalSize) {
                long now = System.nanoTime();
                if (now - last >= PROGRESS_EVERY_NANOS) {
                    last = now;
                    console.println(what + ": " + bytes + (totalSize > 0 ? " of " + totalSize + " bytes ("
                            + String.format(Locale.ROOT, "%d%%", 100 * bytes / totalSize) + ")" : " bytes"));
                }
            }
        };
    }
}
