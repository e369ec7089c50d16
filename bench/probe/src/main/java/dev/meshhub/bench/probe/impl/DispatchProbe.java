package dev.meshhub.bench.probe.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskDispatcher;

/**
 * Runs one measurement each time its configuration names a new {@code run}, on a thread of its own,
 * and writes the figures to the configured file.
 *
 * <p>It owns a thread, which a meshhub component otherwise leaves to the scheduler bundle: a
 * measurement has to block (one task at a time) and pace itself to the nanosecond, which no shared
 * executor should be asked to do. The thread is ended on deactivation.
 */
@Component(configurationPid = ProbeConfiguration.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ProbeConfiguration.class)
public class DispatchProbe {

    private static final Logger LOG = LoggerFactory.getLogger(DispatchProbe.class);

    @Reference
    private TaskDispatcher dispatcher;

    /** Only the lock churn needs it; the probe runs without (a hub without the locks bundle). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LockRegistry locks;

    private Path home;
    private String currentRun;
    private Thread measuring;

    @Activate
    void activate(ProbeConfiguration config, BundleContext context) {
        home = Path.of(Optional.ofNullable(context.getProperty("meshhub.home")).orElse(System.getProperty("user.dir")));
        configure(config);
    }

    @Modified
    synchronized void configure(ProbeConfiguration config) {
        Plan plan = Plan.of(config);
        if (plan.run.equals(currentRun)) {
            return;
        }
        Path output = home.resolve(plan.output).normalize();
        if (Files.exists(output)) {
            // Configuration delivered again (a restart of this bundle): that run is done.
            LOG.info("benchmark run {} already has its result in {}; not run again", plan.run, output);
            currentRun = plan.run;
            return;
        }
        stopMeasuring();
        currentRun = plan.run;
        measuring = new Thread(() -> measure(plan, output), "meshhub-bench-probe-" + plan.run);
        measuring.setDaemon(true);
        measuring.start();
    }

    @Deactivate
    synchronized void deactivate() {
        stopMeasuring();
    }

    private void stopMeasuring() {
        Thread previous = measuring;
        measuring = null;
        if (previous != null && previous.isAlive()) {
            previous.interrupt();
            try {
                previous.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void measure(Plan plan, Path output) {
        LOG.info("benchmark run {} started: {}{}, figures to {}", plan.run, plan.mode,
                plan.nodes.length == 0 ? "" : " on " + plan.nodes.length + " node(s)", output);
        ResultFile result;
        try {
            CommandSpec command = Payload.echo(plan.payloadBytes, plan.taskTimeout);
            result = switch (plan.mode) {
                case ProbeConfiguration.MODE_ROUND_TRIP -> new RoundTripMeasurement(dispatcher, plan.nodes[0], command,
                        plan.warmup, plan.count, plan.taskTimeout).run();
                case ProbeConfiguration.MODE_HEAP -> new HeapMeasurement(plan.heapReadings).run();
                case ProbeConfiguration.MODE_LOCK_CHURN -> {
                    LockRegistry registry = locks;
                    if (registry == null) {
                        yield new ResultFile().put("status", "error").put("error", "no LockRegistry service is running"
                                + " (bundle dev.meshhub.locks)");
                    }
                    yield new LockChurn(registry, plan.churn.count(), plan.churn.keys(), plan.churn.ttl(), plan.churn.leakEvery(),
                            plan.churn.leakTtl()).run();
                }
                default -> new RateSweep(dispatcher, plan.nodes, command, new RateSweep.Plan(plan.rates, plan.step,
                        plan.stepWarmup, plan.minRecorded, plan.p99LimitMs, RateSweep.DRAIN, plan.sweepWarmupTasks, plan.sweepWarmup,
                        RateSweep.SETTLE)).run();
            };
        } catch (InterruptedException e) {
            LOG.info("benchmark run {} stopped before it ended", plan.run);
            return;
        } catch (Throwable t) {
            LOG.warn("benchmark run {} failed", plan.run, t);
            result = new ResultFile().put("status", "error").put("error", t.toString());
        }
        result.put("run", plan.run).put("payloadBytes", plan.payloadBytes);
        try {
            result.writeTo(output);
            LOG.info("benchmark run {} ended ({}); figures in {}", plan.run, result.get("status"), output);
        } catch (IOException e) {
            LOG.warn("benchmark run {}: cannot write {}", plan.run, output, e);
        }
    }

    /** The lock churn's part of a configuration. */
    record Churn(int count, int keys, Duration ttl, int leakEvery, Duration leakTtl) {
    }

