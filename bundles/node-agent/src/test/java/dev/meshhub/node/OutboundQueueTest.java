package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

public class OutboundQueueTest {

    private static final int CAPACITY = 64 * 1024;

    private final AtomicInteger drainRequests = new AtomicInteger();
    private final OutboundQueue queue = new OutboundQueue(CAPACITY, drainRequests::incrementAndGet);

    private static NodeMessage chunk(long sequence) {
        return NodeMessage.newBuilder().setTaskOutput(TaskOutput.newBuilder().setTaskId("t")
                .setStream(TaskOutput.Stream.STDOUT).setSequence(sequence)
                .setData(ByteString.copyFrom(new byte[16 * 1024]))).build();
    }

    private static NodeMessage finished() {
        return NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId("t")
                .setOutcome(TaskFinished.Outcome.SUCCEEDED)).build();
    }

    /** Puts on another thread; the future completes with put's answer. */
    private static CompletableFuture<Boolean> putAsync(OutboundQueue q, NodeMessage m, AtomicBoolean wanted,
            List<Thread> threads) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(q.put(m, wanted::get));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "test-put");
        threads.add(t);
        t.start();
        return result;
    }

    private static void awaitWaiting(Thread t) throws InterruptedException {
        Await.until(t.getName() + " waits for room", () -> t.getState() == Thread.State.WAITING);
    }

    /** Fills the queue to just under its capacity; returns how many chunks that took. */
    private int fill() throws InterruptedException {
        int n = 0;
        while (queue.bytes() + chunk(n + 1).getSerializedSize() <= CAPACITY) {
            assertTrue(queue.put(chunk(++n), () -> true));
        }
        return n;
    }

    @Test
    public void aFullQueueMakesTheProducerWaitUntilTheAgentDrains() throws Exception {
        int n = fill();
        List<Thread> threads = new ArrayList<>();
        CompletableFuture<Boolean> blocked = putAsync(queue, chunk(n + 1), new AtomicBoolean(true), threads);
        awaitWaiting(threads.get(0));
        assertFalse(blocked.isDone());

        List<NodeMessage> sent = new ArrayList<>();
        AtomicInteger budget = new AtomicInteger(1);
        queue.drainTo(() -> budget.getAndDecrement() > 0, sent::add); // the transport takes one message
        assertEquals(1, sent.size());
        assertTrue(Await.result(blocked, "the waiting put"));

        queue.drainTo(() -> true, sent::add);
        assertEquals(n + 1, sent.size());
        for (int i = 0; i < sent.size(); i++) {
            assertEquals("FIFO", i + 1, sent.get(i).getTaskOutput().getSequence());
        }
        assertTrue("peak " + queue.peakBytes(), queue.peakBytes() <= CAPACITY);
        assertEquals(0, queue.bytes());
    }

    @Test
    public void theAgentsOwnMessagesNeverWait() {
        for (int i = 0; i < 10_000; i++) {
            queue.add(finished());
        }
        assertTrue(queue.bytes() > CAPACITY);
        List<NodeMessage> sent = new ArrayList<>();
        queue.drainTo(() -> true, sent::add);
        assertEquals(10_000, sent.size());
    }

    @Test
    public void closingReleasesWaitingProducersAndDropsEverything() throws Exception {
        fill();
        List<Thread> threads = new ArrayList<>();
        CompletableFuture<Boolean> blocked = putAsync(queue, chunk(99), new AtomicBoolean(true), threads);
        awaitWaiting(threads.get(0));
        queue.close();
        assertFalse("a closed queue refuses", Await.result(blocked, "the waiting put"));
        assertEquals(0, queue.bytes());
        assertFalse(queue.put(chunk(100), () -> true));
        queue.add(finished());
        List<NodeMessage> sent = new ArrayList<>();
        queue.drainTo(() -> true, sent::add);
        assertTrue(sent.isEmpty());
    }

    @Test
    public void aProducerWhoseOutputIsNoLongerWantedIsReleased() throws Exception {
        fill();
        AtomicBoolean wanted = new AtomicBoolean(true);
        List<Thread> threads = new ArrayList<>();
        CompletableFuture<Boolean> blocked = putAsync(queue, chunk(99), wanted, threads);
        awaitWaiting(threads.get(0));
        wanted.set(false);
        queue.releaseWaiting();
        assertFalse(Await.result(blocked, "the waiting put"));
    }

    @Test
    public void drainRequestsAreCoalescedUntilTheDrainRuns() throws Exception {
        queue.add(finished());
        queue.put(chunk(1), () -> true);
        queue.add(finished());
        assertEquals(1, drainRequests.get());
        queue.drainTo(() -> false, m -> { }); // not ready: nothing sent, but the request is consumed
        assertTrue("still queued", queue.bytes() > 0);
        queue.add(finished());
        assertEquals(2, drainRequests.get());
    }

    @Test
    public void anEmptyQueueTakesAMessageLargerThanItsCapacity() throws Exception {
        OutboundQueue small = new OutboundQueue(1024, () -> { });
        assertTrue(small.put(chunk(1), () -> true));
        assertEquals(chunk(1).getSerializedSize(), small.bytes());
    }
}
