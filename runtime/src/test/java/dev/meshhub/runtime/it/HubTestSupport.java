package dev.meshhub.runtime.it;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.frameworkStartLevel;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackage;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;

import org.ops4j.pax.exam.Option;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import dev.meshhub.runtime.BundleSpec;
import dev.meshhub.runtime.FeaturesRepository;
import dev.meshhub.runtime.MavenLayout;

/**
 * The one place that says how an in-container test boots the hub: the real bundles the features
 * file names, taken from the assembled runtime's system/ directory, in a fresh home directory with
 * its own ports and short heartbeat settings.
 */
final class HubTestSupport {

    /** Framework property carrying the node port chosen for the test. */
    static final String NODE_PORT = "it.nodePort";
    /** Framework property carrying the admin port chosen for the test. */
    static final String ADMIN_PORT = "it.adminPort";
    /** Framework property carrying the HTTP port chosen for the test. */
    static final String HTTP_PORT = "it.httpPort";

    static final int HEARTBEAT_INTERVAL_MS = 200;
    static final int HEARTBEAT_TIMEOUT_MS = 1000;
    static final int HANDSHAKE_TIMEOUT_MS = 1000;

    private HubTestSupport() {
    }

    /** The features repository the launcher boots from, as its mvn: location inside system/. */
    static Path featuresFile(Path runtime) {
        String location = System.getProperty("meshhub.features.location");
        if (location == null) {
            throw new IllegalStateException("system property meshhub.features.location is not set; run the ITs through Maven (failsafe)");
        }
        return MavenLayout.resolve(runtime.resolve("system"), location);
    }

    /** The built example policy bundle (not part of any default feature). */
    static Path examplePolicyBundle() {
        String jar = System.getProperty("meshhub.example.policy.jar");
        if (jar == null) {
            throw new IllegalStateException("system property meshhub.example.policy.jar is not set; run the ITs through Maven (failsafe)");
        }
        return Path.of(jar);
    }

    /** The built example monitor bundle (appends JSON lines; not part of any default feature). */
    static Path exampleMonitorBundle() {
        String jar = System.getProperty("meshhub.example.monitor.jar");
        if (jar == null) {
            throw new IllegalStateException("system property meshhub.example.monitor.jar is not set; run the ITs through Maven (failsafe)");
        }
        return Path.of(jar);
    }

    static Path runtimeDirectory() {
        return Path.of(System.getProperty("meshhub.runtime.dir", "target/meshhub")).toAbsolutePath();
    }

