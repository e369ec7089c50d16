package dev.meshhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Row 8's baseline: a copy of the assembled hub that boots only the framework and Felix SCR. Same
 * {@code bin/meshhub}, same launcher ({@code lib/boot}), same {@code etc/system.properties}, same JVM
 * options; its {@code etc/meshhub.properties} names a features file of one feature with SCR and what
 * SCR needs to resolve (the OSGi function, promise, component and log APIs), the versions taken from
 * the hub's own features repository, and {@code system/} holds only those five jars. The launcher
 * installs them, raises the start level and prints "meshhub started in N ms (5 bundles)" as it does
 * for the hub.
 */
final class BareRuntime {

    /** Artifact ids of the bundles kept, as the hub's meshhub-framework feature lists them. */
    static final List<String> ARTIFACTS = List.of("org.osgi.util.function", "org.osgi.util.promise", "org.osgi.service.component",
            "org.osgi.service.log", "org.apache.felix.scr");
    static final String FEATURES_FILE = "etc/bench-bare-features.xml";
    static final String FEATURE = "bench-bare";

    private static final Pattern BUNDLE = Pattern.compile("<bundle([^>]*)>\\s*(mvn:[^<\\s]+)\\s*</bundle>");
    private static final Pattern START_LEVEL = Pattern.compile("start-level=\"(\\d+)\"");

    private BareRuntime() {
    }

    /**
     * Copies the hub into {@code home} and strips it down.
     *
     * @param kept receives the bundle locations kept, with their start levels
     */
    static HubInstance create(Path runtime, Path home, List<String> kept) throws IOException {
        HubInstance bare = HubInstance.copyOf(runtime, home, "bare");
        Path system = home.resolve("system");
        Path features;
        try (Stream<Path> files = Files.walk(system.resolve("dev/meshhub/features"))) {
            features = files.filter(f -> f.getFileName().toString().endsWith("-features.xml")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no features repository in " + system));
        }
        Map<String, String> bundles = bundles(Files.readString(features));
        StringBuilder xml = new StringBuilder("""
                <?xml version="1.0" encoding="UTF-8"?>
                <!-- Written by the benchmark driver (row 8's baseline): the framework and Felix SCR only. -->
                <features name="bench-bare" xmlns="http://karaf.apache.org/xmlns/features/v1.6.0">
                """).append("  <feature name=\"").append(FEATURE).append("\" version=\"1\">\n");
        List<String> keep = new ArrayList<>();
        for (String artifact : ARTIFACTS) {
            String location = bundles.keySet().stream().filter(l -> artifactId(l).equals(artifact)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("the hub's features repository lists no " + artifact));
            xml.append("    <bundle start-level=\"").append(bundles.get(location)).append("\">").append(location).append("</bundle>\n");
            keep.add(path(location));
            kept.add(location + " (start level " + bundles.get(location) + ")");
        }
        xml.append("  </feature>\n</features>\n");
        Files.writeString(home.resolve(FEATURES_FILE), xml);
        bare.setConfiguration("meshhub.properties", "meshhub.features.repository", FEATURES_FILE);
        bare.setConfiguration("meshhub.properties", "meshhub.features.boot", FEATURE);
        prune(system, Set.copyOf(keep));
        return bare;
    }

    /** Locations of the {@code <bundle>} elements, with their start levels (first listing wins). */
    static Map<String, String> bundles(String featuresXml) {
        Map<String, String> bundles = new LinkedHashMap<>();
        Matcher m = BUNDLE.matcher(featuresXml);
        while (m.find()) {
            Matcher level = START_LEVEL.matcher(m.group(1));
            bundles.putIfAbsent(m.group(2), level.find() ? level.group(1) : "80");
        }
        return bundles;
    }

    private static String artifactId(String location) {
        String[] parts = location.substring("mvn:".length()).split("/");
        return parts.length > 1 ? parts[1] : "";
    }

    /** mvn:GROUP/ARTIFACT/VERSION as a Maven-layout path (jar, no classifier), as the launcher looks it up. */
    static String path(String location) {
        String[] parts = location.substring("mvn:".length()).split("/");
        return parts[0].replace('.', '/') + "/" + parts[1] + "/" + parts[2] + "/" + parts[1] + "-" + parts[2] + ".jar";
    }

    /** Deletes every file of {@code system} but {@code keep} (relative paths), then the directories left empty. */
    private static void prune(Path system, Set<String> keep) throws IOException {
        List<Path> all;
        try (Stream<Path> files = Files.walk(system)) {
            all = files.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path path : all) {
            String relative = system.relativize(path).toString().replace('\\', '/');
            if (Files.isRegularFile(path) && !keep.contains(relative)) {
                Files.delete(path);
            } else if (Files.isDirectory(path) && !path.equals(system)) {
                try (Stream<Path> left = Files.list(path)) {
                    if (left.findAny().isEmpty()) {
                        Files.delete(path);
                    }
                }
            }
        }
        for (String relative : keep) {
            if (!Files.isRegularFile(system.resolve(relative))) {
                throw new IllegalStateException("the hub's system/ lacks " + relative);
            }
        }
    }
}
