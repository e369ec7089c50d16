package dev.meshhub.bench.probe.impl;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;

import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;

/**
 * Benchmark row 1: one task at a time to one node; the latency of a task is from the call to
 * {@link TaskDispatcher#dispatch} to its result. No rate is offered (the next task goes as soon as
 * the last has ended), so there is no schedule that slow answers could hide.
 */
final class RoundTripMeasurement {

    /** Failures tolerated before the measurement gives up: one already makes the figures doubtful. */
    private static final int MAX_FAILURES = 10;

    private final TaskDispatcher dispatcher;
    private final String node;
    private final CommandSpec command;
    private final int warmup;
    private final int count;
    private final Duration timeout;

    RoundTripMeasurement(TaskDispatcher dispatcher, String node, CommandSpec command, int warmup, int count, Duration timeout) {
        this.dispatcher = dispatcher;
        this.node = node;
        this.command = command;
        this.warmup = warmup;
        this.count = count;
        this.timeout = timeout;
    }

    ResultFile run() throws InterruptedException {
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        // Part of it: until the task is journaled and handed to the node's stream.
        Histogram dispatched = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        int failures = 0;
        String firstFailure = "";
        long started = System.nanoTime();
        for (int i = 0; i < warmup + count && failures < MAX_FAILURES; i++) {
            long sent = System.nanoTime();
            String failure;
            try {
                TaskHandle handle = dispatcher.dispatch(node, command, TaskOutputListener.NONE);
                AtomicLong handedOver = new AtomicLong();
                handle.dispatched().thenRun(() -> handedOver.set(System.nanoTime()));
                TaskResult result = handle.result().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                long ended = System.nanoTime();
                if (result.state() == TaskState.SUCCEEDED) {
                    if (i >= warmup) {
                        latency.recordValue(ended - sent);
                        // dispatched() completes before the task is sent, so before its result.
                        if (handedOver.get() != 0) {
                            dispatched.recordValue(handedOver.get() - sent);
                        }
                    }
                    continue;
                }
                failure = "task ended " + result.state() + ": " + result.diagnostic();
            } catch (DispatchException e) {
                failure = "refused (" + e.reason() + "): " + e.getMessage();
            } catch (ExecutionException e) {
                failure = "failed: " + e.getCause();
            } catch (TimeoutException e) {
                failure = "no result within " + timeout.toMillis() + " ms";
            }
            if (failures++ == 0) {
                firstFailure = failure;
            }
        }
        ResultFile result = new ResultFile()
                .put("mode", ProbeConfiguration.MODE_ROUND_TRIP)
                .put("node", node)
                .put("warmup", warmup)
                .put("failures", failures)
                .put("firstFailure", firstFailure)
                .put("elapsedMs", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                .putLatency("latency.", latency)
                .putLatency("dispatched.", dispatched);
        return result.put("status", failures == 0 ? "ok" : "failed");
    }
}
