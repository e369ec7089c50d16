package dev.meshhub.http.impl;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Dictionary;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.ServerIdentity;

/**
 * Keeps a PKCS#12 copy of the hub's server key and certificate (from its own CA, as on the node port) for
 * Felix HTTP Jetty's HTTPS, so that the HTTP surface can serve beyond loopback with a certificate nodes
 * and meshctl already trust ({@code data/pki/trust.pem}, {@code meshctl ca bundle}). Checked every
 * minute on a thread of its own: when the PKI renews the certificate the file is rewritten (owner-only,
 * replaced in one step) and, if HTTPS is on, Jetty's configuration is touched so that it restarts with it.
 */
@Component(immediate = true, configurationPid = HttpConfiguration.PID, service = {})
public final class HttpsKeystore {

    /** Felix HTTP Jetty's configuration PID. */
    static final String JETTY_PID = "org.apache.felix.http";
    /** The property this component bumps to make Jetty reload a rewritten keystore. */
    static final String REVISION = "meshhub.https.keystore.revision";
    private static final Logger LOG = LoggerFactory.getLogger(HttpsKeystore.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HubPki pki;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile ConfigurationAdmin configurationAdmin;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "meshhub-https-keystore");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Path file;
    private volatile char[] password;
    private String home;
    private String written;

    @Activate
    void activate(BundleContext context, HttpConfiguration config) {
        home = Optional.ofNullable(context.getProperty("meshhub.home")).orElse(System.getProperty("user.dir"));
        configure(config);
        timer.scheduleWithFixedDelay(this::refresh, 0, 60, TimeUnit.SECONDS);
    }

    @Modified
    void configure(HttpConfiguration config) {
        file = Path.of(home).resolve(config.keystore()).toAbsolutePath().normalize();
        password = config.keystorePassword().toCharArray();
        timer.execute(this::refresh);
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    /** Writes the keystore when the server certificate differs from the one last written. */
    synchronized void refresh() {
        HubPki current = pki;
        if (current == null) {
            return;
        }
        try {
            ServerIdentity identity = current.serverIdentity();
            X509Certificate leaf = identity.certificate();
            String fingerprint = leaf.getSerialNumber().toString(16) + "@" + file;
            if (fingerprint.equals(written) && Files.isRegularFile(file)) {
                return;
            }
            write(file, identity, password);
            boolean renewal = written != null;
            written = fingerprint;
            LOG.info("HTTPS keystore {} holds the hub's certificate (serial {}, valid until {})", file, leaf.getSerialNumber().toString(16),
                    leaf.getNotAfter().toInstant());
            if (renewal) {
                reloadJetty(leaf.getSerialNumber().toString(16));
            }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.error("cannot write the HTTPS keystore {}: {}; HTTPS keeps its last certificate", file, e.toString());
        }
    }

    /** A PKCS#12 keystore with the key and its chain under the alias "meshhub", owner-only, replaced in one step. */
    static void write(Path file, ServerIdentity identity, char[] password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("meshhub", identity.key(), password, identity.chain().toArray(new Certificate[0]));
        Files.createDirectories(file.getParent());
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        Path temporary = posix ? Files.createTempFile(file.getParent(), ".keystore", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(file.getParent(), ".keystore", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temporary)) {
                store.store(out, password);
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Touches Jetty's configuration (when HTTPS is on) so that it restarts with the rewritten keystore. */
    private void reloadJetty(String serial) throws IOException {
        ConfigurationAdmin admin = configurationAdmin;
        if (admin == null) {
            return;
        }
        Configuration jetty = admin.getConfiguration(JETTY_PID, "?");
        Dictionary<String, Object> properties = jetty.getProperties();
        if (properties == null || !"true".equalsIgnoreCase(String.valueOf(properties.get("org.apache.felix.https.enable")))) {
            return;
        }
        properties.put(REVISION, serial);
        jetty.update(properties);
        LOG.info("Felix HTTP Jetty restarts with the renewed certificate (HTTP connections reconnect; nodes are not affected)");
    }
}
