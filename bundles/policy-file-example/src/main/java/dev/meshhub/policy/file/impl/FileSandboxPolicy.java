package dev.meshhub.policy.file.impl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;

/**
 * An alternative {@link SandboxPolicy}, to show the service is replaceable: every node STRICT, with
 * the allowlist a properties file gives it (see {@link NodeAllowlists} for the format). It takes no
 * admin changes, so it offers no {@code PolicyAdministration}.
 *
 * <p>Registered with {@code service.ranking} {@value #RANKING}: dropped into {@code deploy/} beside the
 * default policy, it wins (the transport's reference is greedy); removed, the default one is back.
 *
 * <p>{@link #policyFor} answers from the last good copy of the file and never reads it: at most once
 * a second it hands a check to a pool thread, which stats the file and reads it again when its
 * modification time or size changed. A file that cannot be read or parsed leaves the last good copy
 * of that file in force, or, if there never was one, allows nothing; either way it is logged at WARN.
 */
@Component(name = FileSandboxPolicy.NAME, configurationPid = FilePolicyConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = SandboxPolicy.class,
        property = Constants.SERVICE_RANKING + ":Integer=" + FileSandboxPolicy.RANKING, immediate = true)
@Designate(ocd = FilePolicyConfiguration.class)
public final class FileSandboxPolicy implements SandboxPolicy {

    /** The component's name, also the {@link NodePolicy#source()} of its answers. */
    static final String NAME = "dev.meshhub.policy.file";
    static final int RANKING = 100;
    /** Framework property naming meshhub's home directory. */
    static final String HOME_PROPERTY = "meshhub.home";
    static final long CHECK_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** A larger file is refused: it is read on a shared pool thread. */
    static final long MAX_FILE_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(FileSandboxPolicy.class);

    private final LongSupplier nanoClock;
    private final Executor checks;
    private final Revisions revisions = new Revisions();
    private final AtomicReference<EventAdmin> eventAdmin = new AtomicReference<>();
    private final AtomicLong nextCheck;
    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicBoolean active = new AtomicBoolean();

    /** Guards reading the file and replacing {@link #current}; never taken by policyFor. */
    private final Object lock = new Object();
    private String home;
    private volatile Snapshot current = new Snapshot(null, NodeAllowlists.NOTHING, FileStamp.MISSING, revisions.next(), false);

    /** The DS constructor: the system's nano clock; checks run on the common pool. */
    public FileSandboxPolicy() {
        this(System::nanoTime, ForkJoinPool.commonPool());
    }

    FileSandboxPolicy(LongSupplier nanoClock, Executor checks) {
        this.nanoClock = nanoClock;
        this.checks = checks;
        this.nextCheck = new AtomicLong(nanoClock.getAsLong() + CHECK_INTERVAL_NANOS);
    }

    @Activate
    void activate(BundleContext context, FilePolicyConfiguration config) {
        start(context.getProperty(HOME_PROPERTY), config);
    }

    /** Activation with meshhub's home directory (null: the working directory). */
    void start(String meshhubHome, FilePolicyConfiguration config) {
        synchronized (lock) {
            home = meshhubHome;
            load(resolve(config));
            active.set(true);
        }
        LOG.info("sandbox policy {} active (service.ranking {}): every node STRICT, allowlists from {}",
                NAME, RANKING, current.file());
    }

    @Modified
    void modified(FilePolicyConfiguration config) {
        boolean changed;
        synchronized (lock) {
            changed = load(resolve(config));
        }
        if (changed) {
            post();
        }
    }

    @Deactivate
    void deactivate() {
        active.set(false);
    }

