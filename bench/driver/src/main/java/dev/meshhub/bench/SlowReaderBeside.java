package dev.meshhub.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The second line of row 18, a slow reader beside: {@code meshctl exec NODE -- sh -c 'head -c 268435456 /dev/zero'} whose
 * stdout the driver reads at about 1 KB/s (100 bytes every 100 ms) while another such task on the same node is timed into
 * {@code sha256sum}; against the same command with no slow reader, in the same rounds. Then the slow reader takes the rest
 * at full speed and must get every byte. Goal: at least 0.8x of the time alone.
 */
final class SlowReaderBeside {

    static final String NAME = "task output, slow reader beside";
    static final String GOAL = ">= 0.8x (one slow task never slows another)";
    static final double MIN_RATIO = 0.8;
    /** The output of the slow reader's task and of the task timed beside it (at most the throughput's size). */
    static final long BYTES = 256L << 20;
    static final int SLOW_READ_BYTES = 100;
    static final long SLOW_READ_MS = 100;
    /** How long the slow reader's task runs before the other is timed: every buffer on its way fills. */
    static final Duration HEAD_START = Duration.ofSeconds(2);

    private final BenchMain main;
    private final OutputPipelines pipelines;
    private final long size;
    private final int rounds;
    private final List<Double> alone = new ArrayList<>();
    private final List<Double> beside = new ArrayList<>();
    private final List<String> roundLines = new ArrayList<>();
    private final List<String> slowReaders = new ArrayList<>();
    private String roundsCut;
    private String slowReaderFailed;

    SlowReaderBeside(BenchMain main, OutputPipelines pipelines) {
        this.main = main;
        this.pipelines = pipelines;
        this.size = Math.min(BYTES, main.options().outputBytes());
        this.rounds = main.options().outputRounds();
    }

    /** The size of each task's output. */
    long size() {
        return size;
    }

    /** The rounds, as many as fit leaving {@code reserve}; which comes first alternates. */
    void run(Duration reserve) throws IOException, InterruptedException {
        long roundNanos = 0;
        for (int round = 1; round <= rounds; round++) {
            if (!TaskOutputRow.fits(main, reserve, roundNanos, Duration.ofSeconds(60 + size * 3 / 10_000_000))) {
                roundsCut = "only " + (round - 1) + " of " + rounds + " rounds fit in the time budget";
                break;
            }
            long started = System.nanoTime();
            main.progress("row 18 slow-reader round %d of %d: %s alone and beside a 1 KB/s reader", round, rounds,
                    TaskOutputRow.sizeLabel(size));
            if (round % 2 == 1) {
                alone.add(pipelines.throughput("alone", OutputPipelines.MESHCTL, size, null));
                beside.add(beside());
            } else {
                beside.add(beside());
                alone.add(pipelines.throughput("alone", OutputPipelines.MESHCTL, size, null));
            }
            roundNanos = System.nanoTime() - started;
            roundLines.add(String.format(Locale.ROOT, "slow-reader round %d (%s first): %s alone %.1f MB/s, beside a 1 KB/s reader"
                    + " %.1f MB/s", round, round % 2 == 1 ? "alone" : "beside", TaskOutputRow.sizeLabel(size),
                    alone.get(alone.size() - 1), beside.get(beside.size() - 1)));
            main.progress("row 18: %s", roundLines.get(roundLines.size() - 1));
        }
    }

