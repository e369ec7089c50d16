package dev.meshhub.runtime;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What {@code etc/meshhub.properties} tells the launcher.
 *
 * <p>Three keys are the launcher's own ({@value #FEATURES_REPOSITORY}, {@value #BOOT_FEATURES},
 * {@value #FRAMEWORK_START_LEVEL}); a system property of the same name (e.g. {@code -D} in
 * {@code MESHHUB_OPTS}) overrides the file. Every other key is an OSGi framework property that
 * overrides the launcher's default. {@code ${...}} placeholders are substituted in every value.
 */
final class LauncherSettings {

    /** Karaf features repository listing the hub's bundles: an {@code mvn:} location in system/, or a path relative to the home. */
    static final String FEATURES_REPOSITORY = "meshhub.features.repository";
    /** Comma-separated features installed at start, with their dependencies. */
    static final String BOOT_FEATURES = "meshhub.features.boot";
    /** The framework start level raised to once every boot bundle is installed. */
    static final String FRAMEWORK_START_LEVEL = "meshhub.framework.startlevel";

    static final String LAUNCHER_FILE = "etc/meshhub.properties";
    static final String SYSTEM_PROPERTIES_FILE = "etc/system.properties";
    static final String SYSTEM_DIR = "system";

    static final String DEFAULT_BOOT_FEATURES = "meshhub";
    static final int DEFAULT_FRAMEWORK_START_LEVEL = 100;

    private final Path home;
    private final String featuresRepository;
    private final List<String> bootFeatures;
    private final int frameworkStartLevel;
    private final Map<String, String> frameworkProperties;

    private LauncherSettings(Path home, String featuresRepository, List<String> bootFeatures,
                             int frameworkStartLevel, Map<String, String> frameworkProperties) {
        this.home = home;
        this.featuresRepository = featuresRepository;
        this.bootFeatures = bootFeatures;
        this.frameworkStartLevel = frameworkStartLevel;
        this.frameworkProperties = frameworkProperties;
    }

    /**
     * Reads {@value #LAUNCHER_FILE} of {@code home}.
     *
     * @param lookup resolves placeholders the file does not define, and supplies overrides of the launcher's keys
     */
    static LauncherSettings read(Path home, Function<String, String> lookup) throws IOException {
        Path file = home.resolve(LAUNCHER_FILE);
        Map<String, String> properties = new TreeMap<>(Placeholders.substitute(load(file), lookup));
        for (String key : List.of(FEATURES_REPOSITORY, BOOT_FEATURES, FRAMEWORK_START_LEVEL)) {
            String override = lookup.apply(key);
            if (override != null) {
                properties.put(key, Placeholders.substitute(override, lookup));
            }
        }

        String repository = properties.remove(FEATURES_REPOSITORY);
        if (repository == null || repository.isBlank()) {
            throw new IllegalArgumentException(file + " does not set " + FEATURES_REPOSITORY);
        }
        List<String> features = new ArrayList<>();
        for (String feature : properties.getOrDefault(BOOT_FEATURES, DEFAULT_BOOT_FEATURES).split(",")) {
            if (!feature.isBlank()) {
                features.add(feature.trim());
            }
        }
        properties.remove(BOOT_FEATURES);
        if (features.isEmpty()) {
            throw new IllegalArgumentException(file + ": " + BOOT_FEATURES + " names no feature");
        }
        String level = properties.remove(FRAMEWORK_START_LEVEL);
        int startLevel = DEFAULT_FRAMEWORK_START_LEVEL;
        if (level != null) {
            try {
                startLevel = Integer.parseInt(level.trim());
            } catch (NumberFormatException e) {
                startLevel = 0;
            }
            if (startLevel < 1) {
                throw new IllegalArgumentException(file + ": " + FRAMEWORK_START_LEVEL
                        + " must be a positive number, not '" + level + "'");
            }
        }
        return new LauncherSettings(home, repository.trim(), List.copyOf(features), startLevel,
                new LinkedHashMap<>(properties));
    }

    /**
     * Loads a properties file (UTF-8, {@link Properties} syntax) without substituting anything.
     *
     * @throws NoSuchFileException if it does not exist
     */
    static Map<String, String> load(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        Map<String, String> map = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            map.put(key, properties.getProperty(key));
        }
        return map;
    }

    /** The hub's Maven-layout bundle store. */
    Path systemDirectory() {
        return home.resolve(SYSTEM_DIR);
    }

    /** The features repository as configured ({@code mvn:} location or path). */
    String featuresRepository() {
        return featuresRepository;
    }

    /** The features repository's file: in system/ for an {@code mvn:} location, otherwise relative to the home. */
    Path featuresRepositoryFile() {
        return featuresRepository.startsWith("mvn:")
                ? MavenLayout.resolve(systemDirectory(), featuresRepository)
                : home.resolve(featuresRepository);
    }

    List<String> bootFeatures() {
        return bootFeatures;
    }

    int frameworkStartLevel() {
        return frameworkStartLevel;
    }

    /** Framework properties from the file, overriding the launcher's defaults. */
    Map<String, String> frameworkProperties() {
        return frameworkProperties;
    }
}
