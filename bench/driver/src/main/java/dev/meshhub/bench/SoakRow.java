package dev.meshhub.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 13, the hot-swap soak. Its load and its swaps need the hub's own bundles in reach
 * (Bundle.update() of each, ConfigAdmin edits), so it runs as the pax-exam test
 * {@code runtime/.../HotSwapSoakIT} in a real Felix with the real bundles: this row starts that test
 * through the Maven Wrapper with the benchmark's size (100 swaps, 50 nodes, 60 tasks/s), waits for the
 * figures it writes ({@code soak-report.properties}), and judges them. {@code ./mvnw verify} runs the
 * same test with 16 swaps.
 */
final class SoakRow {

    static final int NUMBER = 13;
    static final String NAME = "hot-swap soak";
    static final String GOAL = "0 streams dropped, 0 tasks lost; threads, fds, heap flat (at most +8 threads, +8 fds,"
            + " +64 MiB after GC), >= 50 tasks/s";
    /** How much the end may exceed the start and still count as flat. */
    static final int THREADS_SLACK = 8;
    static final int FILES_SLACK = 8;
    static final double HEAP_SLACK_MIB = 64;
    static final double MIN_RATE = 50;

    private final BenchMain main;
    private final BenchOptions options;

    SoakRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        Path report = options.work().resolve("soak-report.properties");
        Path log = options.work().resolve("soak-maven.log");
        List<String> command = List.of(options.root().resolve("mvnw").toString(), "-B", "-o", "-pl", "runtime", "verify",
                "-Dit.test=HotSwapSoakIT", "-Dtest=none", "-Dsurefire.failIfNoSpecifiedTests=false", "-Dmeshhub.soak.swaps="
                        + options.soakSwaps(), "-Dmeshhub.soak.report=" + report);
        main.progress("row 13: %d swaps under load in a pax-exam Felix (HotSwapSoakIT through the Maven Wrapper; log %s)",
                options.soakSwaps(), log);
        try {
            Files.deleteIfExists(report);
            Process maven = new ProcessBuilder(command).directory(options.root().toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            long waitMs = main.within(options.budget()).toMillis();
            if (!maven.waitFor(waitMs, TimeUnit.MILLISECONDS)) {
                maven.descendants().forEach(ProcessHandle::destroyForcibly);
                maven.destroyForcibly();
                return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "the soak did not end within " + waitMs / 1000 + " s (see "
                        + log + ")", details);
            }
            details.add("maven exited " + maven.exitValue() + " (non-zero when the test's own assertions failed); log " + log);
        } catch (IOException | RuntimeException e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "could not run the soak: " + BenchMain.describe(e), details);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "interrupted", details);
        }
        if (!Files.isRegularFile(report)) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "the soak wrote no figures (did the build fail before it ran? see "
                    + log + ")", details);
        }
        Properties figures = new Properties();
        try (Reader in = Files.newBufferedReader(report)) {
            figures.load(in);
        } catch (IOException e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "unreadable figures in " + report + ": " + e.getMessage(), details);
        }
        try {
            return judge(figures, details);
        } catch (RuntimeException e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, "incomplete figures in " + report + ": " + e.getMessage(), details);
        }
    }

    /** The row from the soak's figures. */
    static Report.Row judge(Properties figures, List<String> details) {
        long dropped = whole(figures, "dropped");
        long lost = whole(figures, "lost");
        long unfinished = whole(figures, "unfinished");
        double rate = number(figures, "ratePerSecond");
        long threadsStart = whole(figures, "threads.start");
        long threadsEnd = whole(figures, "threads.end");
        long filesStart = whole(figures, "files.start");
        long filesEnd = whole(figures, "files.end");
        double heapStart = number(figures, "heapMiB.start");
        double heapEnd = number(figures, "heapMiB.end");
        List<String> missed = new ArrayList<>();
        if (dropped != 0) {
            missed.add(dropped + " streams dropped");
        }
        if (lost != 0) {
            missed.add(lost + " tasks lost");
        }
        if (unfinished != 0) {
            missed.add(unfinished + " tasks unfinished");
        }
        if (rate < MIN_RATE) {
            missed.add(String.format(Locale.ROOT, "only %.0f tasks/s", rate));
        }
        if (threadsEnd > threadsStart + THREADS_SLACK) {
            missed.add("threads grew by " + (threadsEnd - threadsStart));
        }
        if (filesEnd > filesStart + FILES_SLACK) {
            missed.add("open files grew by " + (filesEnd - filesStart));
        }
        if (heapEnd > heapStart + HEAP_SLACK_MIB) {
            missed.add(String.format(Locale.ROOT, "heap grew by %.1f MiB", heapEnd - heapStart));
        }
        String measured = String.format(Locale.ROOT, "%s swaps in %.0f s, %s nodes: %d streams dropped, %d of %s tasks lost, %d"
                        + " unfinished, %.0f tasks/s; threads %d, fds %d, heap after GC %.1f MiB at the end",
                figures.getProperty("swaps"), number(figures, "seconds"), figures.getProperty("nodes"), dropped, lost,
                figures.getProperty("accepted"), unfinished, rate, threadsEnd, filesEnd, heapEnd);
        String baseline = String.format(Locale.ROOT, "start of run: threads %d, fds %d, heap after GC %.1f MiB", threadsStart,
                filesStart, heapStart);
        String ratio = String.format(Locale.ROOT, "threads %s, fds %s, heap %s", Report.ratio((double) threadsEnd / threadsStart),
                Report.ratio((double) filesEnd / filesStart), Report.ratio(heapEnd / heapStart));
        details.add(figures.getProperty("line", ""));
        return new Report.Row(NUMBER, NAME, measured, baseline, ratio, GOAL,
                missed.isEmpty() ? Report.PASS : Report.MISS + " (" + String.join(", ", missed) + ")", details);
    }

    private static double number(Properties figures, String key) {
        String value = figures.getProperty(key);
        if (value == null) {
            throw new IllegalStateException("the soak's figures lack " + key);
        }
        return Double.parseDouble(value);
    }

    private static long whole(Properties figures, String key) {
        return Math.round(number(figures, key));
    }
}
