package dev.meshhub.bench.probe.impl;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

import org.HdrHistogram.Histogram;

/**
 * The figures of one measurement as Java properties, written whole: to a temporary file first,
 * then moved into place, so the driver polling for the file never reads half of it.
 */
final class ResultFile {

    private final Properties values = new Properties();

    ResultFile put(String key, Object value) {
        values.setProperty(key, String.valueOf(value));
        return this;
    }

    /** Count, min, max, mean and the percentiles the report uses, in nanoseconds. */
    ResultFile putLatency(String prefix, Histogram histogram) {
        put(prefix + "count", histogram.getTotalCount());
        if (histogram.getTotalCount() == 0) {
            return this;
        }
        put(prefix + "minNs", histogram.getMinValue());
        put(prefix + "p50Ns", histogram.getValueAtPercentile(50));
        put(prefix + "p90Ns", histogram.getValueAtPercentile(90));
        put(prefix + "p99Ns", histogram.getValueAtPercentile(99));
        put(prefix + "p999Ns", histogram.getValueAtPercentile(99.9));
        put(prefix + "maxNs", histogram.getMaxValue());
        put(prefix + "meanNs", Math.round(histogram.getMean()));
        return this;
    }

    String get(String key) {
        return values.getProperty(key);
    }

    void writeTo(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
            values.store(out, "meshhub benchmark probe");
        }
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
