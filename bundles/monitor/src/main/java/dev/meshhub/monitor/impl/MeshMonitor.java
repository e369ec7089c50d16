package dev.meshhub.monitor.impl;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.monitor.snapshot.SnapshotCollector;
import dev.meshhub.monitor.snapshot.StatusDirectory;

/**
 * The default mesh monitor. Each run, on the management scheduler's thread, takes a
 * {@link MeshSnapshot}, keeps it for {@link #latest()}, then replaces {@code mesh.json} in the status
 * directory atomically (see {@link MeshJsonFile}).
 *
 * <p>The transport, the journal and the lock registry are optional, dynamic and greedy: while one
 * is missing the snapshot says so and the monitor keeps running; a replacement is picked up at once.
 * A failed write is thrown to the scheduler, which logs and counts it; the snapshot is still served
 * from memory, and the next run tries the disk again.
 */
@Component(name = MeshMonitor.NAME, configurationPid = MonitorConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {ManagementTask.class, MeshStatus.class})
@ManagementTask.Schedule(name = "mesh-monitor", period = 30)
@Designate(ocd = MonitorConfiguration.class)
public final class MeshMonitor implements ManagementTask, MeshStatus {

    /** The component's name. */
    static final String NAME = "dev.meshhub.monitor";

    private static final Logger LOG = LoggerFactory.getLogger(MeshMonitor.class);

    /** What one configuration gives a run. */
    private record Configured(MonitorSettings settings, SnapshotCollector collector, AtomicBoolean tempsChecked) {
    }

    @Reference(name = "nodeDirectory", cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile NodeDirectory nodeDirectory;

    @Reference(name = "taskJournal", cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TaskJournal taskJournal;

    @Reference(name = "lockRegistry", cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LockRegistry lockRegistry;

    private final Clock clock;
    private final Object lifecycle = new Object();
    private String home;
    private volatile Configured configured;
    private volatile MeshSnapshot latest;

    /** The DS constructor: snapshots are stamped with the system clock, in UTC. */
    public MeshMonitor() {
        this(Clock.systemUTC());
    }

    MeshMonitor(Clock clock) {
        this.clock = clock;
    }

    @Activate
    void activate(BundleContext context, MonitorConfiguration config, Map<String, Object> properties) {
        start(context.getProperty(StatusDirectory.HOME_PROPERTY), config, properties);
    }

    /**
     * Activation with meshhub's home directory (null: the working directory).
     *
     * @throws IllegalArgumentException if the configuration is invalid; the component does not start
     */
    void start(String meshhubHome, MonitorConfiguration config, Map<String, ?> properties) {
        MonitorSettings settings;
        synchronized (lifecycle) {
            home = meshhubHome;
            settings = configure(config);
        }
        LOG.info("mesh monitor active: writes {} every {}, waits at most {} ms for the journal",
                settings.statusFile(), period(properties), settings.journalTimeout().toMillis());
    }

    /** A new configuration; an invalid one throws and the previous one stays in force. */
    @Modified
    void modified(MonitorConfiguration config, Map<String, Object> properties) {
        MonitorSettings settings;
        synchronized (lifecycle) {
            settings = configure(config);
        }
        LOG.info("mesh monitor reconfigured: writes {} every {}, waits at most {} ms for the journal",
                settings.statusFile(), period(properties), settings.journalTimeout().toMillis());
    }

    private MonitorSettings configure(MonitorConfiguration config) {
        MonitorSettings settings = MonitorSettings.resolve(config, home, Path.of("").toAbsolutePath());
        SnapshotCollector collector = new SnapshotCollector(() -> nodeDirectory, () -> taskJournal,
                () -> lockRegistry, clock, settings.journalTimeout());
        configured = new Configured(settings, collector, new AtomicBoolean());
        return settings;
    }

    /**
     * Takes a snapshot and writes it. The snapshot is served by {@link #latest()} even if the write
     * fails.
     *
     * @throws InterruptedException if interrupted while waiting for the journal; nothing is written
     * @throws IOException          if {@code mesh.json} could not be replaced, saying why and what to do
     */
    @Override
    public void run() throws IOException, InterruptedException {
        Configured current = configured;
        if (current == null) {
            throw new IllegalStateException("mesh monitor " + NAME + " is not active");
        }
        MeshSnapshot snapshot = current.collector().collect();
        latest = snapshot;
        LOG.debug("mesh snapshot taken at {}: {} node(s), tasks {}, journal backlog {}, locks {}, unavailable {}",
                snapshot.takenAt(), snapshot.nodes() == null ? "?" : snapshot.nodes().size(),
                snapshot.tasksByState(), snapshot.journalBacklog(), snapshot.locks(), snapshot.unavailable());
        Path file = current.settings().statusFile();
        if (current.tempsChecked().compareAndSet(false, true)) {
            // Once per configuration: a crash between writing and renaming leaves a temporary file.
            MeshJsonFile.deleteStaleTemps(file.getParent());
        }
        MeshJsonFile.replace(file, snapshot);
    }

    @Override
    public Optional<MeshSnapshot> latest() {
        return Optional.ofNullable(latest);
    }

    /** A snapshot taken now on the caller's thread (kept as the latest; {@code mesh.json} waits for the next run). */
    @Override
    public Optional<MeshSnapshot> fresh() throws InterruptedException {
        Configured current = configured;
        if (current == null) {
            return latest();
        }
        MeshSnapshot snapshot = current.collector().collect();
        latest = snapshot;
        return Optional.of(snapshot);
    }

    private static String period(Map<String, ?> properties) {
        Object unit = properties.get(ManagementTask.UNIT);
        return properties.get(ManagementTask.PERIOD) + " " + (unit == null ? "SECONDS" : unit);
    }
}
