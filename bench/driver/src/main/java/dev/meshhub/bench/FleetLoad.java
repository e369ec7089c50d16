package dev.meshhub.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A window of steady load on a fleet (rows 3 and 7): the probe in the hub's JVM dispatches {@code echo}
 * at a fixed rate, open loop, round robin over the fleet's nodes, for a while; something the row
 * does (a bundle dropped in, a database stall) happens at a set moment inside the window.
 */
final class FleetLoad {

    private FleetLoad() {
    }

    /** What happens inside the window. */
    @FunctionalInterface
    interface Event {
        void run() throws Exception;
    }

    /** One window's figures, from the probe. */
    record Window(int rate, long sent, long failed, long refused, String firstFailure, long p50Ns, long p99Ns, long maxNs) {
        long lost() {
            return failed + refused;
        }

        String describe() {
            return String.format(Locale.ROOT, "%,d tasks sent at %d/s, %d failed, %d refused%s; p50 %s, p99 %s, max %s", sent, rate, failed,
                    refused, firstFailure.isEmpty() ? "" : " (first: " + firstFailure + ")", Report.millis(p50Ns), Report.millis(p99Ns),
                    Report.millis(maxNs));
        }
    }

    /** Runs one window of {@code length} at {@code rate} tasks/s over {@code nodes}, with {@code event} done {@code eventAfter} into it. */
    static Window run(BenchMain main, HubInstance hub, List<String> nodes, String run, int rate, Duration length, Duration eventAfter,
            Event event) throws Exception {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("run", run);
        config.put("mode", "sweep");
        config.put("nodes", String.join(",", nodes));
        config.put("rates", Integer.toString(rate));
        config.put("stepMs", Long.toString(length.toMillis()));
        config.put("stepWarmupMs", "1");
        config.put("minRecorded", "1");
        config.put("sweepWarmupTasks", "0");
        config.put("sweepWarmupMs", "0");
        config.put("p99LimitMs", "1000");
        config.put("payloadBytes", Integer.toString(BenchMain.PAYLOAD_BYTES));
        config.put("output", "data/bench/" + run + ".properties");
        Exception[] failed = {null};
        Thread trigger = new Thread(() -> {
            try {
                Thread.sleep(eventAfter.toMillis());
                event.run();
            } catch (Exception e) {
                failed[0] = e;
            }
        }, "bench-load-event");
        hub.configure(BenchMain.PROBE_PID, config);
        trigger.start();
        Properties result = hub.awaitProperties(config.get("output"), main.within(length.plusSeconds(60)));
        trigger.join();
        if (failed[0] != null) {
            throw new IllegalStateException("the event inside load window " + run + " failed: " + BenchMain.describe(failed[0]), failed[0]);
        }
        if (!"ok".equals(result.getProperty("status"))) {
            throw new IllegalStateException("probe run " + run + " ended " + result.getProperty("status") + ": "
                    + result.getProperty("error", ""));
        }
        return new Window(rate, number(result, "step.0.sent"), number(result, "step.0.failed"), number(result, "step.0.refused"),
                result.getProperty("step.0.firstFailure", ""), number(result, "step.0.latency.p50Ns"), number(result, "step.0.latency.p99Ns"),
                number(result, "step.0.latency.maxNs"));
    }

    private static long number(Properties result, String key) {
        return Long.parseLong(result.getProperty(key, "0"));
    }
}
