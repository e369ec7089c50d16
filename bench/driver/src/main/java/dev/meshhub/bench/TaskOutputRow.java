package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Extra row 18 (issue 14, "task output at any size"): real hubs as shipped, each with one real node agent
 * ({@code bin/meshnode}, enrolled, PERMISSIVE), in three lines.
 *
 * <ul>
 * <li><b>Throughput</b> ({@link OutputThroughput}): 1 GiB through {@code meshctl exec} as a user types it, against a local
 * pipe and a raw gRPC stream, and the hub's heap after GC;
 * <li><b>a slow reader beside</b> ({@link SlowReaderBeside}): a task whose output is read at 1 KB/s does not slow another
 * on the same node, and still gets every byte;
 * </ul>
 * both on one hub and node ({@link OutputPipelines}); then, on a hub of its own whose task logs may hold 2 MB in all and
 * whose retention runs every second,
 * <ul>
 * <li><b>10,000 small tasks</b> ({@link SmallTaskLogs}): the task-log directory stays within its cap.
 * </ul>
 */
final class TaskOutputRow {

    static final int NUMBER = 18;

    private final BenchMain main;

    TaskOutputRow(BenchMain main) {
        this.main = main;
    }

    static String sizeLabel(long bytes) {
        return bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
    }

    /**
     * Whether the time left, less {@code reserve} (what the row's later parts need), covers one more round like the last
     * ({@code first} before any).
     */
    static boolean fits(BenchMain main, Duration reserve, long lastRoundNanos, Duration first) {
        Duration needed = lastRoundNanos == 0 ? first : Duration.ofNanos(lastRoundNanos * 13 / 10).plusSeconds(20);
        return main.left().minus(reserve).compareTo(needed) >= 0;
    }

    List<Report.Row> run() {
        List<String> details = new ArrayList<>();
        OutputPipelines pipelines = new OutputPipelines(main);
        OutputThroughput throughput = new OutputThroughput(main, pipelines);
        SlowReaderBeside beside = new SlowReaderBeside(main, pipelines);
        SmallTaskLogs small = new SmallTaskLogs(main);
        Duration reserve = small.budget();
        Properties heapEnd = null;
        String error = null;
        try (pipelines) {
            pipelines.open();
            main.progress("row 18: the SHA-256 of %s and %s of zeros (the digests every pipeline must print)",
                    sizeLabel(main.options().outputBytes()), sizeLabel(beside.size()));
            pipelines.zeroDigest(main.options().outputBytes());
            pipelines.zeroDigest(beside.size());
            try {
                pipelines.startHubAndNode(details);
                throughput.run(reserve);
                beside.run(reserve);
                heapEnd = main.heapAfterGc(pipelines.hub(), "r18-heap-end");
                details.add(pipelines.taskLogs());
            } finally {
                String gcPauses = pipelines.stopHubAndNode();
                if (gcPauses != null) {
                    details.add("hub 'task-output' over its whole life (warm-up included): " + gcPauses);
                }
            }
        } catch (Exception e) {
            error = BenchMain.describe(e);
        }
        return List.of(throughput.row(details, heapEnd, error), beside.row(error), small.run());
    }
}
