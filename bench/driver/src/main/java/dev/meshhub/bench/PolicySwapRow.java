package dev.meshhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.meshhub.proto.v1.SandboxPolicy;

/**
 * Row 7, policy hot swap: 1,000 connected nodes, 100 tasks/s spread over them (the probe, open loop),
 * and an admin's hot swap as README describes it: the file policy bundle dropped into {@code deploy/},
 * which takes over from the default policy. Measured: from the drop until every node has received the
 * new policy over its open stream; streams dropped; tasks failed or refused. Baseline in the same run:
 * a new version of an unrelated leaf bundle (the JSON Lines monitor example) dropped into
 * {@code deploy/} under the same load.
 */
final class PolicySwapRow {

    static final int NUMBER = 7;
    static final String NAME = "policy hot swap, 1,000 nodes at 100 tasks/s";
    static final String GOAL = "0 streams dropped, 0 tasks lost, new policy in force on every node < 1 s";
    static final int NODES = 1000;
    static final int RATE = 100;
    /** The load runs this long; the drop happens after {@link #DROP_AFTER}. */
    private static final Duration LOAD = Duration.ofSeconds(12);
    private static final Duration DROP_AFTER = Duration.ofSeconds(4);
    /** What the file policy allows every node: different from the default list, and still the probe's echo. */
    private static final List<String> NEW_ALLOWLIST = List.of("echo", "true");

    private final BenchMain main;

    PolicySwapRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        SilentLoad silent = null;
        try (Fleet fleet = new Fleet()) {
            Path policyJar = bundleJar("policy-file-example");
            Path leafJar = bundleJar("monitor-jsonl-example");
            phase = main.launchHub("policy-swap", null, Map.of("MESHHUB_TRANSPORT_MAX_PENDING_TASKS_PER_NODE", "100000"),
                    FleetMemoryRow.HEAP);
            main.prepareHub(phase, 0);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'policy-swap' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            fleet.enroll(hub, "swap", NODES, main.within(Duration.ofSeconds(240)), main::progress);
            main.progress("policy swap: connecting %,d nodes", NODES);
            fleet.connect(FleetTarget.hub(hub, 5000), 0, NODES, FleetMemoryRow.IN_FLIGHT, () -> hub.admin().connectedCount(),
                    main.within(Duration.ofSeconds(120)));
            Files.writeString(hub.home().resolve("etc/node-allowlists.properties"), "# written by the benchmark driver (row 7)\n* = "
                    + String.join(", ", NEW_ALLOWLIST) + "\n");
            Path leaf = hub.home().resolve("deploy/monitor-jsonl-example.jar");
            copy(leafJar, leaf);
            Thread.sleep(3000);
            // 3% misbehave from now on; the figures are the well-behaved nodes'; the silent ones get tasks of their own.
            fleet.misbehave(NODES);
            List<FleetNode> well = fleet.wellBehaved(NODES);
            List<String> names = well.stream().map(FleetNode::name).toList();
            silent = SilentLoad.start(hub, fleet, NODES);
            Thread.sleep(1000);
            fleet.takeReasons();

            main.progress("policy swap: baseline, a new version of an unrelated leaf bundle under load");
            FleetLoad.Window baseline = FleetLoad.run(main, hub, names, "r7-baseline", RATE, LOAD, DROP_AFTER, () -> copy(leafJar, leaf));
            List<String> baselineReasons = fleet.takeReasons();
            details.add("baseline (" + leaf.getFileName() + " replaced in deploy/ " + DROP_AFTER.toSeconds() + " s into the load): "
                    + baseline.describe() + "; streams lost: " + (baselineReasons.isEmpty() ? "none" : baselineReasons));

            main.progress("policy swap: the file policy bundle dropped into deploy/ under load");
            long[] dropped = {0};
            FleetLoad.Window swap = FleetLoad.run(main, hub, names, "r7-swap", RATE, LOAD, DROP_AFTER, () -> {
                dropped[0] = System.nanoTime();
                copy(policyJar, hub.home().resolve("deploy/policy-file-example.jar"));
            });
            long inForce = awaitNewPolicy(well, dropped[0], Duration.ofSeconds(10));
            List<String> swapReasons = fleet.takeReasons();
            java.util.Set<String> listed = hub.admin().connectedNodes();
            long wellListed = names.stream().filter(listed::contains).count();
            details.add("swap: " + swap.describe() + "; streams lost: " + (swapReasons.isEmpty() ? "none" : swapReasons)
                    + String.format(Locale.ROOT, "; %,d of %,d nodes listed connected afterwards, %,d of the %,d well-behaved",
                            listed.size(), NODES, wellListed, names.size()));
            details.add(inForce < 0 ? "the new policy did not reach every well-behaved node within 10 s: " + missing(well)
                    : String.format(Locale.ROOT, "the new policy (STRICT, %s) on all %,d well-behaved nodes %.0f ms after the drop"
                            + " (FileInstall polls deploy/ every 250 ms; the slowest node's push arrival)", NEW_ALLOWLIST, names.size(),
                            inForce / 1e6));
            details.add("misbehaving nodes, beside the " + names.size() + " the load and figures use: " + fleet.misbehaviour(NODES)
                    + "; " + silent.describe());
            boolean dropped0 = swapReasons.isEmpty() && baselineReasons.isEmpty() && wellListed == names.size();
            boolean lost0 = swap.lost() == 0 && baseline.lost() == 0;
            boolean pass = dropped0 && lost0 && inForce >= 0 && inForce < Duration.ofSeconds(1).toNanos();
            String measured = (inForce < 0 ? "new policy not on every node within 10 s" : String.format(Locale.ROOT,
                    "new policy on every node %.0f ms after the drop", inForce / 1e6)) + String.format(Locale.ROOT,
                    "; %d streams dropped, %d tasks lost; dispatch p99 %s", swapReasons.isEmpty() ? 0 : swapReasons.size(), swap.lost(),
                    Report.millis(swap.p99Ns()));
            return new Report.Row(NUMBER, NAME, measured, String.format(Locale.ROOT, "unrelated leaf bundle updated: %d tasks lost,"
                    + " dispatch p99 %s", baseline.lost(), Report.millis(baseline.p99Ns())), Report.ratio(swap.p99Ns() / (double) baseline.p99Ns())
                    + " (p99)", GOAL, pass ? Report.PASS : Report.MISS, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, BenchMain.describe(e), details);
        } finally {
            if (silent != null) {
                silent.close();
            }
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    /** Nanoseconds from {@code since} until every one of {@code nodes} holds a policy with the new allowlist, or -1 after {@code timeout}. */
    private static long awaitNewPolicy(List<FleetNode> nodes, long since, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long latest = 0;
            boolean all = true;
            for (FleetNode node : nodes) {
                SandboxPolicy policy = node.policy();
                if (policy == null || !policy.getAllowedExecutablesList().equals(NEW_ALLOWLIST)) {
                    all = false;
                    break;
                }
                latest = Math.max(latest, node.policyNanos());
            }
            if (all) {
                return latest - since;
            }
            Thread.sleep(20);
        }
        return -1;
    }

    private static String missing(List<FleetNode> nodes) {
        long without = nodes.stream().filter(n -> n.policy() == null
                || !n.policy().getAllowedExecutablesList().equals(NEW_ALLOWLIST)).count();
        return without + " node(s) without it";
    }

    private Path bundleJar(String module) throws IOException {
        Path target = main.options().root().resolve("bundles").resolve(module).resolve("target");
        try (var files = Files.list(target)) {
            return files.filter(f -> f.getFileName().toString().matches(java.util.regex.Pattern.quote(module) + "-[0-9].*\\.jar")
                    && !f.getFileName().toString().contains("sources")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no " + module + " jar in " + target + "; build it first"));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalStateException("no " + target + "; build the project first (./mvnw -q install -DskipTests)", e);
        }
    }

    /** Copies a bundle into deploy/ in one step (FileInstall must never read half a jar), with a new modification time. */
    private static void copy(Path jar, Path into) throws IOException {
        Path temporary = into.resolveSibling(into.getFileName() + ".part");
        Files.copy(jar, temporary, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(temporary, FileTime.from(Instant.now()));
        Files.move(temporary, into, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
