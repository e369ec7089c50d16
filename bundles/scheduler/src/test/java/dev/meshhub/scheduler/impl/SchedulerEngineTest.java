package dev.meshhub.scheduler.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.After;
import org.junit.Test;

import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.RunOutcome;
import dev.meshhub.api.management.TaskScheduleState;

public class SchedulerEngineTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private SchedulerEngine engine;
    private final CountDownLatch release = new CountDownLatch(1);

    @After
    public void tearDown() {
        release.countDown();
        if (engine != null) {
            engine.close(Duration.ofSeconds(5));
        }
    }

    @Test
    public void aTaskThatThrowsAndOneThatHangsDoNotHoldUpAThird() {
        // One thread: the hung run must get a lent thread, or the others would starve.
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 2);
        AtomicInteger steadyRuns = new AtomicInteger();
        engine.add(1, "test", () -> {
            throw new IllegalStateException("broken on purpose");
        }, schedule("thrower", 50, null), "Thrower");
        engine.add(2, "test", this::hangIgnoringInterrupts, schedule("hanger", 50, 100L), "Hanger");
        engine.add(3, "test", steadyRuns::incrementAndGet, schedule("steady", 50, null), "Steady");

        await(() -> status("hanger").state() == TaskScheduleState.HUNG, "the hanger to be declared hung");
        int runsWhenHung = steadyRuns.get();
        await(() -> steadyRuns.get() >= runsWhenHung + 10, "the steady task to keep running while one hangs");
        await(() -> status("thrower").failures() >= 3, "the thrower to keep being run");

        ManagementTaskStatus thrower = status("thrower");
        assertEquals(RunOutcome.FAILED, thrower.lastOutcome());
        assertEquals("IllegalStateException: broken on purpose", thrower.lastError());
        assertEquals(thrower.failures(), thrower.consecutiveFailures());

        ManagementTaskStatus hanger = status("hanger");
        assertEquals("a hung task gets no further runs", 1, hanger.runs());
        assertEquals(1, hanger.timeouts());
        assertTrue("periods that came while it hung are skipped", hanger.skipped() > 0);
        assertNull("no next run while hung", hanger.nextRun());
        assertEquals("run passed its time limit of 100 ms", hanger.lastError());

        release.countDown();
        await(() -> status("hanger").runs() >= 2, "the hanger to run again once its hung run returned");
        ManagementTaskStatus recovered = status("hanger");
        assertEquals(1, recovered.timeouts());
        assertNotNull(recovered.lastDuration());
        assertEquals(0, status("steady").failures());
    }

    @Test
    public void aRunPastItsTimeLimitIsInterruptedAndTheTaskRunsAgain() {
        engine = new SchedulerEngine(Clock.systemUTC(), 2, 2);
        AtomicInteger interrupted = new AtomicInteger();
        engine.add(1, "test", () -> {
            try {
                Thread.sleep(TimeUnit.HOURS.toMillis(1));
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
            }
        }, schedule("sleeper", 50, 100L), "Sleeper");
        await(() -> status("sleeper").runs() >= 2 && status("sleeper").lastOutcome() != null, "a second run");
        assertTrue(interrupted.get() >= 1);
        ManagementTaskStatus sleeper = status("sleeper");
        assertEquals(RunOutcome.TIMED_OUT, sleeper.lastOutcome());
        assertTrue(sleeper.timeouts() >= 1);
        assertEquals("timeouts are not also counted as failures", 0, sleeper.failures());
    }

    @Test
    public void malformedSchedulesAreIgnoredWithTheReason() {
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 0);
        AtomicInteger runs = new AtomicInteger();
        ManagementTask counting = runs::incrementAndGet;
        Map<String, Object> missing = new HashMap<>(Map.of(ManagementTask.NAME, "no-period"));
        engine.add(1, "test", counting, missing, "A");
        engine.add(2, "test", counting, schedule("negative", -5, null), "B");
        engine.add(3, "test", counting, props("abc", Map.of(ManagementTask.PERIOD, "abc")), "C");
        engine.add(4, "test", counting, props("unit", Map.of(ManagementTask.PERIOD, 5L, ManagementTask.UNIT, "fortnights")), "D");
        engine.add(5, "test", counting, props("limit", Map.of(ManagementTask.PERIOD, 5L, ManagementTask.TIME_LIMIT, -1L)), "E");
        engine.add(6, "test", counting, props("overlap", Map.of(ManagementTask.PERIOD, 5L, ManagementTask.CONCURRENT, "maybe")), "F");
        engine.add(7, "test", counting, props("tiny", Map.of(ManagementTask.PERIOD, 1L, ManagementTask.UNIT, "MILLISECONDS")), "G");

        assertProblem("no-period", "no meshhub.management.period property");
        assertProblem("negative", "meshhub.management.period must be positive, is -5");
        assertProblem("abc", "meshhub.management.period is not a whole number: 'abc'");
        assertProblem("unit", "meshhub.management.unit is not a time unit: 'fortnights'");
        assertProblem("limit", "meshhub.management.timeLimit must not be negative, is -1");
        assertProblem("overlap", "meshhub.management.concurrent is not true or false: 'maybe'");
        assertProblem("tiny", "meshhub.management.period must be at least 10 ms");
        assertEquals(0, runs.get());
    }

    @Test
    public void configurationStylePropertiesAreAccepted() {
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 0);
        engine.add(1, "test", () -> { }, props("strings", Map.of(ManagementTask.PERIOD, new String[] {" 250 "},
                ManagementTask.UNIT, "milliseconds", ManagementTask.CONCURRENT, "TRUE", ManagementTask.TIME_LIMIT, "100")), "A");
        ManagementTaskStatus status = status("strings");
        assertEquals(Duration.ofMillis(250), status.period());
        assertEquals(Duration.ofMillis(100), status.timeLimit());
        assertTrue(status.concurrent());
        Map<String, Object> unnamed = new HashMap<>(Map.of(ManagementTask.PERIOD, 1, "component.name", "from-component"));
        engine.add(2, "test", () -> { }, unnamed, "Fallback");
        assertEquals(Duration.ofSeconds(1), status("from-component").period());
        engine.add(3, "test", () -> { }, new HashMap<>(Map.of(ManagementTask.PERIOD, 1)), "com.example.Fallback");
        assertEquals(Duration.ofSeconds(1), status("com.example.Fallback").timeLimit());
    }

    @Test
    public void runsHappenOnNamedSchedulerThreads() {
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 0);
        Set<String> names = ConcurrentHashMap.newKeySet();
        engine.add(1, "test", () -> names.add(Thread.currentThread().getName()), schedule("namer", 20, null), "N");
        await(() -> status("namer").runs() >= 3, "three runs");
        assertFalse(names.isEmpty());
        for (String name : names) {
            assertTrue(name, name.matches("meshhub-management-\\d+ \\[namer\\]"));
        }
    }

    @Test
    public void changedPropertiesRescheduleAtOnce() {
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 0);
        AtomicInteger runs = new AtomicInteger();
        engine.add(1, "test", runs::incrementAndGet, schedule("changing", TimeUnit.HOURS.toMillis(1), null), "C");
        await(() -> runs.get() == 1, "the first run, at once");
        engine.update(1, schedule("changing", 20, null));
        await(() -> runs.get() >= 5, "runs at the new, shorter period");
        assertEquals(Duration.ofMillis(20), status("changing").period());

        engine.update(1, props("changing", Map.of(ManagementTask.PERIOD, "soon")));
        assertEquals(TaskScheduleState.IGNORED, status("changing").state());
        int stopped = runs.get();
        engine.update(1, schedule("changing", 20, null));
        await(() -> runs.get() >= stopped + 3, "runs again once the properties are fixed");
        assertTrue("counters survive a reschedule", status("changing").runs() >= 5);
    }

    @Test
    public void removingATaskStopsItAndInterruptsItsRun() {
        engine = new SchedulerEngine(Clock.systemUTC(), 1, 0);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        engine.add(1, "test", () -> {
            runs.incrementAndGet();
            started.countDown();
            try {
                Thread.sleep(TimeUnit.HOURS.toMillis(1));
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
        }, schedule("leaving", 20, TimeUnit.HOURS.toMillis(2)), "L");
        awaitLatch(started);
        engine.remove(1);
        awaitLatch(interrupted);
        assertTrue(engine.tasks().isEmpty());
        int after = runs.get();
        AtomicInteger other = new AtomicInteger();
        engine.add(2, "test", other::incrementAndGet, schedule("other", 20, null), "O");
        await(() -> other.get() >= 5, "the freed thread to run other work");
        assertEquals("a removed task never runs again", after, runs.get());
    }

    @Test
    public void overlappingRunsOnlyWhenAllowedAndBoundedByThePool() {
        engine = new SchedulerEngine(Clock.systemUTC(), 3, 0);
        AtomicInteger going = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ManagementTask slow = () -> {
            int now = going.incrementAndGet();
            most.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(150);
            } finally {
                going.decrementAndGet();
            }
        };
        engine.add(1, "test", slow, props("overlap", Map.of(ManagementTask.PERIOD, 20L, ManagementTask.UNIT, "MILLISECONDS",
                ManagementTask.CONCURRENT, true, ManagementTask.TIME_LIMIT, 10_000L)), "O");
        await(() -> status("overlap").runs() >= 10, "ten runs");
        assertTrue("runs overlapped: " + most.get(), most.get() >= 2);
        assertTrue("never more than the pool: " + most.get(), most.get() <= 3);
        engine.remove(1);

        AtomicInteger single = new AtomicInteger();
        AtomicInteger singleMost = new AtomicInteger();
        engine.add(2, "test", () -> {
            singleMost.accumulateAndGet(single.incrementAndGet(), Math::max);
            try {
                Thread.sleep(100);
            } finally {
                single.decrementAndGet();
            }
        }, props("serial", Map.of(ManagementTask.PERIOD, 20L, ManagementTask.UNIT, "MILLISECONDS",
                ManagementTask.TIME_LIMIT, 10_000L)), "S");
        await(() -> status("serial").skipped() >= 5 && status("serial").runs() >= 2, "skipped periods");
        assertEquals(1, singleMost.get());
    }

    @Test
    public void closingEndsEveryThread() {
        // Threads of earlier tests' engines may still be ending: only this engine's must be gone.
        Set<Thread> before = schedulerThreads();
        engine = new SchedulerEngine(Clock.systemUTC(), 2, 2);
        AtomicInteger runs = new AtomicInteger();
        engine.add(1, "test", runs::incrementAndGet, schedule("a", 10, null), "A");
        engine.add(2, "test", () -> Thread.sleep(TimeUnit.HOURS.toMillis(1)), schedule("b", 10, 50L), "B");
        await(() -> runs.get() >= 5 && status("b").timeouts() >= 1, "both running");
        assertTrue(engine.close(Duration.ofSeconds(5)));
        engine = null;
        try {
            await(() -> before.containsAll(schedulerThreads()), "this engine's threads to end");
        } catch (AssertionError e) {
            Set<Thread> left = schedulerThreads();
            left.removeAll(before);
            StringBuilder where = new StringBuilder();
            left.forEach(t -> where.append('\n').append(t.getName()).append(": ").append(java.util.Arrays.toString(t.getStackTrace())));
            throw new AssertionError(e.getMessage() + "; still alive:" + where, e);
        }
    }

    // ---- support ----

    private void hangIgnoringInterrupts() {
        while (true) {
            try {
                release.await();
                return;
            } catch (InterruptedException ignored) {
                // a badly behaved task: swallows the interrupt and keeps waiting
            }
        }
    }

    private static Map<String, Object> schedule(String name, long periodMillis, Long timeLimitMillis) {
        Map<String, Object> properties = new HashMap<>();
        properties.put(ManagementTask.NAME, name);
        properties.put(ManagementTask.PERIOD, periodMillis);
        properties.put(ManagementTask.UNIT, "MILLISECONDS");
        if (timeLimitMillis != null) {
            properties.put(ManagementTask.TIME_LIMIT, timeLimitMillis);
        }
        return properties;
    }

    private static Map<String, Object> props(String name, Map<String, Object> more) {
        Map<String, Object> properties = new HashMap<>(more);
        properties.put(ManagementTask.NAME, name);
        return properties;
    }

    private ManagementTaskStatus status(String name) {
        List<ManagementTaskStatus> all = engine.tasks();
        return all.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no task " + name + " in " + all));
    }

    private void assertProblem(String name, String expected) {
        ManagementTaskStatus status = status(name);
        assertEquals(TaskScheduleState.IGNORED, status.state());
        assertTrue(status.problem(), status.problem().startsWith(expected));
        assertNull(status.nextRun());
    }

    private static Set<Thread> schedulerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(SchedulerEngine.WORKER_PREFIX))
                .collect(java.util.stream.Collectors.toSet());
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertTrue("timed out", latch.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("gave up waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
