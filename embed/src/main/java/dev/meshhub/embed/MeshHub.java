package dev.meshhub.embed;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

import dev.meshhub.runtime.BundleSpec;
import dev.meshhub.runtime.FeaturesRepository;
import dev.meshhub.runtime.LaunchException;
import dev.meshhub.runtime.MavenLayout;
import dev.meshhub.runtime.Provisioning;

/**
 * A meshhub hub inside your own Java application: Apache Felix in-process, provisioned with the same
 * features as the runtime, its services handed to your code.
 *
 * <pre>{@code
 * try (MeshHub hub = MeshHub.builder()
 *         .home(Path.of("/var/lib/myapp/meshhub"))          // etc/ and data/ live here
 *         .systemRepository(Path.of("/opt/meshhub/system"))  // meshhub's bundles, Maven layout
 *         .nodePort(7700)
 *         .start()) {
 *     TaskDispatcher dispatcher = hub.services().get(TaskDispatcher.class);
 *     dispatcher.dispatch("web-1", CommandSpec.argv("uptime"), output -> ...);
 * }
 * }</pre>
 *
 * <p>The {@code dev.meshhub.api} packages are shared: the framework exports your application's copy
 * (this artifact depends on it), so the objects {@link #services()} hands out are the hub's own
 * services, usable with no reflection. Configuration works as in the runtime: {@code home/etc/*.cfg}
 * are watched and apply live; the builder's settings are written into them at every start.
 *
 * <p>{@link #close()} stops the framework and waits for it: the journal shuts Derby down, every
 * server and thread pool ends, every file is closed.
 */
public final class MeshHub implements AutoCloseable {

    /** The features an embedded hub runs by default: all of the runtime's but the console. */
    public static final List<String> DEFAULT_FEATURES = List.of("meshhub-transport", "meshhub-admin", "meshhub-policy",
            "meshhub-scheduler", "meshhub-locks", "meshhub-mirror", "meshhub-task-logs", "meshhub-monitor");

    static final String FEATURES_LOCATION_FORMAT = "mvn:dev.meshhub/features/%s/xml/features";
    private static final String API_LOCATION_PREFIX = "mvn:dev.meshhub/api/";

    private final Framework framework;
    private final Path home;
    private final int nodePort;
    private final int adminPort;
    private final MeshHubServices services;
    private final Duration stopTimeout;

