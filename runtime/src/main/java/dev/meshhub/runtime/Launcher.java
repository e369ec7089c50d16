package dev.meshhub.runtime;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Starts the hub: an embedded Apache Felix provisioned with the boot features from {@code system/}.
 *
 * <p>The home directory is {@code -Dmeshhub.home} (set by {@code bin/meshhub}), otherwise the
 * directory two levels above this jar ({@code lib/boot/..}). The launcher sets
 * {@code etc/system.properties} as system properties, reads {@code etc/meshhub.properties}, locks
 * {@code data/hub.lock}, starts Felix with a cache in {@code data/cache} that is wiped on every start
 * (everything is installed again from {@code system/}, so a home can be moved or copied), installs the
 * boot features' bundles, raises the start level and waits until the framework stops.
 *
 * <p>Exit status: 0 after a clean stop (SIGTERM, SIGINT, {@code stop 0} or {@code exit} in the shell),
 * 1 when the hub cannot start, with a one-line reason on stderr.
 */
public final class Launcher {

    static final String HOME_PROPERTY = "meshhub.home";

    private static final long STOP_TIMEOUT_MS = TimeUnit.SECONDS.toMillis(30);
    private static final long START_LEVEL_TIMEOUT_MS = TimeUnit.MINUTES.toMillis(5);
    private static final String GOSH_ARGS = "gosh.args";
    static final String CDS_ARCHIVE_PROPERTY = "meshhub.cds.archive";
    private static final String NO_INTERACTIVE = "--nointeractive";

    private final Path home;
    private volatile Framework framework;
    private volatile boolean stopRequested;

    Launcher(Path home) {
        this.home = home;
    }

    /** Runs the hub until it stops; see the class comment for arguments (none) and exit status. */
    public static void main(String[] args) {
        int status;
        Launcher launcher = null;
        try {
            if (args.length > 0) {
                throw new LaunchException("unexpected argument '" + args[0]
                        + "': the hub takes no arguments (it is configured in etc/)");
            }
            launcher = new Launcher(findHome());
            status = launcher.run();
        } catch (LaunchException e) {
            System.err.println("meshhub: " + e.getMessage());
            status = 1;
        } catch (Throwable t) {
            System.err.println("meshhub: failed to start: " + Provisioning.describe(t));
            status = 1;
        } finally {
            if (launcher != null) {
                launcher.stopFramework();
            }
        }
        if (status == 0) {
            markClassArchiveComplete();
        }
        // Felix's threads are not daemons: without exit() the JVM could outlive a failed start.
        System.exit(status);
    }

    /**
     * bin/meshhub asks a run without a class-data archive to write one when the JVM exits ({@code
     * -XX:ArchiveClassesAtExit}, its path in {@value #CDS_ARCHIVE_PROPERTY}). A run that started the hub and stopped
     * cleanly says so beside it, so that the next start uses only an archive of a whole hub, never one of a start
     * that was refused (another hub holding the lock, a bad configuration).
     */
    private static void markClassArchiveComplete() {
        String archive = System.getProperty(CDS_ARCHIVE_PROPERTY);
        if (archive == null || archive.isBlank()) {
            return;
        }
        try {
            Files.writeString(Path.of(archive + ".complete"), "written when the hub that made " + archive + " stopped\n");
        } catch (IOException | RuntimeException e) {
            System.err.println("meshhub: no class-data archive for the next start: " + e);
        }
    }

    /** {@code -Dmeshhub.home}, else {@code lib/boot/..} of this jar; also published as that system property. */
    static Path findHome() throws LaunchException {
        String configured = System.getProperty(HOME_PROPERTY);
        Path home;
        if (configured != null && !configured.isBlank()) {
            home = Path.of(configured);
        } else {
            home = homeOfJar();
        }
        home = home.toAbsolutePath().normalize();
        if (!Files.isRegularFile(home.resolve(LauncherSettings.LAUNCHER_FILE))) {
            throw new LaunchException(home + " is not a meshhub home: " + LauncherSettings.LAUNCHER_FILE
                    + " is missing (set -D" + HOME_PROPERTY + " to the hub's directory)");
        }
        System.setProperty(HOME_PROPERTY, home.toString());
        return home;
    }

