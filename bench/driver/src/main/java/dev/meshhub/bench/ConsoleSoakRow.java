package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Extra row 17 (issue 13's "a console left open for an hour (no memory growth on the hub from its
 * refreshes)"): a signed-in console refreshes its view every 2 s, 1,800 times an hour. The row makes
 * that hour's refreshes of every view (nodes, tasks, transfers, locks, management tasks, the audit
 * trail) back to back on one session, with 100 nodes connected, and compares the hub's heap after GC
 * before and after. Goal: within 5% (and 2 MiB) of before.
 */
final class ConsoleSoakRow {

    static final int NUMBER = 17;
    static final String NAME = "console left open an hour";
    static final String GOAL = "hub heap after GC after an hour's refreshes within 5% (or 2 MiB) of before";
    private static final int REFRESHES = 1800;
    private static final int NODES = 100;
    private static final List<String> VIEWS = List.of("nodes?limit=100", "tasks?limit=100", "transfers", "locks", "management",
            "audit?limit=100");

    private final BenchMain main;

    ConsoleSoakRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        try {
            phase = main.launchHub("console-soak", null, Map.of());
            main.prepareHub(phase, NODES);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'console-soak' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            phase.fleet.connect(NODES, main.within(Duration.ofSeconds(60)));
            ConsoleTimings console = new ConsoleTimings(hub).signIn();
            for (String view : VIEWS) {
                console.get(view); // warm
            }
            long before = heap(main.heapAfterGc(hub, "r17-before"));
            List<Double> millis = new ArrayList<>();
            long started = System.nanoTime();
            for (int i = 0; i < REFRESHES; i++) {
                if (i % 300 == 0) {
                    main.progress("row 17: refresh %,d of %,d (every view each time)", i, REFRESHES);
                }
                for (String view : VIEWS) {
                    millis.add(console.get(view));
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            long after = heap(main.heapAfterGc(hub, "r17-after"));
            Spread spread = Spread.of(millis);
            double ratio = after / (double) before;
            details.add(String.format(Locale.ROOT, "workload: one hub as shipped (the probe deployed), %d simulated nodes connected; one"
                    + " signed-in console session (cookie) refreshing all %d views %,d times (an hour at the page's 2 s) back to back"
                    + " in %.0f s: %,d requests, %.1f ms median, %.1f ms at most", NODES, VIEWS.size(), REFRESHES, seconds, millis.size(),
                    spread.median(), spread.max()));
            details.add(String.format(Locale.ROOT, "hub heap after GC: %.1f MiB before, %.1f MiB after (%+.1f MiB); %s", before / 1048576.0,
                    after / 1048576.0, (after - before) / 1048576.0, hub.gcPauses()));
            boolean pass = ratio <= 1.05 || after - before <= 2L * 1024 * 1024;
            return new Report.Row(NUMBER, NAME, String.format(Locale.ROOT, "hub heap after GC %.1f MiB after %,d refreshes of every view",
                    after / 1048576.0, REFRESHES), String.format(Locale.ROOT, "%.1f MiB before", before / 1048576.0), Report.ratio(ratio),
                    GOAL, pass ? Report.PASS : Report.MISS, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, BenchMain.describe(e), details);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    private static long heap(Properties reading) {
        return Long.parseLong(reading.getProperty("heap.usedAfterGcBytes"));
    }
}
