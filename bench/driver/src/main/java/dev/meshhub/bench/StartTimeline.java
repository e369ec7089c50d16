package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where a hub's start goes, read from one start with {@code -Xlog:class+load:file=...:uptime}: Felix
 * defines each bundle's classes with the bundle's location as their source, so the JVM uptime at which a
 * bundle's first class was loaded tells when the start got to it (its activator or components), and the
 * count how much code it brought. One extra, unrecorded start (the logging slows it a little).
 */
final class StartTimeline {

    /** What the JVM option adds (file appended). */
    static String jvmOption(Path file) {
        return "-Xlog:class+load:file=" + file + ":uptime";
    }

    private static final Pattern LINE = Pattern.compile("^\\[(\\d+(?:\\.\\d+)?)s\\].*? source: (\\S+)");
    /** Label and a text of the class source (bundle location or jar), in start order. */
    private static final Map<String, String> PARTS = new LinkedHashMap<>();

    static {
        PARTS.put("Felix", "org.apache.felix.framework");
        PARTS.put("ConfigAdmin", "org.apache.felix.configadmin");
        PARTS.put("SCR", "org.apache.felix.scr/");
        PARTS.put("FileInstall", "org.apache.felix.fileinstall");
        PARTS.put("env-config", "dev.meshhub/env-config");
        PARTS.put("Derby", "org.apache.derby/derby/");
        PARTS.put("journal", "dev.meshhub/journal/");
        PARTS.put("PKI", "dev.meshhub/pki/");
        PARTS.put("BouncyCastle", "bcprov");
        PARTS.put("policy", "dev.meshhub/policy/");
        PARTS.put("transport", "dev.meshhub/transport/");
        PARTS.put("gRPC+Netty", "dev.meshhub/grpc/");
        PARTS.put("admin", "dev.meshhub/admin/");
        PARTS.put("scheduler", "dev.meshhub/scheduler/");
        PARTS.put("mirror", "dev.meshhub/mirror/");
        PARTS.put("monitor", "dev.meshhub/monitor/");
        PARTS.put("Gogo shell", "org.apache.felix.gogo.shell");
    }

    private StartTimeline() {
    }

    /** "Felix 105 ms (247 classes), ..., of N classes in all", or why not. */
    static String describe(Path file) {
        Map<String, double[]> seen = new LinkedHashMap<>();
        int all = 0;
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            for (String line : (Iterable<String>) lines::iterator) {
                all++;
                Matcher m = LINE.matcher(line);
                if (!m.find()) {
                    continue;
                }
                for (Map.Entry<String, String> part : PARTS.entrySet()) {
                    if (m.group(2).contains(part.getValue())) {
                        double[] figures = seen.computeIfAbsent(part.getKey(), k -> new double[] {Double.parseDouble(m.group(1)), 0});
                        figures[1]++;
                        break;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return "no class-load log (" + e + ")";
        }
        List<String> parts = new ArrayList<>();
        for (String label : PARTS.keySet()) {
            double[] figures = seen.get(label);
            if (figures != null) {
                parts.add(String.format(Locale.ROOT, "%s %.0f (%.0f)", label, figures[0] * 1000, figures[1]));
            }
        }
        return String.join(", ", parts) + String.format(Locale.ROOT, "; %,d classes loaded in all", all);
    }
}
