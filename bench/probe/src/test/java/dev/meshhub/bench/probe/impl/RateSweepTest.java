package dev.meshhub.bench.probe.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;

/** The sweep's verdicts against a dispatcher that answers at once, refuses, or never answers (short steps). */
public class RateSweepTest {

    private static final CommandSpec ECHO = Payload.echo(64, Duration.ofSeconds(5));
    private static final Duration SETTLE = Duration.ofMillis(10);

    @Test
    public void aDispatcherThatAnswersAtOncePassesEveryRate() throws InterruptedException {
        AtomicInteger dispatched = new AtomicInteger();
        TaskDispatcher instant = dispatcher((node, id) -> {
            dispatched.incrementAndGet();
            return CompletableFuture.completedFuture(new TaskResult(id, node, TaskState.SUCCEEDED, 0, ""));
        });
        ResultFile result = sweep(instant, List.of(100, 200)).run();
        assertEquals("200", result.get("highestPassingRate"));
        assertEquals("200", result.get("highestRateKeptUp"));
        assertEquals("true", result.get("allPassed"));
        assertEquals("2", result.get("steps"));
        assertTrue("both rates were offered for their whole step", dispatched.get() >= 40);
    }

    @Test
    public void refusedTasksFailTheRate() throws InterruptedException {
        TaskDispatcher busy = dispatcher((node, id) -> {
            throw new DispatchException(DispatchException.Reason.BUSY, "node busy");
        });
        ResultFile result = sweep(busy, List.of(100, 200)).run();
        assertEquals("0", result.get("highestPassingRate"));
        assertEquals("false", result.get("step.0.passed"));
        assertTrue(result.get("step.0.firstFailure"), result.get("step.0.firstFailure").contains("BUSY"));
    }

    @Test
    public void aHubThatNeverAnswersIsStoppedByTheBacklog() throws InterruptedException {
        TaskDispatcher silent = dispatcher((node, id) -> new CompletableFuture<>());
        long started = System.nanoTime();
        ResultFile result = new RateSweep(silent, new String[] {"n1"}, ECHO,
                new RateSweep.Plan(List.of(1000), Duration.ofMillis(1000), Duration.ofMillis(50), 1, 10, Duration.ofMillis(300), 0,
                        Duration.ZERO, SETTLE)).run();
        assertEquals("0", result.get("highestPassingRate"));
        assertTrue(result.get("step.0.verdict"), result.get("step.0.verdict").startsWith("backlog of"));
        assertEquals("false", result.get("step.0.drained"));
        assertTrue("ended by the drain deadline, not hanging", System.nanoTime() - started < 10e9);
    }

    @Test
    public void aRateOverTheLimitOnlyOnItsP99IsTriedTwice() throws InterruptedException {
        TaskDispatcher slow = dispatcher((node, id) -> CompletableFuture.supplyAsync(
                () -> new TaskResult(id, node, TaskState.SUCCEEDED, 0, ""),
                CompletableFuture.delayedExecutor(20, java.util.concurrent.TimeUnit.MILLISECONDS)));
        ResultFile result = sweep(slow, List.of(100, 200)).run();
        assertEquals("0", result.get("highestPassingRate"));
        assertEquals("false", result.get("step.0.retry"));
        assertEquals("true", result.get("step.1.retry"));
        assertEquals("p99 over the limit", result.get("step.1.verdict"));
        // Then, for context, the next rate: a median of 20 ms does not keep up either.
        assertEquals("3", result.get("steps"));
        assertEquals("true", result.get("step.2.capacityOnly"));
        assertEquals("false", result.get("step.2.keptUp"));
        assertEquals("0", result.get("highestRateKeptUp"));
    }

    @Test
    public void lowRatesAreRecordedLongEnoughForTheirP99() {
        RateSweep.Plan plan = new RateSweep.Plan(List.of(125), Duration.ofMillis(2000), Duration.ofMillis(500), 500, 10,
                Duration.ofSeconds(20), 0, Duration.ZERO, SETTLE);
        assertEquals(Duration.ofMillis(4000), plan.recordedFor(125));
        assertEquals(Duration.ofMillis(2000), plan.recordedFor(1000));
        assertEquals(Duration.ofMillis(8000), plan.recordedFor(10));
    }

    private static RateSweep sweep(TaskDispatcher dispatcher, List<Integer> rates) {
        return new RateSweep(dispatcher, new String[] {"n1", "n2"}, ECHO,
                new RateSweep.Plan(rates, Duration.ofMillis(200), Duration.ofMillis(50), 1, 10, Duration.ofSeconds(5), 0, Duration.ZERO,
                SETTLE));
    }

    @FunctionalInterface
    private interface Answer {
        CompletionStage<TaskResult> result(String node, String taskId);
    }

    private static TaskDispatcher dispatcher(Answer answer) {
        AtomicInteger ids = new AtomicInteger();
        return new TaskDispatcher() {
            @Override
            public TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output) {
                String id = "t-" + ids.incrementAndGet();
                CompletionStage<TaskResult> result = answer.result(node, id);
                return new TaskHandle() {
                    @Override
                    public String taskId() {
                        return id;
                    }

                    @Override
                    public String nodeId() {
                        return node;
                    }

                    @Override
                    public CompletionStage<Void> dispatched() {
                        return CompletableFuture.completedFuture(null);
                    }

                    @Override
                    public CompletionStage<TaskResult> result() {
                        return result;
                    }

                    @Override
                    public void cancel(String reason) {
                    }
                };
            }

            @Override
            public boolean cancel(String taskId, String reason) {
                return false;
            }
        };
    }
}
