package dev.meshhub.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A task's process and every process it started that can still be found, so that ending the task
 * ends all of them.
 *
 * <p>Descendants are found in two ways. Through parent links ({@link ProcessHandle#descendants()}):
 * but a process whose parent died is re-parented (to init or a subreaper) and can no longer be
 * found from the task's process, so the tree remembers every member it has seen and keeps
 * searching below the orphans it knows. And, where {@code /proc} is readable (Linux), through a
 * marker: every task is started with the environment variable {@value #MARKER_VARIABLE} set to a
 * value of its own, which its descendants inherit, so an orphan that left the tree before anyone
 * looked is still found by its environment (the technique of Jenkins' ProcessTreeKiller). Without
 * {@code /proc}, {@link #track()} should run periodically while the task runs; then only a
 * process orphaned between two looks can escape.
 *
 * <p>This is cleanup, not containment: a process that deliberately clears its environment and
 * detaches itself escapes; containing hostile code needs the STRICT allowlist (or cgroups).
 *
 * <p>{@link ProcessHandle} compares process start times as well as pids, so a recycled pid is
 * never signalled by mistake.
 *
 * <p>Not thread-safe: confined to the task supervisor's process-control thread.
 */
final class ProcessTree {

    /** What ending a tree took: processes sent SIGTERM, and those of them still running after the grace. */
    record Ending(int terminated, int killed) {
    }

    /** The environment variable that marks a task's processes. */
    static final String MARKER_VARIABLE = "MESHNODE_TASK_MARKER";
    /** How often {@link #end} looks whether the tree is gone during the grace period. */
    static final long GRACE_POLL_MS = 20;
    /** Whether processes can be found by their environment here. */
    static final boolean MARKER_SEARCH = Files.isReadable(Path.of("/proc/self/environ"));

    private static final Logger LOG = Logger.getLogger(ProcessTree.class.getName());
    private static final Path PROC = Path.of("/proc");

    private final ProcessHandle root;
    private final byte[] marker;
    /** The root and every descendant seen while alive; dead ones are pruned by {@link #track()}. */
    private final Set<ProcessHandle> members = new LinkedHashSet<>();

    /**
     * @param markerValue the value of {@value #MARKER_VARIABLE} the task was started with
     */
    ProcessTree(ProcessHandle root, String markerValue) {
        this.root = root;
        this.marker = (MARKER_VARIABLE + "=" + markerValue).getBytes(StandardCharsets.UTF_8);
        members.add(root);
    }

    long rootPid() {
        return root.pid();
    }

    /**
     * Adds the live descendants of the tree's live members and forgets members that died. A search
     * starts only from members whose parent is not in the tree (the root, and orphans), since each
     * search scans the process table.
     *
     * @return how many processes of the tree are alive
     */
    int track() {
        return track(false);
    }

    private int track(boolean byMarker) {
        List<ProcessHandle> anchors = new ArrayList<>();
        for (Iterator<ProcessHandle> it = members.iterator(); it.hasNext();) {
            ProcessHandle p = it.next();
            if (!isRunning(p)) {
                if (p != root) {
                    it.remove();
                }
                continue;
            }
            if (p == root || p.parent().filter(members::contains).isEmpty()) {
                anchors.add(p);
            }
        }
        for (ProcessHandle anchor : anchors) {
            anchor.descendants().forEach(members::add);
        }
        if (byMarker && MARKER_SEARCH) {
            findByMarker();
        }
        return (int) members.stream().filter(ProcessTree::isRunning).count();
    }

    /**
     * Signals every live member: collects the tree, signals, then collects again (a process may
     * have forked meanwhile, or in answer to the signal) and signals the newcomers.
     *
     * @param forcibly SIGKILL ({@link ProcessHandle#destroyForcibly()}) instead of SIGTERM
     * @return how many processes were signalled
     */
    int signal(boolean forcibly) {
        Set<ProcessHandle> signalled = new LinkedHashSet<>();
        for (int round = 0; round < 2; round++) {
            track(true);
            for (ProcessHandle p : List.copyOf(members)) {
                if (isRunning(p) && signalled.add(p)) {
                    try {
                        if (forcibly) {
                            p.destroyForcibly();
                        } else {
                            p.destroy();
                        }
                    } catch (RuntimeException e) {
                        LOG.log(Level.FINE, "cannot signal pid " + p.pid(), e);
                    }
                }
            }
        }
        return signalled.size();
    }

    /** Adds every process of this user whose environment holds this tree's marker. */
    private void findByMarker() {
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, entry -> isNumber(entry.getFileName().toString()))) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                if (pid == self || !hasMarker(entry)) {
                    continue;
                }
                // Take the handle (it pins the start time), then look again: the pid may have been
                // reused between the first look and the handle.
                ProcessHandle.of(pid).filter(p -> hasMarker(entry)).ifPresent(members::add);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "searching /proc for the marker of pid " + root.pid(), e);
        }
    }

    private boolean hasMarker(Path procEntry) {
        byte[] environment;
        try {
            environment = Files.readAllBytes(procEntry.resolve("environ"));
        } catch (IOException | RuntimeException e) {
            return false; // gone, or another user's process (which we could not signal anyway)
        }
        // Entries are NAME=value, each ended by NUL; the marker must be a whole entry.
        int last = environment.length - marker.length;
        for (int i = 0; i <= last; i++) {
            if ((i == 0 || environment[i - 1] == 0) && (i + marker.length == environment.length
                    || environment[i + marker.length] == 0) && regionMatches(environment, i)) {
                return true;
            }
        }
        return false;
    }

    private boolean regionMatches(byte[] environment, int offset) {
        for (int j = 0; j < marker.length; j++) {
            if (environment[offset + j] != marker[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Alive and not a zombie. A zombie has ended; it only waits for its parent to collect it,
     * which in a container whose init does not reap may be never.
     */
    static boolean isRunning(ProcessHandle p) {
        if (!p.isAlive()) {
            return false;
        }
        if (!MARKER_SEARCH) {
            return true;
        }
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(p.pid())).resolve("stat"), StandardCharsets.US_ASCII);
            // "pid (command) S ...": the command may hold spaces and parentheses, the state follows the last ')'.
            int close = stat.lastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException e) {
            return p.isAlive();
        }
    }

    private static boolean isNumber(String name) {
        if (name.isEmpty() || name.length() > 18) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * Ends the tree: SIGTERM to every member now; then, when some are still alive after {@code
     * graceMs}, SIGKILL to everything alive. Never blocks: the grace is waited for by polling on
     * {@code control}, the thread this tree is confined to.
     *
     * @return completes on {@code control} once SIGTERM was enough or SIGKILL was sent
     */
    CompletableFuture<Ending> end(long graceMs, ScheduledExecutorService control) {
        CompletableFuture<Ending> done = new CompletableFuture<>();
        control.execute(() -> {
            try {
                int terminated = signal(false);
                awaitThenKill(terminated, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs), done, control);
            } catch (RuntimeException | Error e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private void awaitThenKill(int terminated, long deadline, CompletableFuture<Ending> done,
            ScheduledExecutorService control) {
        try {
            if (members.stream().noneMatch(ProcessTree::isRunning)) {
                done.complete(new Ending(terminated, 0));
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                int killed = signal(true);
                done.complete(new Ending(terminated, killed));
                return;
            }
            control.schedule(() -> awaitThenKill(terminated, deadline, done, control),
                    Math.min(left, TimeUnit.MILLISECONDS.toNanos(GRACE_POLL_MS)), TimeUnit.NANOSECONDS);
        } catch (RuntimeException | Error e) {
            done.completeExceptionally(e);
        }
    }
}
