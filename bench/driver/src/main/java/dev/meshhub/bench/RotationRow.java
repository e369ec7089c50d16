package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.meshhub.proto.v1.HubTrustInfo;

/**
 * Extra row 15: a CA rotation with 100 connected simulated nodes (issue 10, "report how long a rotation takes for
 * 100 nodes"): from {@code RotateCa} to the old CA retired, every node renewing over its open stream
 * when the hub asks. Baseline in the same run and hub: the same 100 renewals fired at once without a
 * rotation (what issuing 100 certificates costs). The hub notices renewals on a one-second tick, so
 * the goal allows the baseline plus two ticks.
 */
final class RotationRow {

    /** An extra row (not in BENCHMARKS.md), asked for as {@code --rows 15}. */
    static final int NUMBER = 15;
    static final int NODES = 100;
    static final String GOAL = "old CA retired within the renewal baseline + 2 s (two ticks of the hub's rotation step)";

    private final BenchMain main;

    RotationRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        try {
            phase = main.launchHub("rotation", null, java.util.Map.of());
            main.prepareHub(phase, NODES);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'rotation' did not start: " + phase.startError);
            }
            phase.fleet.connect(NODES, main.within(Duration.ofSeconds(120)));
            HubAdmin admin = phase.hub.admin();

            main.progress("rotation: baseline, %d renewals at once without a rotation", NODES);
            long baseline = renewAll(phase.fleet, main.within(Duration.ofSeconds(60)));

            main.progress("rotation: meshctl ca rotate with %d connected nodes", NODES);
            long started = System.nanoTime();
            HubTrustInfo trust = admin.rotateCa(false);
            String oldPin = trust.getCaPin();
            String newPin = trust.getRotation().getNewCaPin();
            long deadline = System.nanoTime() + main.within(Duration.ofSeconds(120)).toNanos();
            while (trust.hasRotation()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the old CA was not retired within 120 s: " + trust.getRotation());
                }
                Thread.sleep(20);
                trust = admin.trust();
            }
            long rotation = System.nanoTime() - started;
            if (!trust.getCaPin().equals(newPin)) {
                throw new IllegalStateException("after the rotation the hub serves with " + trust.getCaPin() + ", not " + newPin);
            }
            long open = phase.fleet.connect(NODES, Duration.ofSeconds(10)).size();
            String ended = phase.fleet.firstEnded();
            if (!"all streams open".equals(ended)) {
                throw new IllegalStateException("a stream ended during the rotation: " + ended);
            }
            details.add(String.format(Locale.ROOT, "%d simulated nodes (driver JVM), each with its own TLS connection and certificate;"
                    + " %d still connected afterwards, no stream ended; old CA %s..., new CA %s...", NODES, open,
                    oldPin.substring(0, 15), newPin.substring(0, 15)));
            details.add(String.format(Locale.ROOT, "rotation: RotateCa answered, every node told over its stream, %d renewals,"
                    + " old CA retired: %.0f ms; baseline: %d renewals at once, no rotation: %.0f ms", NODES, rotation / 1e6, NODES,
                    baseline / 1e6));
            double ratio = (double) rotation / baseline;
            boolean pass = rotation <= baseline + Duration.ofSeconds(2).toNanos();
            return new Report.Row(NUMBER, "CA rotation, " + NODES + " connected nodes", String.format(Locale.ROOT, "%.2f s", rotation / 1e9),
                    String.format(Locale.ROOT, "%.2f s (%d renewals, no rotation)", baseline / 1e9, NODES), Report.ratio(ratio), GOAL,
                    pass ? Report.PASS : Report.MISS, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, "CA rotation, " + NODES + " connected nodes", GOAL, BenchMain.describe(e), details);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    /** Every node renews at once; nanoseconds until the hub answered them all. */
    private static long renewAll(SimulatedFleet fleet, Duration timeout) throws InterruptedException {
        List<Long> before = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            before.add(fleet.node(i).renewed());
        }
        long started = System.nanoTime();
        for (int i = 0; i < NODES; i++) {
            fleet.node(i).renew();
        }
        long deadline = started + timeout.toNanos();
        for (int i = 0; i < NODES; i++) {
            while (fleet.node(i).renewed() == before.get(i)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("node " + fleet.node(i).name() + " did not renew within " + timeout.toSeconds()
                            + " s: " + fleet.firstEnded());
                }
                Thread.sleep(1);
            }
        }
        return System.nanoTime() - started;
    }
}