    /** A checked configuration. */
    record Plan(String run, String mode, String[] nodes, String output, int warmup, int count, List<Integer> rates,
            Duration step, Duration stepWarmup, int minRecorded, double p99LimitMs, int payloadBytes, Duration taskTimeout,
            int sweepWarmupTasks, Duration sweepWarmup, int heapReadings, Churn churn) {

        /** @throws IllegalArgumentException naming the key and what it accepts */
        static Plan of(ProbeConfiguration config) {
            String run = require("run", config.run());
            String mode = config.mode().trim();
            boolean dispatching = mode.equals(ProbeConfiguration.MODE_ROUND_TRIP) || mode.equals(ProbeConfiguration.MODE_RATE_SWEEP);
            if (!dispatching && !mode.equals(ProbeConfiguration.MODE_HEAP) && !mode.equals(ProbeConfiguration.MODE_LOCK_CHURN)) {
                throw new IllegalArgumentException("mode must be " + ProbeConfiguration.MODE_ROUND_TRIP + ", "
                        + ProbeConfiguration.MODE_RATE_SWEEP + ", " + ProbeConfiguration.MODE_HEAP + " or "
                        + ProbeConfiguration.MODE_LOCK_CHURN + ", got '" + mode + "'");
            }
            String[] nodes = Arrays.stream((dispatching ? require("nodes", config.nodes()) : config.nodes() == null ? "" : config.nodes())
                    .split(",")).map(String::trim).filter(n -> !n.isEmpty()).toArray(String[]::new);
            List<Integer> rates = new ArrayList<>();
            for (String rate : config.rates().split(",")) {
                if (!rate.isBlank()) {
                    int value = Integer.parseInt(rate.trim());
                    if (value < 1 || (!rates.isEmpty() && value <= rates.get(rates.size() - 1))) {
                        throw new IllegalArgumentException("rates must be positive and rising, got '" + config.rates() + "'");
                    }
                    rates.add(value);
                }
            }
            positive("warmup", config.warmup() + 1);
            positive("count", config.count());
            positive("stepMs", config.stepMs());
            positive("stepWarmupMs", config.stepWarmupMs() + 1);
            positive("payloadBytes", config.payloadBytes());
            positive("minRecorded", config.minRecorded());
            positive("sweepWarmupTasks", config.sweepWarmupTasks() + 1);
            positive("sweepWarmupMs", config.sweepWarmupMs() + 1);
            positive("taskTimeoutMs", config.taskTimeoutMs());
            positive("heapReadings", config.heapReadings());
            positive("churnCount", config.churnCount());
            positive("churnKeys", config.churnKeys());
            positive("churnTtlMs", config.churnTtlMs());
            positive("churnLeakEvery", config.churnLeakEvery() + 1);
            positive("churnLeakTtlMs", config.churnLeakTtlMs());
            if (rates.isEmpty() || !(config.p99LimitMs() > 0)) {
                throw new IllegalArgumentException("rates and p99LimitMs must be given");
            }
            return new Plan(run, mode, nodes, require("output", config.output()), config.warmup(), config.count(), rates,
                    Duration.ofMillis(config.stepMs()), Duration.ofMillis(config.stepWarmupMs()), config.minRecorded(), config.p99LimitMs(),
                    config.payloadBytes(), Duration.ofMillis(config.taskTimeoutMs()), config.sweepWarmupTasks(),
                    Duration.ofMillis(config.sweepWarmupMs()), config.heapReadings(),
                    new Churn(config.churnCount(), config.churnKeys(), Duration.ofMillis(config.churnTtlMs()), config.churnLeakEvery(),
                            Duration.ofMillis(config.churnLeakTtlMs())));
        }

        private static String require(String key, String value) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(key + " must be set");
            }
            return value.trim();
        }

        private static void positive(String key, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(key + " is out of range");
            }
        }
    }
}
