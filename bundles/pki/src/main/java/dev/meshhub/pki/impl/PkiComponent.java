package dev.meshhub.pki.impl;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.IssuedCertificate;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.api.pki.ServerIdentity;

/**
 * The hub's PKI as a service, and its {@code server-certificate-renewal} task (hourly: a new server
 * certificate at two thirds of the current one's lifetime, taken by new TLS connections at once).
 *
 * <p>Activation fails, and the service is not offered, when the PKI directory holds a broken or partial
 * CA: the error names the file. The node port needs this service, so it does not open either.
 */
@Component(name = PkiConfiguration.PID, configurationPid = PkiConfiguration.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true, service = {HubPki.class, ManagementTask.class})
@ManagementTask.Schedule(name = "server-certificate-renewal", period = 1, unit = TimeUnit.HOURS)
@Designate(ocd = PkiConfiguration.class)
public final class PkiComponent implements HubPki, ManagementTask {

    static final String HOME_PROPERTY = "meshhub.home";
    private static final Logger LOG = LoggerFactory.getLogger(PkiComponent.class);

    private final Clock clock;
    private final Object lifecycle = new Object();
    private String home;
    private volatile HubCa ca;

    /** The DS constructor. */
    public PkiComponent() {
        this(Clock.systemUTC());
    }

    PkiComponent(Clock clock) {
        this.clock = clock;
    }

    @Activate
    void activate(BundleContext context, PkiConfiguration config) throws PkiException {
        start(context.getProperty(HOME_PROPERTY), config);
    }

    /**
     * Opens (or creates) the CA.
     *
     * @throws PkiException naming the file when the directory holds a broken CA; the component does not start
     */
    void start(String meshhubHome, PkiConfiguration config) throws PkiException {
        synchronized (lifecycle) {
            home = meshhubHome;
            try {
                ca = HubCa.open(settings(config), clock);
            } catch (PkiException | IllegalArgumentException e) {
                LOG.error("the hub's PKI cannot start, so the node port stays closed: {}", e.getMessage());
                throw e;
            }
        }
    }

    @Modified
    void modified(PkiConfiguration config) throws PkiException {
        synchronized (lifecycle) {
            HubCa.Settings next;
            try {
                next = settings(config);
            } catch (IllegalArgumentException e) {
                LOG.error("PKI configuration refused, the running one stays: {}", e.getMessage());
                return;
            }
            if (next.directory().equals(ca.directory())) {
                ca.reconfigure(next);
            } else {
                ca = HubCa.open(next, clock);
            }
        }
    }

    private HubCa.Settings settings(PkiConfiguration config) {
        Path base = Path.of("").toAbsolutePath();
        Path directory;
        try {
            Path root = home == null || home.isBlank() ? base : base.resolve(home.strip());
            directory = root.resolve(config.directory().strip()).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(PkiConfiguration.PID + ": directory is not a valid path: " + e.getMessage());
        }
        int serverDays = config.serverCertificateDays();
        int nodeDays = config.nodeCertificateDays();
        if (serverDays < 2 || serverDays > 397 || nodeDays < 1 || nodeDays > 397) {
            throw new IllegalArgumentException(PkiConfiguration.PID + ": serverCertificateDays must be 2 to 397 and"
                    + " nodeCertificateDays 1 to 397; got " + serverDays + " and " + nodeDays);
        }
        int graceHours = config.caRetireGraceHours();
        if (graceHours < 0 || graceHours > 397 * 24) {
            throw new IllegalArgumentException(PkiConfiguration.PID + ": caRetireGraceHours must be 0 (the node certificate"
                    + " lifetime) to " + 397 * 24 + "; got " + graceHours);
        }
        String[] names = config.advertisedNames();
        return new HubCa.Settings(directory, ServerNames.of(names == null ? List.of() : Arrays.asList(names)),
                Duration.ofDays(serverDays), Duration.ofDays(nodeDays), Duration.ofHours(graceHours));
    }

    @Override
    public void run() throws Exception {
        ca.renewServerIfDue();
    }

    @Override
    public String caPin() {
        return ca.pin();
    }

    @Override
    public List<X509Certificate> trustBundle() {
        return ca.trustBundle();
    }

    @Override
    public ServerIdentity serverIdentity() {
        return ca.server();
    }

    @Override
    public void checkNodeCsr(byte[] csr) throws PkiException {
        CsrCheck.publicKey(csr, null);
    }

    @Override
    public IssuedCertificate issueNodeCertificate(String nodeId, String nodeName, byte[] csr) throws PkiException {
        return ca.issue(nodeId, nodeName, csr);
    }

    @Override
    public Optional<String> nodeIdOf(X509Certificate certificate) {
        return HubCa.nodeIdOf(certificate);
    }

    @Override
    public Optional<CaRotation> rotation() {
        return ca.rotation();
    }

    @Override
    public CaRotation rotateCa() throws PkiException {
        String old = ca.pin();
        CaRotation rotation = ca.rotate();
        audit("ca.rotate", rotation.newCaPin(), "old CA " + old + " serves until it is retired, at the latest " + rotation.retireBy());
        return rotation;
    }

    @Override
    public boolean retireOldCa() throws PkiException {
        String old = ca.pin();
        boolean retired = ca.retire();
        if (retired) {
            audit("ca.retire", old, "new CA " + ca.pin() + " serves and issues alone");
        }
        return retired;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile AuditLog auditLog;

    private void audit(String action, String subject, String detail) {
        AuditLog log = auditLog;
        if (log == null) {
            LOG.warn("no audit log to record {} {} ({})", action, subject, detail);
            return;
        }
        log.record("hub", action, subject, detail).whenComplete((done, failure) -> {
            if (failure != null) {
                LOG.warn("could not record {} {} in the audit trail: {}", action, subject, failure.toString());
            }
        });
    }
}
