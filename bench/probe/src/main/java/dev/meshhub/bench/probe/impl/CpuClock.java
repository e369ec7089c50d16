package dev.meshhub.bench.probe.impl;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time the hub has used: the journal's writer thread alone (the row-2 ceiling is that one thread's CPU per task),
 * and the whole JVM process (from {@code /proc/self/stat}, so the JIT compiler and GC threads count too).
 */
final class CpuClock {

    /** The journal's single writer thread (GroupCommitWriter.THREAD_NAME). */
    static final String WRITER_THREAD = "meshhub-journal-writer";

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final long TICK_NANOS = 10_000_000L; // USER_HZ = 100 on Linux

    private CpuClock() {
    }

    /** The writer thread's CPU time in nanoseconds, or -1 when there is none or the JVM does not measure it. */
    static long writerNanos() {
        if (!THREADS.isThreadCpuTimeSupported()) {
            return -1;
        }
        for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info != null && WRITER_THREAD.equals(info.getThreadName())) {
                return THREADS.getThreadCpuTime(info.getThreadId());
            }
        }
        return -1;
    }

    /** This process's CPU time (user + system) in nanoseconds, or -1 off Linux. */
    static long processNanos() {
        try {
            return parseStat(Files.readString(Path.of("/proc/self/stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** utime + stime of a {@code /proc/PID/stat} line, in nanoseconds (fields 14 and 15; the name may hold spaces). */
    static long parseStat(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // fields[0] is field 3 (state): utime is field 14, stime field 15
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * TICK_NANOS;
    }
}