    private MeshHub(Framework framework, Path home, int nodePort, int adminPort, Duration stopTimeout) {
        this.framework = framework;
        this.home = home;
        this.nodePort = nodePort;
        this.adminPort = adminPort;
        this.stopTimeout = stopTimeout;
        this.services = new MeshHubServices(framework.getBundleContext());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The hub's services ({@code dev.meshhub.api}), as the application sees them. */
    public MeshHubServices services() {
        return services;
    }

    /** The port nodes connect to. */
    public int nodePort() {
        return nodePort;
    }

    /** The port of the admin API (meshctl), or -1 without the {@code meshhub-admin} feature. */
    public int adminPort() {
        return adminPort;
    }

    public Path home() {
        return home;
    }

    /** The framework itself, for what the services do not cover (installing your own bundles). */
    public Framework framework() {
        return framework;
    }

    /**
     * Stops the hub: nodes are told it is stopping, tasks in flight end with a diagnostic, the journal
     * closes, and every thread the hub started ends. Waits for the framework to stop.
     *
     * @throws IllegalStateException if the framework did not stop within the builder's stop timeout
     */
    @Override
    public void close() {
        try {
            if ((framework.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                framework.stop();
            }
            if (framework.waitForStop(stopTimeout.toMillis()).getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                throw new IllegalStateException("the embedded hub did not stop within " + stopTimeout.toSeconds() + " s");
            }
        } catch (BundleException e) {
            throw new IllegalStateException("cannot stop the embedded hub: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the embedded hub stopped", e);
        }
    }

    /** How an embedded hub is made; {@link #home} is the only setting required. */
    public static final class Builder {
        private Path home;
        private Path system;
        private List<String> features = DEFAULT_FEATURES;
        private int nodePort = 7700;
        private String nodeBindAddress = "0.0.0.0";
        private int adminPort = 7701;
        private final Map<String, Map<String, String>> configuration = new LinkedHashMap<>();
        private final Map<String, String> frameworkProperties = new TreeMap<>();
        private Duration startTimeout = Duration.ofMinutes(2);
        private Duration stopTimeout = Duration.ofSeconds(30);

        private Builder() {
        }

        /** The hub's directory: {@code etc/} (configuration, admin token) and {@code data/} go here; made if missing. */
        public Builder home(Path directory) {
            this.home = directory;
            return this;
        }

        /**
         * Where meshhub's bundles come from, in Maven layout: an assembled runtime's {@code system/}
         * or a Maven repository. Default: {@code home/system} if it exists, else
         * {@code ~/.m2/repository} (after {@code ./mvnw install}).
         */
        public Builder systemRepository(Path directory) {
            this.system = directory;
            return this;
        }

        /** The features to run (default {@link #DEFAULT_FEATURES}); dependencies come along. */
        public Builder features(String... names) {
            this.features = List.of(names);
            return this;
        }

        /** The port nodes connect to (0: a free one, chosen at start). */
        public Builder nodePort(int port) {
            this.nodePort = port;
            return this;
        }

        /** The address the node port listens on (default every interface). */
        public Builder nodeBindAddress(String address) {
            this.nodeBindAddress = address;
            return this;
        }

        /** The admin API's port (0: a free one). It listens on loopback unless configured otherwise. */
        public Builder adminPort(int port) {
            this.adminPort = port;
            return this;
        }

        /** Settings of one configuration PID, written into {@code etc/<pid>.cfg} over its defaults. */
        public Builder configure(String pid, Map<String, String> values) {
            configuration.computeIfAbsent(pid, p -> new TreeMap<>()).putAll(values);
            return this;
        }

        /** A property of the OSGi framework. */
        public Builder frameworkProperty(String key, String value) {
            frameworkProperties.put(key, value);
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = timeout;
            return this;
        }

        /**
         * Boots the hub and returns once every bundle has started (services may take a moment more to
         * register: {@link MeshHubServices#await} waits for one).
         *
         * @throws LaunchException naming what is missing or did not start; nothing is left running
         */
        public MeshHub start() throws LaunchException, IOException {
            if (home == null) {
                throw new LaunchException("name the hub's home directory: MeshHub.builder().home(...)");
            }
            Path root = home.toAbsolutePath().normalize();
            Files.createDirectories(root.resolve("etc"));
            Files.createDirectories(root.resolve("data"));
            Path repository = system != null ? system.toAbsolutePath().normalize() : defaultRepository(root);
            String version = ApiPackages.meshhubVersion();
            Path featuresFile = MavenLayout.resolve(repository, String.format(FEATURES_LOCATION_FORMAT, version));
            if (!Files.isRegularFile(featuresFile)) {
                throw new LaunchException("meshhub " + version + "'s features are not in " + repository + " (expected " + featuresFile
                        + "); point systemRepository(...) at an assembled runtime's system/ or a Maven repository holding meshhub");
            }
            FeaturesRepository repo = FeaturesRepository.read(featuresFile);
            List<BundleSpec> bundles = new ArrayList<>();
            for (BundleSpec bundle : repo.resolve(features)) {
                // The API comes from the application's class path, exported by the system bundle.
                if (!bundle.location().startsWith(API_LOCATION_PREFIX)) {
                    bundles.add(bundle);
                }
            }
            int node = nodePort == 0 ? freePort() : nodePort;
            int admin = features.contains("meshhub-admin") ? (adminPort == 0 ? freePort() : adminPort) : -1;
            Map<String, Map<String, String>> settings = new LinkedHashMap<>();
            settings.put("dev.meshhub.transport", Map.of("port", String.valueOf(node), "bindAddress", nodeBindAddress));
            if (admin >= 0) {
                settings.put("dev.meshhub.admin", Map.of("port", String.valueOf(admin)));
            }
            configuration.forEach((pid, values) -> settings.computeIfAbsent(pid, p -> new TreeMap<>()).putAll(values));
            ConfigFiles.write(root.resolve("etc"), repository, repo.configFiles(features), settings);

            Framework framework = newFramework(frameworkProperties(root));
            try {
                framework.init();
                Provisioning.StartFailures failures = new Provisioning.StartFailures();
                framework.getBundleContext().addFrameworkListener(failures);
                framework.start();
                List<Bundle> installed = Provisioning.install(framework.getBundleContext(), bundles, repository);
                Provisioning.raiseStartLevel(framework, 100, startTimeout.toMillis(), () -> false);
                failures.check(installed, bundles);
            } catch (LaunchException | RuntimeException | Error e) {
                stopQuietly(framework);
                throw e;
            } catch (Exception e) {
                stopQuietly(framework);
                throw new LaunchException("the embedded hub did not start: " + Provisioning.describe(e), e);
            }
            return new MeshHub(framework, root, node, admin, stopTimeout);
        }

        private Map<String, String> frameworkProperties(Path root) throws LaunchException {
            Map<String, String> properties = new TreeMap<>();
            properties.put(Constants.FRAMEWORK_STORAGE, root.resolve("data/cache").toString());
            properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
            properties.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc," + ApiPackages.exports());
            properties.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "1");
            properties.put("felix.startlevel.bundle", "80");
            // Resolve on the calling thread: Felix's resolver pool would outlive the framework by a minute.
            properties.put("felix.resolver.parallelism", "1");
            properties.put("felix.fileinstall.dir", root.resolve("etc").toString());
            properties.put("felix.fileinstall.filter", ".*\\.cfg");
            properties.put("felix.fileinstall.poll", "1000");
            properties.put("felix.fileinstall.noInitialDelay", "true");
            properties.put("felix.fileinstall.log.level", "2");
            properties.put("felix.fileinstall.enableConfigSave", "false");
            // As the launcher: no HTTP listener (feature meshhub-http) until etc/org.apache.felix.http.cfg says where.
            properties.put("org.apache.felix.http.enable", "false");
            properties.putAll(frameworkProperties);
            properties.put("meshhub.home", root.toString());
            return properties;
        }

        private static Path defaultRepository(Path root) {
            Path local = root.resolve("system");
            return Files.isDirectory(local) ? local : Path.of(System.getProperty("user.home"), ".m2", "repository");
        }

        private static int freePort() throws IOException {
            try (ServerSocket socket = new ServerSocket(0)) {
                return socket.getLocalPort();
            }
        }

        private static Framework newFramework(Map<String, String> properties) throws LaunchException {
            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, MeshHub.class.getClassLoader()).findFirst()
                    .orElseThrow(() -> new LaunchException("no OSGi framework on the class path (org.apache.felix.framework)"));
            return factory.newFramework(properties);
        }

        private void stopQuietly(Framework framework) {
            try {
                framework.stop();
                framework.waitForStop(stopTimeout.toMillis());
            } catch (BundleException | RuntimeException e) {
                // already failing; the caller gets the original error
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