    /** The options of a hub booted from the given features, plus any test-specific transport settings. */
    static Option[] hubOptions(String testName, Map<String, String> transportOverrides, String... features) {
        try {
            Path home = Files.createDirectories(Path.of("target/it-homes").toAbsolutePath())
                    .resolve(testName + "-" + System.nanoTime());
            Files.createDirectories(home.resolve("etc"));
            Files.createDirectories(home.resolve("data"));
            int nodePort = freePort();
            int adminPort = freePort();
            Map<String, String> transport = new TreeMap<>(Map.of(
                    "port", String.valueOf(nodePort),
                    "bindAddress", "127.0.0.1",
                    "heartbeatIntervalMs", String.valueOf(HEARTBEAT_INTERVAL_MS),
                    "heartbeatTimeoutMs", String.valueOf(HEARTBEAT_TIMEOUT_MS),
                    "handshakeTimeoutMs", String.valueOf(HANDSHAKE_TIMEOUT_MS),
                    "connectionHandshakeTimeoutSeconds", "1",
                    "enrollmentFailuresPerMinute", "1000"));
            transport.putAll(transportOverrides);
            writeCfg(home.resolve("etc/dev.meshhub.transport.cfg"), transport);
            writeCfg(home.resolve("etc/dev.meshhub.admin.cfg"), Map.of("port", String.valueOf(adminPort)));
            int httpPort = freePort();
            writeCfg(home.resolve("etc/org.apache.felix.http.cfg"), Map.of("org.apache.felix.http.enable", "true",
                    "org.apache.felix.http.host", "127.0.0.1", "org.osgi.service.http.port", String.valueOf(httpPort)));
            writeCfg(home.resolve("etc/dev.meshhub.journal.cfg"), Map.of("databaseDirectory", "data/journal"));

            List<Option> options = new ArrayList<>(List.of(
                    cleanCaches(),
                    junitBundles(),
                    frameworkStartLevel(100),
                    frameworkProperty("meshhub.home").value(home.toString()),
                    frameworkProperty(NODE_PORT).value(String.valueOf(nodePort)),
                    frameworkProperty(ADMIN_PORT).value(String.valueOf(adminPort)),
                    frameworkProperty(HTTP_PORT).value(String.valueOf(httpPort)),
                    // As in the launcher: no HTTP listener until etc/org.apache.felix.http.cfg is read.
                    frameworkProperty("org.apache.felix.http.enable").value("false"),
                    frameworkProperty("felix.fileinstall.dir").value(home.resolve("etc").toString()),
                    frameworkProperty("felix.fileinstall.filter").value(".*\\.cfg"),
                    frameworkProperty("felix.fileinstall.poll").value("100"),
                    frameworkProperty("felix.fileinstall.noInitialDelay").value("true"),
                    // As in the launcher: FileInstall writing configuration back raced its own watcher
                    // and emptied .cfg files (seen here as a transport on the default ports).
                    frameworkProperty("felix.fileinstall.enableConfigSave").value("false"),
                    frameworkProperty("gosh.args").value("--nointeractive"),
                    // Appended to what pax-exam exports from the system bundle (its own API); protobuf and
                    // Netty use sun.misc reflectively, as in the launcher.
                    systemPackage("sun.misc"),
                    systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("INFO"),
                    systemProperty("org.ops4j.pax.url.mvn.localRepository").value(localRepository()),
                    systemProperty("org.ops4j.pax.url.mvn.repositories").value(""),
                    systemProperty("org.ops4j.pax.url.mvn.offline").value("true"),
                    systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("info"),
                    systemProperty("org.slf4j.simpleLogger.showDateTime").value("true")));
            Path runtime = runtimeDirectory();
            FeaturesRepository repository = FeaturesRepository.read(featuresFile(runtime));
            for (BundleSpec spec : repository.resolve(List.of(features))) {
                Path jar = MavenLayout.resolve(runtime.resolve("system"), spec.location());
                if (!Files.isRegularFile(jar)) {
                    throw new IllegalStateException("bundle " + spec.location() + " is not in " + jar + "; run ./mvnw install first");
                }
                options.add(bundle(jar.toUri().toString())
                        .startLevel(spec.hasStartLevel() ? spec.startLevel() : DEFAULT_START_LEVEL)
                        .start(spec.start() && !isFragment(jar)));
            }
            return options.toArray(new Option[0]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare the test hub's home", e);
        }
    }

    static final int DEFAULT_START_LEVEL = 80;

    /**
     * A configuration property of a component as SCR holds it now (null if the component or the key
     * is not there): SCR updates it once the component has been handed the configuration, whether the
     * component applied it or refused it.
     */
    static Object componentProperty(BundleContext context, String componentName, String key) {
        ServiceReference<ServiceComponentRuntime> reference = context.getServiceReference(ServiceComponentRuntime.class);
        if (reference == null) {
            return null;
        }
        ServiceComponentRuntime scr = context.getService(reference);
        try {
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
                if (description.name.equals(componentName)) {
                    for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                        return configuration.properties.get(key);
                    }
                }
            }
            return null;
        } finally {
            context.ungetService(reference);
        }
    }

    private static boolean isFragment(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue("Fragment-Host") != null;
        }
    }

    private static String localRepository() {
        return System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository");
    }

    private static void writeCfg(Path file, Map<String, String> values) throws IOException {
        StringBuilder text = new StringBuilder();
        values.forEach((key, value) -> text.append(key).append(" = ").append(value).append('\n'));
        Files.writeString(file, text);
    }

    /**
     * Replaces a watched configuration file atomically: FileInstall polls etc/, and a file caught
     * between truncation and write reads as empty, which would hand every component its defaults
     * (and move the ports) for a moment. The temporary name ends in .tmp, which FileInstall ignores.
     */
    static void writeConfig(java.nio.file.Path file, CharSequence text) throws IOException {
        java.nio.file.Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        java.nio.file.Files.writeString(temporary, text);
        java.nio.file.Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