    /**
     * One task's output read at about 1 KB/s while the same command is timed beside it; then the rest at full speed,
     * checked whole. Returns the MB/s of the one beside.
     */
    private double beside() throws IOException, InterruptedException {
        Path err = pipelines.runFile("slow", "err");
        ProcessBuilder builder = pipelines.meshctl(List.of("exec", OutputPipelines.NODE, "--", "sh", "-c", "head -c " + size
                + " /dev/zero")).redirectOutput(ProcessBuilder.Redirect.PIPE).redirectError(err.toFile());
        Process slow = main.track(builder.start());
        SlowReader reader = new SlowReader(slow.getInputStream());
        try {
            if (!reader.firstBytes.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the slow reader's meshctl exec gave no output within 60 s: "
                        + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            Thread.sleep(HEAD_START.toMillis());
            long readBefore = reader.read.get();
            long started = System.nanoTime();
            double besideMbps = pipelines.throughput("beside", OutputPipelines.MESHCTL, size, null);
            double seconds = (System.nanoTime() - started) / 1e9;
            long readMeanwhile = reader.read.get() - readBefore;
            if (!slow.isAlive()) {
                throw new IllegalStateException("the slow reader's task ended before the one timed beside it did (it read "
                        + reader.read.get() + " bytes): the slow reader did not hold it back");
            }
            reader.hurry = true;
            long hurried = System.nanoTime();
            Duration limit = main.within(OutputPipelines.timeout(size));
            if (!slow.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the slow reader's meshctl exec did not end within " + limit.toSeconds()
                        + " s of reading at full speed");
            }
            reader.thread.join(TimeUnit.SECONDS.toMillis(10));
            double rest = (System.nanoTime() - hurried) / 1e9;
            String digest = SourceFile.hex(reader.digest.digest());
            boolean zeros = digest.equals(pipelines.zeroDigest(size));
            boolean whole = slow.exitValue() == 0 && reader.failed == null && reader.read.get() == size && zeros;
            String outcome = String.format(Locale.ROOT, "slow reader: %,d bytes read while the other task ran (%.1f s, %.0f B/s), then"
                    + " the rest at full speed in %.1f s: %,d bytes in all, SHA-256 %s, meshctl exit %d%s", readMeanwhile, seconds,
                    readMeanwhile / seconds, rest, reader.read.get(), zeros ? "that of " + TaskOutputRow.sizeLabel(size)
                            + " of zeros" : digest, slow.exitValue(),
                    whole ? ": every byte" : ": NOT every byte" + (reader.failed == null ? "" : " (" + reader.failed + ")") + "; "
                            + Files.readString(err, StandardCharsets.UTF_8).strip());
            slowReaders.add(outcome);
            if (!whole && slowReaderFailed == null) {
                slowReaderFailed = outcome;
            }
            return besideMbps;
        } finally {
            BenchMain.kill(slow);
            reader.thread.interrupt();
        }
    }

    /** Reads {@link #SLOW_READ_BYTES} every {@link #SLOW_READ_MS} until {@link #hurry}, then the rest at once; hashes it all. */
    private static final class SlowReader implements Runnable {
        private final InputStream in;
        private final Thread thread;
        private final CountDownLatch firstBytes = new CountDownLatch(1);
        private final AtomicLong read = new AtomicLong();
        private final MessageDigest digest = SourceFile.newDigest();
        private volatile boolean hurry;
        private volatile String failed;

        SlowReader(InputStream in) {
            this.in = in;
            this.thread = new Thread(this, "bench-slow-reader");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void run() {
            try (InputStream stream = in) {
                byte[] sip = new byte[SLOW_READ_BYTES];
                while (!hurry) {
                    int n = stream.read(sip);
                    if (n < 0) {
                        return;
                    }
                    take(sip, n);
                    Thread.sleep(SLOW_READ_MS);
                }
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = stream.read(buffer)) >= 0;) {
                    take(buffer, n);
                }
            } catch (IOException e) {
                failed = e.toString();
            } catch (InterruptedException e) {
                failed = "interrupted";
            } finally {
                firstBytes.countDown();
            }
        }

        private void take(byte[] bytes, int n) {
            digest.update(bytes, 0, n);
            read.addAndGet(n);
            firstBytes.countDown();
        }
    }

    /** The row; {@code error} is why the row ended early (null if it did not). */
    Report.Row row(String error) {
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "workload: meshctl exec %s -- sh -c 'head -c %d /dev/zero', its stdout read by the driver"
                + " %d bytes every %d ms; %s s later, timed: \"%s\"; then the slow reader takes the rest at full speed and must get"
                + " every byte; baseline: the same timed command with no slow reader; rounds alternate which comes first",
                OutputPipelines.NODE, size, SLOW_READ_BYTES, SLOW_READ_MS, HEAD_START.toSeconds(),
                String.format(Locale.ROOT, OutputPipelines.MESHCTL, size)));
        if (roundsCut != null) {
            details.add(roundsCut);
        }
        details.addAll(roundLines);
        details.addAll(slowReaders);
        if (beside.isEmpty() || alone.isEmpty()) {
            return Report.Row.notMeasurable(TaskOutputRow.NUMBER, NAME, GOAL, error != null ? error : "no round ran", details);
        }
        if (error != null) {
            details.add("ended early: " + error);
        }
        Spread with = Spread.of(beside);
        Spread without = Spread.of(alone);
        details.add("beside a slow reader: " + Report.spread(with, FileSyncRow::mbps) + "; alone: " + Report.spread(without, FileSyncRow::mbps));
        double ratio = with.median() / without.median();
        List<String> missed = new ArrayList<>();
        if (ratio < MIN_RATIO) {
            missed.add("slower beside a slow reader");
        }
        if (slowReaderFailed != null) {
            missed.add("a slow reader did not get every byte");
        }
        if (error != null) {
            missed.add("the row ended early");
        }
        return new Report.Row(TaskOutputRow.NUMBER, NAME, FileSyncRow.mbps(with.median()) + " with a 1 KB/s reader on the same node",
                FileSyncRow.mbps(without.median()) + " alone", Report.ratio(ratio), GOAL, Report.verdict(missed), details);
    }
}
