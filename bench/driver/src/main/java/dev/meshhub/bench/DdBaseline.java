package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Baseline (b) of row 4: {@code dd if=FILE of=OUT bs=1M conv=fsync}, run as processes, writing into
 * the hub's data directory (the disk the hub's mirror is on). With {@code parallel > 1}, that many dd
 * processes at once, each copying its own 1/parallel of the file ({@code skip}/{@code count}) to a
 * file of its own, like the hub's parallel uploads. Timed by the driver from the first start to the
 * last exit; the outputs are deleted afterwards.
 */
final class DdBaseline {

    private static final long MIB = 1024 * 1024;

    private DdBaseline() {
    }

    /** @return MB/s (10^6 bytes per second) for the whole file */
    static double run(Path source, long size, Path outputDirectory, int parallel, long timeoutSeconds)
            throws IOException, InterruptedException {
        long blocksEach = size / MIB / parallel;
        List<Process> processes = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (int i = 0; i < parallel; i++) {
                Path out = outputDirectory.resolve("dd-baseline-" + i + ".out");
                outputs.add(out);
                processes.add(new ProcessBuilder("dd", "if=" + source, "of=" + out, "bs=1M", "conv=fsync", "status=none",
                        "skip=" + i * blocksEach, "count=" + blocksEach).redirectErrorStream(true).start());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            for (Process process : processes) {
                if (!process.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("dd did not finish within " + timeoutSeconds + " s");
                }
            }
            long elapsed = System.nanoTime() - started;
            for (Process process : processes) {
                if (process.exitValue() != 0) {
                    throw new IllegalStateException("dd failed (exit " + process.exitValue() + "): "
                            + new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
                }
            }
            for (Path out : outputs) {
                if (Files.size(out) != blocksEach * MIB) {
                    throw new IllegalStateException("dd wrote " + Files.size(out) + " bytes to " + out + ", expected " + blocksEach * MIB);
                }
            }
            return blocksEach * MIB * parallel / (elapsed / 1e9) / 1e6;
        } finally {
            processes.forEach(Process::destroyForcibly);
            for (Path out : outputs) {
                Files.deleteIfExists(out);
            }
        }
    }
}
