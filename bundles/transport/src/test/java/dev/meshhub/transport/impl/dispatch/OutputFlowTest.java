package dev.meshhub.transport.impl.dispatch;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

import dev.meshhub.api.task.TaskOutput;

public class OutputFlowTest {

    private static final int WINDOW = 1024;

    /** A consumer that holds what it is given until the test lets it take. */
    private static final class Holding extends OutputFlow.Consumer {
        final List<Runnable> held = new ArrayList<>();
        final List<TaskOutput> got = new ArrayList<>();
        String detachedBecause;

        Holding(String name) {
            super(name);
        }

        @Override
        void deliver(TaskOutput chunk, Runnable taken) {
            got.add(chunk);
            held.add(taken);
        }

        @Override
        void detached(String reason) {
            detachedBecause = reason;
        }

        void takeAll() {
            List<Runnable> now = new ArrayList<>(held);
            held.clear();
            now.forEach(Runnable::run);
        }
    }

    private final List<Long> grants = new ArrayList<>();
    private long sequence;

    private TaskOutput chunk(int size) {
        return new TaskOutput("t-1", TaskOutput.Stream.STDOUT, new byte[size], ++sequence);
    }

    @Test
    public void creditComesBackOnlyOnceEveryConsumerTookTheOutputInQuarterWindows() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        Holding log = new Holding("log");
        Holding caller = new Holding("caller");
        flow.attach(log);
        flow.attach(caller);

        assertTrue(flow.arrived(chunk(512)));
        assertTrue(flow.arrived(chunk(512)));
        assertEquals(2, log.got.size());
        assertEquals(2, caller.got.size());
        log.takeAll();
        assertEquals("the caller still holds it all: no credit", List.of(), grants);
        assertEquals(WINDOW, flow.held());

        caller.held.remove(0).run();
        assertEquals("half a window taken by both: granted", List.of(512L), grants);
        caller.takeAll();
        assertEquals(List.of(512L, 512L), grants);
        assertEquals(0, flow.held());
    }

    @Test
    public void smallTakesAreGrantedTogether() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        Holding log = new Holding("log");
        flow.attach(log);
        for (int i = 0; i < 5; i++) {
            flow.arrived(chunk(50));
            log.takeAll();
        }
        assertEquals("under a quarter window (256): nothing yet", List.of(), grants);
        flow.arrived(chunk(50));
        log.takeAll();
        assertEquals(List.of(300L), grants);
    }

    @Test
    public void aNodeSendingBeyondItsCreditIsCaught() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        flow.attach(new Holding("log"));
        assertTrue(flow.arrived(chunk(WINDOW)));
        assertFalse(flow.arrived(chunk(1)));
    }

    @Test
    public void aStalledConsumerIsDetachedAndNoLongerHoldsTheTaskBack() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        Holding log = new Holding("log");
        Holding caller = new Holding("caller");
        flow.attach(log);
        flow.attach(caller);
        flow.arrived(chunk(300));
        caller.takeAll();
        flow.arrived(chunk(700));
        log.takeAll();
        long stall = TimeUnit.SECONDS.toNanos(60);

        flow.detachStalled(System.nanoTime(), stall);
        assertNull("not stalled yet", caller.detachedBecause);
        flow.detachStalled(System.nanoTime() + stall + 1, stall);
        assertEquals("it took none of the output for 60 s; it had taken 300 bytes of output", caller.detachedBecause);
        assertEquals("what it held counts as taken", List.of(300L, 700L), grants);

        flow.arrived(chunk(300));
        assertEquals("a detached consumer gets nothing more", 2, caller.got.size());
        caller.takeAll(); // a late take changes nothing
        assertEquals(List.of(300L, 700L), grants);
    }

    @Test
    public void aConsumerThatThrowsIsDetachedWithoutStoppingTheOthers() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        Holding log = new Holding("log");
        OutputFlow.Consumer broken = new OutputFlow.Consumer("broken") {
            @Override
            void deliver(TaskOutput chunk, Runnable taken) {
                throw new IllegalStateException("boom");
            }

            @Override
            void detached(String reason) {
            }
        };
        flow.attach(broken);
        flow.attach(log);
        flow.arrived(chunk(512));
        assertEquals(1, log.got.size());
        log.takeAll();
        assertEquals(List.of(512L), grants);
    }

    @Test
    public void withoutFlowControlNothingIsGrantedAndALaggingConsumerSkipsPastItsBound() {
        OutputFlow flow = new OutputFlow("t-1", 0, grants::add);
        Holding log = new Holding("log");
        flow.attach(log);
        int chunk = 1024 * 1024;
        for (long sent = 0; sent <= OutputFlow.UNPACED_BOUND; sent += chunk) {
            assertTrue(flow.arrived(chunk(chunk)));
        }
        assertTrue(flow.arrived(chunk(chunk)));
        assertEquals(List.of(), grants);
        assertEquals(chunk, flow.skipped(log));
        assertEquals(OutputFlow.UNPACED_BOUND / chunk + 1, log.got.size());
    }

    @Test
    public void afterTheTaskEndsChunksAreIgnored() {
        OutputFlow flow = new OutputFlow("t-1", WINDOW, grants::add);
        Holding log = new Holding("log");
        flow.attach(log);
        flow.close();
        assertTrue(flow.arrived(chunk(10)));
        assertEquals(0, log.got.size());
    }
}