    private static Path homeOfJar() throws LaunchException {
        CodeSource source = Launcher.class.getProtectionDomain().getCodeSource();
        try {
            Path jar = source == null ? null : Path.of(source.getLocation().toURI());
            if (jar != null && Files.isRegularFile(jar) && jar.getParent() != null
                    && jar.getParent().getParent() != null && jar.getParent().getParent().getParent() != null) {
                return jar.getParent().getParent().getParent();
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            // fall through: not loaded from a jar in lib/boot
        }
        throw new LaunchException("cannot tell the hub's home directory: set -D" + HOME_PROPERTY);
    }

    /** Starts the hub and returns the exit status once the framework has stopped. */
    int run() throws Exception {
        applySystemProperties(home);
        LauncherSettings settings = LauncherSettings.read(home, Placeholders.systemLookup());
        try (HubLock lock = HubLock.acquire(home)) {
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(this::stopFramework, "meshhub-shutdown"));
                handleStopSignals();
                long startedAt = ManagementFactory.getRuntimeMXBean().getStartTime();
                Framework restart = null;
                while (true) {
                    FrameworkEvent stopped = launch(settings, startedAt, restart);
                    int type = stopped.getType();
                    if (!stopRequested && (type == FrameworkEvent.STOPPED_UPDATE
                            || type == FrameworkEvent.STOPPED_SYSTEM_REFRESHED)) {
                        // "update 0": the same framework starts again with the bundles it has (it keeps its cache).
                        System.out.println("meshhub: the framework was updated; starting it again");
                        startedAt = System.currentTimeMillis();
                        restart = framework;
                        continue;
                    }
                    if (type == FrameworkEvent.ERROR) {
                        System.err.println("meshhub: the framework stopped with an error: " + Provisioning.describe(stopped.getThrowable()));
                        return 1;
                    }
                    return 0;
                }
            } finally {
                stopFramework(); // before the lock goes
            }
        }
    }

    /**
     * Sets {@code etc/system.properties} as system properties. A property already set (a {@code -D}
     * on the command line) is kept, and the file's references to it see that value.
     */
    static void applySystemProperties(Path home) throws IOException {
        Path file = home.resolve(LauncherSettings.SYSTEM_PROPERTIES_FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        Map<String, String> fromFile = LauncherSettings.load(file);
        fromFile.keySet().removeIf(key -> System.getProperty(key) != null);
        Placeholders.substitute(fromFile, Placeholders.systemLookup()).forEach(System::setProperty);
    }

    /**
     * One life of the framework: provision, start, then wait until it stops.
     *
     * @param restart the framework to start again after an update, or null for a new one
     */
    private FrameworkEvent launch(LauncherSettings settings, long startedAt, Framework restart) throws Exception {
        List<BundleSpec> bundles = bootBundles(settings);
        Framework fw = restart;
        if (fw == null) {
            Map<String, String> properties = frameworkProperties(home, settings.frameworkProperties(),
                    System.console() != null);
            FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, Launcher.class.getClassLoader())
                    .findFirst()
                    .orElseThrow(() -> new LaunchException("failed to start: no OSGi framework in lib/boot"));
            fw = factory.newFramework(properties);
        }
        framework = fw;
        if (stopRequested) { // a signal arrived before there was a framework to stop
            return new FrameworkEvent(FrameworkEvent.STOPPED, fw, null);
        }
        try {
            fw.init();
            Provisioning.StartFailures failures = new Provisioning.StartFailures();
            fw.getBundleContext().addFrameworkListener(failures);
            fw.start();
            List<Bundle> installed = Provisioning.install(fw.getBundleContext(), bundles, settings.systemDirectory());
            Provisioning.raiseStartLevel(fw, settings.frameworkStartLevel(), START_LEVEL_TIMEOUT_MS, () -> stopRequested);
            failures.check(installed, bundles);
            System.out.println("meshhub started in " + (System.currentTimeMillis() - startedAt) + " ms ("
                    + installed.size() + " bundles)");
        } catch (Exception | Error e) {
            boolean requested = stopRequested;
            stopFramework();
            if (requested) {
                return new FrameworkEvent(FrameworkEvent.STOPPED, fw, null);
            }
            if (e instanceof LaunchException) {
                throw e;
            }
            throw new LaunchException("failed to start: " + Provisioning.describe(e), e);
        }
        return fw.waitForStop(0);
    }

    /** The boot features' bundles, after checking that every one of them is in system/. */
    static List<BundleSpec> bootBundles(LauncherSettings settings) throws IOException, LaunchException {
        Path file = settings.featuresRepositoryFile();
        if (!Files.isRegularFile(file)) {
            throw new LaunchException("failed to start: features repository " + settings.featuresRepository()
                    + " not found at " + file);
        }
        List<BundleSpec> bundles;
        try {
            bundles = FeaturesRepository.read(file).resolve(settings.bootFeatures());
        } catch (IllegalArgumentException e) {
            throw new LaunchException("failed to start: " + e.getMessage(), e);
        }
        List<String> missing = missingBundles(settings.systemDirectory(), bundles);
        if (!missing.isEmpty()) {
            throw new LaunchException("failed to start: " + missing.size() + " bundle(s) missing from "
                    + settings.systemDirectory() + ": " + String.join("; ", missing));
        }
        return bundles;
    }

    /** For each bundle whose file is not in {@code system}: its location and the file expected. */
    static List<String> missingBundles(Path system, List<BundleSpec> bundles) {
        List<String> missing = new ArrayList<>();
        for (BundleSpec bundle : bundles) {
            String path;
            try {
                path = MavenLayout.path(bundle.location());
            } catch (IllegalArgumentException e) {
                missing.add(bundle.location() + " (" + e.getMessage() + ")");
                continue;
            }
            if (!Files.isRegularFile(system.resolve(path))) {
                missing.add(bundle.location() + " (expected " + path + ")");
            }
        }
        return missing;
    }

    /**
     * The framework's configuration: the launcher's defaults, overridden by {@code overrides}
     * (etc/meshhub.properties); {@code meshhub.home} always names {@code home}.
     */
    static Map<String, String> frameworkProperties(Path home, Map<String, String> overrides, boolean console) {
        Map<String, String> properties = new HashMap<>();
        // Wiped on every start: the hub is provisioned from system/ each time, so the home stays relocatable.
        properties.put(Constants.FRAMEWORK_STORAGE, home.resolve("data/cache").toString());
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // protobuf and netty use sun.misc.Unsafe reflectively.
        properties.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.misc");
        properties.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "1");
        // Start level of bundles installed later, from the shell or deploy/.
        properties.put("felix.startlevel.bundle", "80");
        // FileInstall's first watcher feeds etc/*.cfg to ConfigAdmin; the second one (deploy/) is
        // configured by etc/org.apache.felix.fileinstall-deploy.cfg.
        properties.put("felix.fileinstall.dir", home.resolve("etc").toString());
        properties.put("felix.fileinstall.filter", ".*\\.cfg");
        properties.put("felix.fileinstall.poll", "1000");
        properties.put("felix.fileinstall.noInitialDelay", "true");
        properties.put("felix.fileinstall.log.level", "2");
        // etc/ is edited by admins, never written by the hub. FileInstall's write-back (on by default)
        // rewrites every .cfg on each start and races its own watcher, which can read the file half
        // written and then save the emptied configuration back: keys vanished from etc/ in testing.
        properties.put("felix.fileinstall.enableConfigSave", "false");
        // No HTTP listener until etc/org.apache.felix.http.cfg says where (Felix HTTP Jetty would
        // otherwise open 8080 on every interface while ConfigAdmin delivers that file).
        properties.put("org.apache.felix.http.enable", "false");
        // Gogo looks for etc/gosh_profile here.
        properties.put("gosh.home", home.toString());
        properties.putAll(overrides);
        properties.put(HOME_PROPERTY, home.toString());
        // Without a terminal an interactive console reads end-of-file at once and stops the framework.
        String goshArgs = properties.getOrDefault(GOSH_ARGS, "").trim();
        if (!console && !List.of(goshArgs.split("\\s+")).contains(NO_INTERACTIVE)) {
            goshArgs = (goshArgs + " " + NO_INTERACTIVE).trim();
        }
        properties.put(GOSH_ARGS, goshArgs);
        return properties;
    }

    /**
     * SIGTERM and SIGINT stop the framework before the JVM begins to shut down, so bundles stop in an
     * orderly way and the exit status is 0. Where the JVM does not allow it, the shutdown hook stops
     * the framework instead (and the status is the JVM's 128 + signal).
     */
    private void handleStopSignals() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> requestStop("SIG" + signal.getName()));
            } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
                // e.g. -Xrs: the shutdown hook covers it
            }
        }
    }

    private void requestStop(String reason) {
        if (stopRequested) {
            return;
        }
        stopRequested = true;
        System.out.println("meshhub: stopping (" + reason + ")");
        if (!stopFramework()) {
            Runtime.getRuntime().halt(1);
        }
    }

    /**
     * Stops the framework if it runs and waits up to 30 s for it. Safe to call from any thread, any
     * number of times.
     *
     * @return whether the framework is stopped
     */
    boolean stopFramework() {
        Framework fw = framework;
        if (fw == null) {
            return true;
        }
        try {
            if ((fw.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                fw.stop();
            }
            if (fw.waitForStop(STOP_TIMEOUT_MS).getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                System.err.println("meshhub: the framework did not stop within "
                        + TimeUnit.MILLISECONDS.toSeconds(STOP_TIMEOUT_MS) + " s");
                return false;
            }
            return true;
        } catch (BundleException | RuntimeException e) {
            System.err.println("meshhub: cannot stop the framework: " + Provisioning.describe(e));
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
