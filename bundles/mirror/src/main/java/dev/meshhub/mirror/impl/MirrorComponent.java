package dev.meshhub.mirror.impl;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

/**
 * The file mirror as a service, and its {@code mirror-cleanup} task: one component, because the
 * cleanup must know which partials are open right now and keep the in-memory usage in step.
 *
 * <p>The enrollment store is optional, dynamic and greedy: without it revoked nodes' mirrors are
 * simply kept until it comes back. A new configuration with the same directory applies its limits at
 * once, open uploads carry on; a new directory closes the open uploads (their partials stay in the old
 * directory) and serves the new one.
 */
@Component(name = MirrorConfiguration.PID, configurationPid = MirrorConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = {MirrorStore.class, ManagementTask.class})
@ManagementTask.Schedule(name = "mirror-cleanup", period = 10, unit = TimeUnit.MINUTES)
@Designate(ocd = MirrorConfiguration.class)
public final class MirrorComponent implements MirrorStore, ManagementTask {

    private static final Logger LOG = LoggerFactory.getLogger(MirrorComponent.class);

    @Reference(name = "enrollmentStore", cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile EnrollmentStore enrollmentStore;

    private final Clock clock;
    private final Object lifecycle = new Object();
    private String home;
    private volatile DiskMirror mirror;

    /** The DS constructor. */
    public MirrorComponent() {
        this(Clock.systemUTC());
    }

    MirrorComponent(Clock clock) {
        this.clock = clock;
    }

    @Activate
    void activate(BundleContext context, MirrorConfiguration config) {
        start(context.getProperty(MirrorSettings.HOME_PROPERTY), config);
    }

    /**
     * Activation with meshhub's home directory (null: the working directory).
     *
     * @throws IllegalArgumentException if the configuration is invalid; the component does not start
     */
    void start(String meshhubHome, MirrorConfiguration config) {
        MirrorSettings settings;
        synchronized (lifecycle) {
            home = meshhubHome;
            settings = resolve(config);
            mirror = new DiskMirror(settings, clock);
        }
        LOG.info("file mirror active: {}", describe(settings));
    }

    /** A new configuration; an invalid one throws and the previous one stays in force. */
    @Modified
    void modified(MirrorConfiguration config) {
        MirrorSettings settings;
        DiskMirror previous;
        synchronized (lifecycle) {
            settings = resolve(config);
            previous = mirror;
            if (previous != null && previous.root().equals(settings.root())) {
                previous.reconfigure(settings);
                previous = null;
            } else {
                mirror = new DiskMirror(settings, clock);
            }
        }
        if (previous != null) {
            previous.close();
            LOG.info("file mirror moved from {}; uploads open there were closed, their partials stay there",
                    previous.root());
        }
        LOG.info("file mirror reconfigured: {}", describe(settings));
    }

    @Deactivate
    void deactivate() {
        DiskMirror stopping;
        synchronized (lifecycle) {
            stopping = mirror;
            mirror = null;
        }
        if (stopping != null) {
            int open = stopping.openUploads();
            stopping.close();
            LOG.info("file mirror stopped: {} open upload(s) closed, kept for resume", open);
        }
    }

    private MirrorSettings resolve(MirrorConfiguration config) {
        return MirrorSettings.resolve(config, home, Path.of("").toAbsolutePath());
    }

    private static String describe(MirrorSettings settings) {
        return settings.root() + ", quota " + ByteSizes.format(settings.quotaBytes()) + " per node, disk reserve "
                + ByteSizes.format(settings.reserveBytes()) + ", partials kept " + settings.partialTtl().toMinutes()
                + " min, revoked nodes' mirrors " + (settings.removeRevokedMirrors() ? "removed" : "kept");
    }

    private DiskMirror mirror() {
        DiskMirror current = mirror;
        if (current == null) {
            throw new IllegalStateException("file mirror " + MirrorConfiguration.PID + " is not active");
        }
        return current;
    }

    @Override
    public String checkPath(String path) throws MirrorException {
        return MirrorPaths.checkPath(path);
    }

    @Override
    public Path nodeRoot(String nodeId) {
        return mirror().nodeRoot(nodeId);
    }

    @Override
    public Path existingFile(String nodeId, String path) throws MirrorException {
        return mirror().existingFile(nodeId, path);
    }

    @Override
    public MirrorUpload openUpload(String nodeId, String path, long expectedSize) throws MirrorException {
        return mirror().openUpload(nodeId, path, expectedSize);
    }

    @Override
    public MirrorUsage usage(String nodeId) {
        return mirror().usage(nodeId);
    }

    /** One cleanup sweep; see {@link DiskMirror#cleanup}. */
    @Override
    public void run() {
        DiskMirror current = mirror();
        List<EnrolledNode> enrolled = null;
        EnrollmentStore enrollment = enrollmentStore;
        if (!current.settings().removeRevokedMirrors()) {
            LOG.debug("mirror cleanup: removeRevokedMirrors is off, revoked nodes' mirrors are kept");
        } else if (enrollment == null) {
            LOG.debug("mirror cleanup: no enrollment store, revoked nodes' mirrors are left for a later run");
        } else {
            enrolled = enrollment.nodes();
        }
        MirrorCleanup.Report report = current.cleanup(enrolled);
        LOG.debug("mirror cleanup done: {} stale partial(s), {}; {} revoked node mirror(s), {}; {} failure(s)",
                report.stalePartials(), ByteSizes.format(report.stalePartialBytes()), report.revokedNodes().size(),
                ByteSizes.format(report.revokedBytes()), report.failures());
    }

    /** The mirror serving now; for tests. */
    DiskMirror current() {
        return mirror();
    }
}
