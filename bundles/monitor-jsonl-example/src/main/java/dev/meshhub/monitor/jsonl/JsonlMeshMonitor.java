package dev.meshhub.monitor.jsonl;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
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
 * An alternative mesh monitor, to show the monitor is replaceable: each run appends the snapshot as
 * one JSON line to {@code mesh.jsonl} (see {@link MeshJsonlFile}) instead of replacing
 * {@code mesh.json}, keeping a history.
 *
 * <p>Registered with {@code service.ranking} {@value #RANKING}: deployed beside the default monitor,
 * its {@link MeshStatus} is the one the admin API answers from; removed, the default one is back.
 */
@Component(name = JsonlMeshMonitor.NAME, configurationPid = JsonlMonitorConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {ManagementTask.class, MeshStatus.class},
        property = Constants.SERVICE_RANKING + ":Integer=" + JsonlMeshMonitor.RANKING)
@ManagementTask.Schedule(name = "mesh-monitor-jsonl", period = 30)
@Designate(ocd = JsonlMonitorConfiguration.class)
public final class JsonlMeshMonitor implements ManagementTask, MeshStatus {

    /** The component's name. */
    static final String NAME = "dev.meshhub.monitor.jsonl";
    static final int RANKING = 100;

    private static final Logger LOG = LoggerFactory.getLogger(JsonlMeshMonitor.class);

    /** What one configuration gives a run. */
    private record Configured(JsonlSettings settings, SnapshotCollector collector) {
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
    public JsonlMeshMonitor() {
        this(Clock.systemUTC());
    }

    JsonlMeshMonitor(Clock clock) {
        this.clock = clock;
    }

    @Activate
    void activate(BundleContext context, JsonlMonitorConfiguration config, Map<String, Object> properties) {
        start(context.getProperty(StatusDirectory.HOME_PROPERTY), config, properties);
    }

    /**
     * Activation with meshhub's home directory (null: the working directory).
     *
     * @throws IllegalArgumentException if the configuration is invalid; the component does not start
     */
    void start(String meshhubHome, JsonlMonitorConfiguration config, Map<String, ?> properties) {
        JsonlSettings settings;
        synchronized (lifecycle) {
            home = meshhubHome;
            settings = configure(config);
        }
        LOG.info("mesh monitor {} active: appends to {} every {}, rotating past {} bytes", NAME, settings.file(),
                period(properties), settings.maxBytes());
    }

    /** A new configuration; an invalid one throws and the previous one stays in force. */
    @Modified
    void modified(JsonlMonitorConfiguration config, Map<String, Object> properties) {
        JsonlSettings settings;
        synchronized (lifecycle) {
            settings = configure(config);
        }
        LOG.info("mesh monitor {} reconfigured: appends to {} every {}, rotating past {} bytes", NAME,
                settings.file(), period(properties), settings.maxBytes());
    }

    private JsonlSettings configure(JsonlMonitorConfiguration config) {
        JsonlSettings settings = JsonlSettings.resolve(config, home, Path.of("").toAbsolutePath());
        configured = new Configured(settings, new SnapshotCollector(() -> nodeDirectory, () -> taskJournal,
                () -> lockRegistry, clock, settings.journalTimeout()));
        return settings;
    }

    /**
     * Takes a snapshot and appends it. The snapshot is served by {@link #latest()} even if the append
     * fails.
     *
     * @throws InterruptedException if interrupted while waiting for the journal; nothing is written
     * @throws IOException          if the line could not be appended, saying why and what to do
     */
    @Override
    public void run() throws IOException, InterruptedException {
        Configured current = configured;
        if (current == null) {
            throw new IllegalStateException("mesh monitor " + NAME + " is not active");
        }
        MeshSnapshot snapshot = current.collector().collect();
        latest = snapshot;
        LOG.debug("mesh snapshot taken at {}: {} node(s), unavailable {}", snapshot.takenAt(),
                snapshot.nodes() == null ? "?" : snapshot.nodes().size(), snapshot.unavailable());
        JsonlSettings settings = current.settings();
        MeshJsonlFile.append(settings.file(), snapshot, settings.maxBytes());
    }

    @Override
    public Optional<MeshSnapshot> latest() {
        return Optional.ofNullable(latest);
    }

    private static String period(Map<String, ?> properties) {
        Object unit = properties.get(ManagementTask.UNIT);
        return properties.get(ManagementTask.PERIOD) + " " + (unit == null ? "SECONDS" : unit);
    }
}
