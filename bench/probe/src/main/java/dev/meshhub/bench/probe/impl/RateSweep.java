package dev.meshhub.bench.probe.impl;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskState;

/**
 * Benchmark row 2: tasks offered open loop at fixed, rising rates, spread round robin over the
 * nodes, until a rate fails; then one rate between the last that passed and the first that failed
 * (a factor of about 1.4 instead of 2). The result is the highest rate that passed.
 *
 * <p>Each task has an intended send time on a fixed schedule, and its latency is measured from that
 * time, not from when the sender got to it: when the hub (or this sender) falls behind, the delay
 * shows in the figures instead of thinning out the offered load (no coordinated omission).
 *
 * <p>A rate whose only fault is a p99 over the limit is offered a second time before it counts as
 * failed: on a shared machine one scheduling hiccup can put a handful of tasks over 10 ms, and a
 * sweep that ends there measures the neighbours, not the hub. Both tries are reported.
 */
final class RateSweep {

    /** How long the tasks of one rate may take to end once it has been offered (the probe's setting). */
    static final Duration DRAIN = Duration.ofSeconds(20);
    /** Pause between rates, so the journal finishes the last one's state changes; twice as long after a failed rate. */
    static final Duration SETTLE = Duration.ofMillis(500);
    /** Least backlog that ends a rate early; see {@link #step}. */
    private static final int MIN_BACKLOG_LIMIT = 64;
    /** A rate is recorded at most this many times its configured step, however few tasks that makes. */
    private static final int MAX_STEP_STRETCH = 4;

    /**
     * How to sweep.
     *
     * @param rates       offered rates in tasks/s, rising
     * @param step        how long each rate is recorded, at least
     * @param stepWarmup  how long each rate is offered before recording starts
     * @param minRecorded tasks each rate should record at least, so that its p99 rests on enough
     *                    samples: a low rate is recorded longer (at most {@value #MAX_STEP_STRETCH}
     *                    times {@code step})
     * @param p99LimitMs  a rate passes while its p99 is at most this
     * @param drain       how long the tasks of a rate may take to end once it has been offered
     * @param warmupTasks tasks run before the first rate, unrecorded, one in flight per node (closed loop,
     *                    so a slow hub is warmed up without being overloaded); 0 for none
     * @param warmupTime  the warm-up ends after this long even if not all its tasks have run
     * @param settle      pause between rates ({@link #SETTLE}; twice as long after a failed rate)
     */
    record Plan(List<Integer> rates, Duration step, Duration stepWarmup, int minRecorded, double p99LimitMs, Duration drain,
            int warmupTasks, Duration warmupTime, Duration settle) {
        Plan {
            rates = List.copyOf(rates);
        }

        Duration recordedFor(int rate) {
            long forCount = (long) Math.ceil(minRecorded * 1000.0 / rate);
            long millis = Math.min(Math.max(step.toMillis(), forCount), step.toMillis() * MAX_STEP_STRETCH);
            return Duration.ofMillis(millis);
        }
    }

    private final TaskDispatcher dispatcher;
    private final String[] nodes;
    private final CommandSpec command;
    private final Plan plan;

    RateSweep(TaskDispatcher dispatcher, String[] nodes, CommandSpec command, Plan plan) {
        this.dispatcher = dispatcher;
        this.nodes = nodes.clone();
        this.command = command;
        this.plan = plan;
    }

    ResultFile run() throws InterruptedException {
        ResultFile result = new ResultFile().put("mode", ProbeConfiguration.MODE_RATE_SWEEP)
                .put("nodes", nodes.length)
                .put("p99LimitMs", plan.p99LimitMs())
                .put("stepMs", plan.step().toMillis())
                .put("stepWarmupMs", plan.stepWarmup().toMillis())
                .put("minRecorded", plan.minRecorded());
        long warmedUp = warmUp();
        result.put("warmupTasks", warmedUp);
        if (warmedUp > 0) {
            Thread.sleep(plan.settle().multipliedBy(2).toMillis());
        }
        List<Step> steps = new ArrayList<>();
        int passed = 0;
        int failed = 0;
        for (int rate : plan.rates()) {
            if (offer(rate, steps)) {
                passed = rate;
            } else {
                failed = rate;
                break;
            }
        }
        boolean healthy = steps.stream().allMatch(s -> s.drained);
        if (healthy && passed > 0 && failed > 0) {
            int between = (int) Math.round(Math.sqrt((double) passed * failed));
            if (between > passed && between < failed && offer(between, steps)) {
                passed = between;
            }
        }
        // For context only: how far past the p99 limit the hub still keeps up (p50 within the limit,
        // no backlog). This tells a hub whose tail is too long from one that is saturated.
        if (failed > 0 && steps.get(steps.size() - 1).drained) {
            for (int rate : plan.rates()) {
                if (rate <= failed) {
                    continue;
                }
                settleAfter(steps);
                Step s = step(rate, false);
                s.capacityOnly = true;
                steps.add(s);
                if (!s.keepsUp()) {
                    break;
                }
            }
        }
        int keptUp = steps.stream().filter(Step::keepsUp).mapToInt(s -> s.rate).max().orElse(0);
        for (int i = 0; i < steps.size(); i++) {
            steps.get(i).writeTo(result, "step." + i + ".");
        }
        return result.put("steps", steps.size())
                .put("highestPassingRate", passed)
                .put("highestRateKeptUp", keptUp)
                .put("allPassed", failed == 0)
                .put("status", "ok");
    }

