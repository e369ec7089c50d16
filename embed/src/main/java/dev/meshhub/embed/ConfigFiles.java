package dev.meshhub.embed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.meshhub.runtime.MavenLayout;

/**
 * The embedded hub's {@code etc/}: each feature's default {@code .cfg} (from the system repository,
 * the same files the runtime and Karaf get) where none is there yet, then the builder's settings
 * written over the keys they name, the rest of the file (comments, an admin's own edits) kept.
 */
final class ConfigFiles {

    private ConfigFiles() {
    }

    /**
     * @param etc       the hub's etc/
     * @param system    where {@code locations} resolve (Maven layout)
     * @param locations the features' {@code <configfile>}s, {@code mvn:dev.meshhub/features/V/cfg/NAME}
     * @param settings  PID to key to value, written over the files' values
     */
    static void write(Path etc, Path system, List<String> locations, Map<String, Map<String, String>> settings) throws IOException {
        for (String location : locations) {
            Path file = etc.resolve(dev.meshhub.runtime.FeaturesRepository.pidOf(location) + ".cfg");
            if (!Files.exists(file)) {
                Files.copy(MavenLayout.resolve(system, location), file);
            }
        }
        for (Map.Entry<String, Map<String, String>> pid : settings.entrySet()) {
            Path file = etc.resolve(pid.getKey() + ".cfg");
            String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
            Files.writeString(file, merge(text, pid.getValue()), StandardCharsets.UTF_8);
        }
    }

    /** {@code text} with each {@code key = value} line of {@code values} replaced, or appended where absent. */
    static String merge(String text, Map<String, String> values) {
        Map<String, String> left = new LinkedHashMap<>(values);
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            String trimmed = line.trim();
            int eq = trimmed.indexOf('=');
            String key = eq > 0 && !trimmed.startsWith("#") ? trimmed.substring(0, eq).trim() : null;
            if (key != null && left.containsKey(key)) {
                lines.add(key + " = " + left.remove(key));
            } else {
                lines.add(line);
            }
        }
        StringBuilder merged = new StringBuilder(String.join("\n", lines));
        if (!left.isEmpty() && merged.length() > 0 && merged.charAt(merged.length() - 1) != '\n') {
            merged.append('\n');
        }
        left.forEach((key, value) -> merged.append(key).append(" = ").append(value).append('\n'));
        return merged.toString();
    }
}
