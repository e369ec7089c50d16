package dev.meshhub.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Checks the assembled hub (target/meshhub, built during process-resources): the features file the
 * launcher is configured with is in system/, and system/ holds exactly the bundles it lists.
 */
public class SystemRepositoryTest {

    private static Path assembly;
    private static LauncherSettings settings;
    private static FeaturesRepository features;

    @BeforeClass
    public static void readAssembly() throws IOException {
        String dir = System.getProperty("meshhub.assembly");
        assertTrue("run through Maven: the system property meshhub.assembly names target/meshhub", dir != null);
        assembly = Path.of(dir);
        assertTrue(assembly + " is missing: it is built during process-resources",
                Files.isRegularFile(assembly.resolve(LauncherSettings.LAUNCHER_FILE)));
        settings = LauncherSettings.read(assembly, name -> "meshhub.home".equals(name) ? assembly.toString() : null);
        Path file = settings.featuresRepositoryFile();
        assertTrue("the features file " + settings.featuresRepository() + " is not in system/: " + file,
                Files.isRegularFile(file));
        features = FeaturesRepository.read(file);
    }

    @Test
    public void everyBundleOfEveryFeatureIsInSystem() {
        List<String> missing = Launcher.missingBundles(settings.systemDirectory(),
                features.resolve(features.featureNames()));

        assertEquals("bundles named in the features file but not copied into " + settings.systemDirectory()
                + " (add them to the 'system' execution of runtime/pom.xml)", List.of(), missing);
    }

    @Test
    public void everyConfigurationFileAFeatureShipsIsInSystemAndMatchesTheRuntimesEtc() throws IOException {
        List<String> locations = features.configFiles();
        assertTrue("the features ship their default configuration (Karaf needs it)", locations.size() >= 8);
        for (String location : locations) {
            Path file = MavenLayout.resolve(settings.systemDirectory(), location);
            assertTrue(location + " is not in system/ (" + file + "): add it to the 'system' execution of runtime/pom.xml",
                    Files.isRegularFile(file));
            Path etc = assembly.resolve("etc/" + FeaturesRepository.pidOf(location) + ".cfg");
            assertEquals("one source for " + etc.getFileName() + ": the runtime's etc/ and Karaf get the same file",
                    Files.readString(file), Files.readString(etc));
        }
    }

    @Test
    public void systemHoldsNothingTheFeaturesDoNotName() throws IOException {
        Set<Path> expected = new TreeSet<>();
        for (String location : features.configFiles()) {
            expected.add(MavenLayout.resolve(settings.systemDirectory(), location));
        }
        for (BundleSpec bundle : features.resolve(features.featureNames())) {
            expected.add(MavenLayout.resolve(settings.systemDirectory(), bundle.location()));
        }
        expected.add(settings.featuresRepositoryFile());
        Set<Path> actual;
        try (Stream<Path> files = Files.walk(settings.systemDirectory())) {
            actual = files.filter(Files::isRegularFile).collect(Collectors.toCollection(TreeSet::new));
        }
        actual.removeAll(expected);

        assertEquals("files in system/ that no feature names (left over from an earlier build? run with"
                + " 'clean'; otherwise remove them from the 'system' execution of runtime/pom.xml)", Set.of(), actual);
    }

    @Test
    public void theBootFeaturesResolve() {
        assertTrue(features.resolve(settings.bootFeatures()).size() > 0);
    }

    @Test
    public void theScriptsAreExecutableAndTheDirectoriesExist() {
        for (String script : List.of("meshhub", "meshnode", "meshctl")) {
            assertTrue(script, Files.isExecutable(assembly.resolve("bin").resolve(script)));
        }
        for (String dir : List.of("deploy", "data", "lib/boot", "lib/node", "lib/cli", "etc")) {
            assertTrue(dir, Files.isDirectory(assembly.resolve(dir)));
        }
    }
}
