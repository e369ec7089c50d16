package dev.meshhub.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class LauncherSettingsTest {

    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    private Path home(String launcherProperties) throws IOException {
        Path home = folder.getRoot().toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve(LauncherSettings.LAUNCHER_FILE), launcherProperties);
        return home;
    }

    @Test
    public void launcherKeysAreTakenOutAndTheRestGoesToTheFramework() throws IOException {
        Path home = home("""
                meshhub.features.repository = mvn:dev.meshhub/features/1.0/xml/features
                meshhub.features.boot = meshhub-framework, meshhub-api ,
                meshhub.framework.startlevel = 90
                felix.fileinstall.poll = ${poll}
                poll = 500
                felix.cache.dir = ${meshhub.home}/cache
                """);

        LauncherSettings settings = LauncherSettings.read(home, Map.of("meshhub.home", "/h")::get);

        assertEquals(home.resolve("system/dev/meshhub/features/1.0/features-1.0-features.xml"),
                settings.featuresRepositoryFile());
        assertEquals(List.of("meshhub-framework", "meshhub-api"), settings.bootFeatures());
        assertEquals(90, settings.frameworkStartLevel());
        assertEquals(Map.of("felix.fileinstall.poll", "500", "poll", "500", "felix.cache.dir", "/h/cache"),
                settings.frameworkProperties());
    }

    @Test
    public void defaultsAndPathRepositories() throws IOException {
        Path home = home("meshhub.features.repository = etc/features.xml\n");

        LauncherSettings settings = LauncherSettings.read(home, name -> null);

        assertEquals(home.resolve("etc/features.xml"), settings.featuresRepositoryFile());
        assertEquals(List.of("meshhub"), settings.bootFeatures());
        assertEquals(100, settings.frameworkStartLevel());
        assertTrue(settings.frameworkProperties().isEmpty());
    }

    @Test
    public void systemPropertiesOverrideTheLauncherKeys() throws IOException {
        Path home = home("""
                meshhub.features.repository = etc/features.xml
                meshhub.features.boot = meshhub
                """);
        Function<String, String> lookup = Map.of("meshhub.features.boot", "meshhub-shell,meshhub-api")::get;

        assertEquals(List.of("meshhub-shell", "meshhub-api"), LauncherSettings.read(home, lookup).bootFeatures());
    }

    @Test
    public void missingOrBadSettingsAreReported() throws IOException {
        assertRefused("meshhub.features.boot = meshhub\n", "does not set meshhub.features.repository");
        assertRefused("meshhub.features.repository = x.xml\nmeshhub.features.boot = ,\n", "names no feature");
        assertRefused("meshhub.features.repository = x.xml\nmeshhub.framework.startlevel = high\n", "'high'");
    }

    private void assertRefused(String properties, String expected) throws IOException {
        try {
            LauncherSettings.read(home(properties), name -> null);
            fail("accepted " + properties);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(expected));
        }
    }

    @Test
    public void frameworkPropertiesHoldTheDefaultsTheOverridesAndTheHome() {
        Path home = Path.of("/opt/hub");

        Map<String, String> properties = Launcher.frameworkProperties(home,
                Map.of("felix.fileinstall.poll", "200", "meshhub.home", "/elsewhere"), false);

        assertEquals("/opt/hub/data/cache", properties.get("org.osgi.framework.storage"));
        assertEquals("onFirstInit", properties.get("org.osgi.framework.storage.clean"));
        assertEquals("sun.misc", properties.get("org.osgi.framework.system.packages.extra"));
        assertEquals("/opt/hub/etc", properties.get("felix.fileinstall.dir"));
        assertEquals(".*\\.cfg", properties.get("felix.fileinstall.filter"));
        assertEquals("200", properties.get("felix.fileinstall.poll"));
        assertEquals("true", properties.get("felix.fileinstall.noInitialDelay"));
        assertEquals("2", properties.get("felix.fileinstall.log.level"));
        assertEquals("false", properties.get("felix.fileinstall.enableConfigSave"));
        assertEquals("no HTTP before etc/org.apache.felix.http.cfg is read", "false", properties.get("org.apache.felix.http.enable"));
        assertEquals("/opt/hub", properties.get("meshhub.home"));
        assertEquals("--nointeractive", properties.get("gosh.args"));
    }

    @Test
    public void theConsoleIsInteractiveOnlyWithATerminal() {
        Path home = Path.of("/opt/hub");
        assertEquals("", Launcher.frameworkProperties(home, Map.of(), true).get("gosh.args"));
        assertEquals("--noshutdown --nointeractive",
                Launcher.frameworkProperties(home, Map.of("gosh.args", "--noshutdown"), false).get("gosh.args"));
        assertEquals("--nointeractive",
                Launcher.frameworkProperties(home, Map.of("gosh.args", "--nointeractive"), false).get("gosh.args"));
    }

    @Test
    public void systemPropertiesFromTheFileDoNotOverrideTheCommandLine() throws IOException {
        Path home = folder.getRoot().toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve(LauncherSettings.SYSTEM_PROPERTIES_FILE), """
                meshhub.test.level = info
                meshhub.test.file = ${meshhub.test.dir}/x.log
                meshhub.test.dir = ${meshhub.test.home}/data
                meshhub.test.message = level ${meshhub.test.level}
                """);
        System.setProperty("meshhub.test.level", "debug");
        System.setProperty("meshhub.test.home", "/opt/hub");
        try {
            Launcher.applySystemProperties(home);

            assertEquals("debug", System.getProperty("meshhub.test.level"));
            assertEquals("level debug", System.getProperty("meshhub.test.message"));
            assertEquals("/opt/hub/data/x.log", System.getProperty("meshhub.test.file"));
        } finally {
            for (String key : List.of("level", "home", "file", "dir", "message")) {
                System.clearProperty("meshhub.test." + key);
            }
        }
    }

    @Test
    public void missingBundlesAreNamedWithTheFileExpected() throws IOException {
        Path system = folder.newFolder("system").toPath();
        Path present = MavenLayout.resolve(system, "mvn:g/present/1");
        Files.createDirectories(present.getParent());
        Files.writeString(present, "jar");

        List<String> missing = Launcher.missingBundles(system, List.of(
                new BundleSpec("mvn:g/present/1", 5, true),
                new BundleSpec("mvn:g/absent/1", 5, true),
                new BundleSpec("file:/x.jar", 5, true)));

        assertEquals(2, missing.size());
        assertEquals("mvn:g/absent/1 (expected g/absent/1/absent-1.jar)", missing.get(0));
        assertTrue(missing.get(1), missing.get(1).startsWith("file:/x.jar (not an mvn: location"));
    }

    @Test
    public void theLockIsExclusive() throws Exception {
        Path home = folder.getRoot().toPath();
        try (HubLock lock = HubLock.acquire(home)) {
            try (HubLock second = HubLock.acquire(home)) {
                fail("took a held lock");
            } catch (LaunchException e) {
                assertEquals("another hub is already running from " + home
                        + " (data/hub.lock is held); stop it first", e.getMessage());
            }
            assertTrue(Files.readString(home.resolve(HubLock.FILE)).startsWith("pid="));
        }
        try (HubLock again = HubLock.acquire(home)) {
            assertFalse(Files.readString(home.resolve(HubLock.FILE)).isEmpty());
        }
    }
}
