package dev.meshhub.journal.impl;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

/**
 * The journal as an OSGi service: a {@link DerbyEnrollmentStore} opened on activation (immediate,
 * so a second hub on the same directory is refused at start) and closed, Derby shut down included,
 * on deactivation, so a bundle update never leaves the database booted by a dead class loader.
 */
@Component(service = EnrollmentStore.class, configurationPid = JournalConfiguration.PID, immediate = true)
@Designate(ocd = JournalConfiguration.class)
public final class EnrollmentStoreComponent implements EnrollmentStore {

    /** Framework property naming meshhub's home directory. */
    static final String HOME_PROPERTY = "meshhub.home";

    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentStoreComponent.class);

    private final Object lifecycle = new Object();
    private String home;
    private JournalSettings settings;
    private volatile DerbyEnrollmentStore store;

    @Activate
    void activate(BundleContext context, JournalConfiguration config) {
        synchronized (lifecycle) {
            home = context.getProperty(HOME_PROPERTY);
            configure(config);
        }
    }

    @Modified
    void modified(JournalConfiguration config) {
        synchronized (lifecycle) {
            configure(config);
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (lifecycle) {
            DerbyEnrollmentStore current = store;
            if (current != null) {
                current.close();
            }
        }
    }

    /**
     * Checks the configuration, then opens a store for it unless the settings are unchanged. An
     * invalid configuration throws before anything is touched, so the running store stays.
     */
    private void configure(JournalConfiguration config) {
        JournalSettings next = JournalSettings.resolve(config.databaseDirectory(), config.dbThreads(),
                config.queueCapacity(), home, Path.of("").toAbsolutePath());
        if (next.equals(settings) && store != null) {
            return;
        }
        DerbyEnrollmentStore previous = store;
        boolean sameDirectory = previous != null && previous.databaseDirectory().equals(next.databaseDirectory());
        if (sameDirectory) {
            // One database, one owner: close before reopening with new pool sizes.
            previous.close();
        }
        DerbyEnrollmentStore opened = new DerbyEnrollmentStore(next.databaseDirectory(), Clock.systemUTC(),
                next.dbThreads(), next.queueCapacity());
        store = opened;
        settings = next;
        if (previous != null && !sameDirectory) {
            previous.close();
        }
        LOG.info("journal configured: {} ({} thread(s), queue of {})",
                next.databaseDirectory(), next.dbThreads(), next.queueCapacity());
    }

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        return store.createInvite(ttl, note);
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline) {
        return store.enroll(inviteToken, requestedName, address, deadline);
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        return store.authenticate(credential);
    }

    @Override
    public List<EnrolledNode> nodes() {
        return store.nodes();
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        return store.find(idOrName);
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        return store.revokeNode(idOrName);
    }
}
