package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A JVM's live objects by class ({@code jcmd PID GC.class_histogram}, which collects first), so a heap figure can say
 * what it is made of: {@link #growth} names the classes that hold the most more bytes than in an earlier reading.
 */
final class ClassHistogram {

    private static final Pattern LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    private final Map<String, Long> bytes;

    private ClassHistogram(Map<String, Long> bytes) {
        this.bytes = bytes;
    }

    /** Reads the live-object histogram of the JVM with process id {@code pid}. */
    static ClassHistogram of(long pid) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.class_histogram")
                .redirectErrorStream(true).start();
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException("jcmd " + pid + " GC.class_histogram failed: " + text.strip());
        }
        return parse(text);
    }

    /** A histogram from jcmd's text ("num: #instances #bytes class name" lines; the rest ignored). */
    static ClassHistogram parse(String text) {
        Map<String, Long> bytes = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                bytes.merge(m.group(3), Long.parseLong(m.group(2)), Long::sum);
            }
        }
        return new ClassHistogram(bytes);
    }

    /** The {@code top} classes holding the most bytes more than in {@code before}, as "class +N KiB" joined by commas. */
    String growth(ClassHistogram before, int top) {
        return growth(before, top, "");
    }

    /** As {@link #growth(ClassHistogram, int)}, among the classes whose names start with {@code prefix}. */
    String growth(ClassHistogram before, int top, String prefix) {
        Map<String, Long> delta = new HashMap<>();
        bytes.forEach((type, size) -> {
            if (type.startsWith(prefix)) {
                delta.put(type, size - before.bytes.getOrDefault(type, 0L));
            }
        });
        return delta.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .map(e -> String.format(Locale.ROOT, "%s +%,d KiB", e.getKey(), e.getValue() / 1024))
                .collect(Collectors.joining(", "));
    }
}