    /**
     * Runs the warm-up tasks, one in flight per node: the first rates should not pay for class
     * loading and compilation in the hub, which a hub that ran nothing yet would charge them.
     *
     * @return how many tasks ended
     */
    private long warmUp() throws InterruptedException {
        if (plan.warmupTasks() == 0) {
            return 0;
        }
        Semaphore inFlight = new Semaphore(nodes.length);
        AtomicLong ended = new AtomicLong();
        long deadline = System.nanoTime() + plan.warmupTime().toNanos();
        for (int i = 0; i < plan.warmupTasks(); i++) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !inFlight.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break;
            }
            try {
                dispatcher.dispatch(nodes[i % nodes.length], command, TaskOutputListener.NONE).result()
                        .whenComplete((result, failure) -> {
                            ended.incrementAndGet();
                            inFlight.release();
                        });
            } catch (DispatchException e) {
                inFlight.release();
            }
        }
        // Let what is in flight end before the first rate.
        inFlight.tryAcquire(nodes.length, plan.drain().toMillis(), TimeUnit.MILLISECONDS);
        return ended.get();
    }

    /** Offers a rate, and once more if it failed on its p99 alone; whether it passed. */
    private boolean offer(int rate, List<Step> steps) throws InterruptedException {
        settleAfter(steps);
        Step first = step(rate, false);
        steps.add(first);
        if (first.passed() || !first.onlyLatencyFailed()) {
            return first.passed();
        }
        settleAfter(steps);
        Step second = step(rate, true);
        steps.add(second);
        return second.passed();
    }

    private void settleAfter(List<Step> steps) throws InterruptedException {
        if (!steps.isEmpty()) {
            Thread.sleep(plan.settle().multipliedBy(steps.get(steps.size() - 1).passed() ? 1 : 2).toMillis());
        }
    }

    /**
     * Offers one rate: {@code stepWarmup} unrecorded, then {@link Plan#recordedFor} recorded, then
     * waits for every task to end.
     *
     * <p>The rate is ended early when more than half a second's worth of tasks (at least
     * {@value #MIN_BACKLOG_LIMIT}) is unfinished: of those, all but the last 10 ms' worth are already
     * older than 10 ms, and the offered total is at most a few seconds' worth, so well over 1% of the
     * tasks are late: the p99 is over the limit whatever happens next. Waiting would only pile more
     * work on a hub that cannot keep up.
     */
    private Step step(int rate, boolean retry) throws InterruptedException {
        Step s = new Step(rate, retry, (long) (plan.p99LimitMs() * 1e6), plan.drain());
        double period = 1e9 / rate;
        long backlogLimit = Math.max(MIN_BACKLOG_LIMIT, rate / 2);
        long writerBefore = CpuClock.writerNanos();
        long processBefore = CpuClock.processNanos();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1);
        long recordFrom = start + plan.stepWarmup().toNanos();
        long end = recordFrom + plan.recordedFor(rate).toNanos();
        for (long i = 0; ; i++) {
            long intended = start + (long) (i * period);
            if (intended >= end) {
                break;
            }
            long now = System.nanoTime();
            while (now < intended) {
                LockSupport.parkNanos(intended - now);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                now = System.nanoTime();
            }
            s.sendLag.recordValue(now - intended);
            boolean recorded = intended >= recordFrom;
            s.sent++;
            s.outstanding.incrementAndGet();
            try {
                dispatcher.dispatch(nodes[(int) (i % nodes.length)], command, TaskOutputListener.NONE).result()
                        .whenComplete((result, failure) -> {
                            long latency = System.nanoTime() - intended;
                            if (failure == null && result.state() == TaskState.SUCCEEDED) {
                                if (recorded) {
                                    s.latency.recordValue(latency);
                                }
                            } else {
                                s.failed.incrementAndGet();
                                s.firstFailure.compareAndSet(null, failure != null ? String.valueOf(failure)
                                        : "task ended " + result.state() + ": " + result.diagnostic());
                            }
                            s.outstanding.decrementAndGet();
                        });
            } catch (DispatchException e) {
                s.outstanding.decrementAndGet();
                s.refused++;
                s.firstFailure.compareAndSet(null, "refused (" + e.reason() + "): " + e.getMessage());
            }
            if (s.outstanding.get() > backlogLimit) {
                s.overloadedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                s.backlogAtStop = s.outstanding.get();
                break;
            }
        }
        long drainDeadline = System.nanoTime() + plan.drain().toNanos();
        while (s.outstanding.get() > 0 && System.nanoTime() < drainDeadline) {
            Thread.sleep(5);
        }
        s.drained = s.outstanding.get() == 0;
        long writerAfter = CpuClock.writerNanos();
        long processAfter = CpuClock.processNanos();
        s.writerCpuNanos = writerBefore < 0 || writerAfter < 0 ? -1 : writerAfter - writerBefore;
        s.processCpuNanos = processBefore < 0 || processAfter < 0 ? -1 : processAfter - processBefore;
        return s;
    }

    /** The figures of one offered rate. */
    private static final class Step {
        final int rate;
        final boolean retry;
        final long p99LimitNs;
        final Duration drain;
        final Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(120), 3);
        /** Written by the sender only. */
        final Histogram sendLag = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        final AtomicLong outstanding = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<String> firstFailure = new AtomicReference<>();
        long sent;
        long refused;
        long overloadedAfterMs = -1;
        long backlogAtStop;
        /** CPU the journal's writer thread and the whole hub JVM used from the rate's start until its tasks ended. */
        long writerCpuNanos = -1;
        long processCpuNanos = -1;
        boolean drained;
        /** Offered after the sweep's result was known, to see where the hub stops keeping up. */
        boolean capacityOnly;

        Step(int rate, boolean retry, long p99LimitNs, Duration drain) {
            this.rate = rate;
            this.retry = retry;
            this.p99LimitNs = p99LimitNs;
            this.drain = drain;
        }

        boolean passed() {
            return verdict().isEmpty();
        }

        /** Whether the hub kept up: every task ended well, no backlog, and the median within the limit. */
        boolean keepsUp() {
            return overloadedAfterMs < 0 && refused == 0 && failed.get() == 0 && drained && latency.getTotalCount() > 0
                    && latency.getValueAtPercentile(50) <= p99LimitNs;
        }

        boolean onlyLatencyFailed() {
            return overloadedAfterMs < 0 && refused == 0 && failed.get() == 0 && drained && latency.getTotalCount() > 0
                    && latency.getValueAtPercentile(99) > p99LimitNs;
        }

        /** Why the rate failed, or "" when it passed. */
        String verdict() {
            if (overloadedAfterMs >= 0) {
                return "backlog of " + backlogAtStop + " unfinished tasks after " + overloadedAfterMs
                        + " ms: the hub does not keep up, p99 is over the limit";
            }
            if (refused > 0) {
                return refused + " task(s) refused";
            }
            if (failed.get() > 0) {
                return failed.get() + " task(s) failed";
            }
            if (!drained) {
                return "tasks still unfinished " + drain.toMillis() + " ms after the rate ended";
            }
            if (latency.getTotalCount() == 0) {
                return "nothing recorded";
            }
            if (latency.getValueAtPercentile(99) > p99LimitNs) {
                return "p99 over the limit";
            }
            return "";
        }

        void writeTo(ResultFile result, String prefix) {
            result.put(prefix + "rate", rate)
                    .put(prefix + "retry", retry)
                    .put(prefix + "capacityOnly", capacityOnly)
                    .put(prefix + "keptUp", keepsUp())
                    .put(prefix + "passed", passed())
                    .put(prefix + "verdict", verdict())
                    .put(prefix + "sent", sent)
                    .put(prefix + "refused", refused)
                    .put(prefix + "failed", failed.get())
                    .put(prefix + "firstFailure", firstFailure.get() == null ? "" : firstFailure.get())
                    .put(prefix + "drained", drained)
                    .put(prefix + "overloadedAfterMs", overloadedAfterMs)
                    .put(prefix + "writerCpuNanos", writerCpuNanos)
                    .put(prefix + "processCpuNanos", processCpuNanos)
                    .putLatency(prefix + "latency.", latency)
                    .putLatency(prefix + "sendLag.", sendLag);
        }
    }
}
