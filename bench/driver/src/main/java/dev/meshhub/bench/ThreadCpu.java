package dev.meshhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time a process's threads have used, by thread group (Linux, {@code /proc/PID/task/TID/stat}): the thread's name
 * as the kernel keeps it (15 characters) without its trailing number, so {@code meshhub-node-io-1-2} and
 * {@code meshhub-node-io-1-3} count as one group. Read from outside the JVM, so JIT compiler and GC threads count too.
 */
final class ThreadCpu {

    private static final long TICK_NANOS = 10_000_000L; // USER_HZ = 100 on Linux

    private final Map<String, Long> nanos;

    private ThreadCpu(Map<String, Long> nanos) {
        this.nanos = nanos;
    }

    /** The CPU time by thread group of process {@code pid} now; empty where /proc is not there. */
    static ThreadCpu of(long pid) {
        Map<String, Long> nanos = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    nanos.merge(group(stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))), cpuNanos(stat), Long::sum);
                } catch (IOException | RuntimeException threadEnded) {
                    // a thread that ended between the listing and the read
                }
            }
        } catch (IOException | RuntimeException e) {
            return new ThreadCpu(Map.of());
        }
        return new ThreadCpu(nanos);
    }

    /** A thread's group: its name without a trailing number ("-1-2", "#3", "-17"). */
    static String group(String name) {
        String trimmed = name.replaceAll("([-#_ ]?\\d+)+$", "");
        return trimmed.isEmpty() ? name : trimmed;
    }

    /** utime + stime of a {@code stat} line, in nanoseconds (fields 14 and 15; the name may hold spaces). */
    static long cpuNanos(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * TICK_NANOS;
    }

    /** The CPU used since {@code before}, by group. */
    ThreadCpu since(ThreadCpu before) {
        Map<String, Long> delta = new HashMap<>();
        nanos.forEach((group, total) -> delta.put(group, total - before.nanos.getOrDefault(group, 0L)));
        return new ThreadCpu(delta);
    }

    /** Adds {@code other}'s figures to a copy of these. */
    ThreadCpu plus(ThreadCpu other) {
        Map<String, Long> sum = new HashMap<>(nanos);
        other.nanos.forEach((group, total) -> sum.merge(group, total, Long::sum));
        return new ThreadCpu(sum);
    }

    static ThreadCpu none() {
        return new ThreadCpu(Map.of());
    }

    long total() {
        return nanos.values().stream().mapToLong(Long::longValue).sum();
    }

    /** "all X ms per MiB: group Y, group Z, ..." for the {@code top} groups, per MiB of {@code bytes}. */
    String perMib(long bytes, int top) {
        return per(bytes / (1024.0 * 1024.0), "MiB", top);
    }

    /** "all X ms per UNIT: group Y, group Z, ..." for the {@code top} groups, per one of {@code units}. */
    String per(double units, String unit, int top) {
        String groups = nanos.entrySet().stream().filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue() / 1e6 / units))
                .collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "all %.2f ms per %s: %s", total() / 1e6 / units, unit, groups);
    }
}