    @Reference(name = "eventAdmin", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindEventAdmin")
    void bindEventAdmin(EventAdmin events) {
        eventAdmin.set(events);
    }

    void unbindEventAdmin(EventAdmin events) {
        eventAdmin.compareAndSet(events, null);
    }

    @Override
    public NodePolicy policyFor(String nodeId, String nodeName) {
        checkSoon();
        Snapshot snapshot = current;
        return new NodePolicy(nodeId, SandboxMode.STRICT, snapshot.allowlists().forNode(nodeId, nodeName),
                snapshot.revision(), NAME);
    }

    /** At most once per interval, and never twice at once, hands a check of the file to the pool. */
    private void checkSoon() {
        long now = nanoClock.getAsLong();
        long due = nextCheck.get();
        if (now - due < 0 || !active.get() || !nextCheck.compareAndSet(due, now + CHECK_INTERVAL_NANOS)) {
            return;
        }
        if (!checking.compareAndSet(false, true)) {
            return;
        }
        try {
            checks.execute(() -> {
                try {
                    checkForChange();
                } catch (RuntimeException e) {
                    LOG.warn("checking the allowlist file failed", e);
                } finally {
                    checking.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            checking.set(false);
        }
    }

    /** Reads the file again if its stamp changed; announces a change of its content. */
    void checkForChange() {
        boolean changed;
        synchronized (lock) {
            Snapshot snapshot = current;
            if (snapshot.file() == null || FileStamp.of(snapshot.file()).equals(snapshot.stamp())) {
                return;
            }
            changed = load(snapshot.file());
        }
        if (changed) {
            post();
        }
    }

    private Path resolve(FilePolicyConfiguration config) {
        String configured = config.file() == null ? "" : config.file().trim();
        if (configured.isEmpty()) {
            throw new IllegalArgumentException("file is empty; name the allowlist file (default "
                    + FilePolicyConfiguration.DEFAULT_FILE + ")");
        }
        try {
            Path path = Path.of(configured);
            if (!path.isAbsolute()) {
                Path base = home == null || home.isBlank() ? Path.of("").toAbsolutePath() : Path.of(home);
                path = base.resolve(path);
            }
            return path.toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("file '" + configured + "' is not a valid path: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a file into {@link #current}. Call with {@link #lock} held.
     *
     * @return whether what policyFor answers changed
     */
    private boolean load(Path file) {
        Snapshot before = current;
        boolean sameFile = file.equals(before.file());
        // Stat first: an edit between the stat and the read is caught by the next check.
        FileStamp stamp = FileStamp.of(file);
        NodeAllowlists read;
        try {
            if (stamp.size() > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("it is larger than " + MAX_FILE_BYTES + " bytes");
            }
            read = NodeAllowlists.parse(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException | UncheckedIOException | IllegalArgumentException | SecurityException e) {
            String reason = e instanceof IOException ? e.getClass().getSimpleName() + ": " + e.getMessage() : e.getMessage();
            if (sameFile && before.good()) {
                LOG.warn("cannot read the allowlist file {} ({}); keeping the allowlists read from it before", file, reason);
                current = new Snapshot(file, before.allowlists(), stamp, before.revision(), true);
                return false;
            }
            LOG.warn("cannot read the allowlist file {} ({}); no node may run anything until it can be read", file, reason);
            boolean changed = !before.allowlists().equals(NodeAllowlists.NOTHING);
            current = new Snapshot(file, NodeAllowlists.NOTHING, stamp, changed ? revisions.next() : before.revision(), false);
            return changed;
        }
        boolean changed = !read.equals(before.allowlists());
        current = new Snapshot(file, read, stamp, changed ? revisions.next() : before.revision(), true);
        if (changed || !sameFile || !before.good()) {
            LOG.info("allowlists read from {}: {} node(s){}", file, read.byNode().size(),
                    read.everyone() == null ? ", nothing for any other node" : ", and '*' for every other node");
        }
        return changed;
    }

    private void post() {
        EventAdmin events = eventAdmin.get();
        if (events == null) {
            return;
        }
        try {
            events.postEvent(new Event(TOPIC_CHANGED, Map.of()));
        } catch (RuntimeException e) {
            LOG.warn("could not post {}: {}", TOPIC_CHANGED, e.toString());
        }
    }

    /** The file as last read: its allowlists, its stamp then, and whether they came from that file. */
    private record Snapshot(Path file, NodeAllowlists allowlists, FileStamp stamp, long revision, boolean good) {
    }
}
