package dev.meshhub.transport.impl.dispatch;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.task.TaskOutput;

/**
 * The output of one running task on its way from the node to its consumers (its log, its caller),
 * with credit flowing back: the node may send {@code window} bytes that no consumer has taken yet,
 * and no more. A chunk counts as taken once every attached consumer took it; the hub then grants the
 * node that many bytes again, in batches of at least a quarter window, so the hub holds at most one
 * window of a task's output whatever its consumers do.
 *
 * <p>A consumer that takes nothing for the stall limit is detached (its pending chunks count as
 * taken; it is told why), so one caller that stopped reading cannot hold a task forever. A node
 * without flow control ({@code window} 0) is never slowed; a consumer that falls more than
 * {@link #UNPACED_BOUND} behind it skips chunks instead, and counts them.
 *
 * <p>Thread-safe: chunks arrive on a gRPC thread, consumers take them on their own threads, the stall
 * sweep runs on the dispatcher's timer. Nothing here blocks; consumers and grants are called outside
 * the lock.
 */
final class OutputFlow {

    /** How far a consumer of a node without flow control may fall behind before it skips chunks. */
    static final long UNPACED_BOUND = 8L * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(OutputFlow.class);

    /** Someone who takes a task's output. */
    abstract static class Consumer {
        private final String name;
        private final ArrayDeque<Delivery> pending = new ArrayDeque<>(); // guarded by the flow
        private long pendingBytes; // guarded by the flow
        private long takenBytes; // guarded by the flow
        private long skippedBytes; // guarded by the flow
        private boolean detached; // guarded by the flow

        Consumer(String name) {
            this.name = name;
        }

        /** Hands over a chunk; {@code taken} runs (on any thread, once) when the consumer took it. */
        abstract void deliver(TaskOutput chunk, Runnable taken);

        /** The flow stopped giving this consumer output, for {@code reason}. */
        abstract void detached(String reason);

        String name() {
            return name;
        }
    }

    /** One chunk for all consumers: taken when the last of them took it. */
    private record Chunk(int size, AtomicInteger remaining) {
    }

    /** One chunk handed to one consumer. */
    private record Delivery(Chunk chunk, long atNanos, AtomicBoolean done) {
    }

    private final String taskId;
    private final long window;
    private final LongConsumer grant;
    private final List<Consumer> consumers = new ArrayList<>(2); // guarded by this
    private long received; // guarded by this
    private long granted; // guarded by this
    private long takenSinceGrant; // guarded by this
    private boolean closed; // guarded by this

    /**
     * @param window the node's first credit; 0 for a node without flow control
     * @param grant  sends the node more credit (never blocks)
     */
    OutputFlow(String taskId, long window, LongConsumer grant) {
        this.taskId = taskId;
        this.window = window;
        this.granted = window;
        this.grant = grant;
    }

    /** Adds a consumer; it gets the chunks that arrive from now on. */
    synchronized void attach(Consumer consumer) {
        if (!closed) {
            consumers.add(consumer);
        }
    }

    /**
     * A chunk from the node, handed to every consumer.
     *
     * @return false when the node sent more than its credit (a protocol error); the chunk is dropped
     */
    boolean arrived(TaskOutput chunk) {
        int size = chunk.data().length;
        List<Consumer> to = new ArrayList<>(2);
        List<Delivery> deliveries = new ArrayList<>(2);
        synchronized (this) {
            if (closed) {
                return true;
            }
            received += size;
            if (window > 0 && received > granted) {
                return false;
            }
            Chunk shared = new Chunk(size, new AtomicInteger());
            long now = System.nanoTime();
            for (Consumer c : consumers) {
                if (c.detached) {
                    continue;
                }
                if (window == 0 && c.pendingBytes > UNPACED_BOUND) {
                    c.skippedBytes += size;
                    continue;
                }
                Delivery d = new Delivery(shared, now, new AtomicBoolean());
                c.pending.add(d);
                c.pendingBytes += size;
                to.add(c);
                deliveries.add(d);
            }
            shared.remaining().set(to.size());
            if (to.isEmpty()) {
                takenLocked(size);
            }
        }
        sendGrant();
        for (int i = 0; i < to.size(); i++) {
            Consumer c = to.get(i);
            Delivery d = deliveries.get(i);
            try {
                c.deliver(chunk, () -> taken(c, d));
            } catch (RuntimeException e) {
                LOG.warn("output consumer {} of task {} failed; it gets no more output", c.name(), taskId, e);
                detach(c, "it failed (" + e + ")");
            }
        }
        return true;
    }

    private void taken(Consumer c, Delivery d) {
        if (!d.done().compareAndSet(false, true)) {
            return;
        }
        synchronized (this) {
            c.pending.remove(d);
            c.pendingBytes -= d.chunk().size();
            c.takenBytes += d.chunk().size();
            if (d.chunk().remaining().decrementAndGet() == 0) {
                takenLocked(d.chunk().size());
            }
        }
        sendGrant();
    }

    private void takenLocked(int size) {
        takenSinceGrant += size;
    }

    /** Grants what was taken once it makes a batch (a quarter window); outside the lock. */
    private void sendGrant() {
        long bytes;
        synchronized (this) {
            if (window == 0 || closed || takenSinceGrant < Math.max(1, window / 4)) {
                return;
            }
            bytes = takenSinceGrant;
            takenSinceGrant = 0;
            granted += bytes;
        }
        grant.accept(bytes);
    }

    /** Detaches the consumers that have held a chunk for longer than {@code stallNanos}; on the timer. */
    void detachStalled(long nowNanos, long stallNanos) {
        List<Consumer> stalled = new ArrayList<>(1);
        synchronized (this) {
            for (Consumer c : consumers) {
                Delivery oldest = c.pending.peek();
                if (!c.detached && oldest != null && nowNanos - oldest.atNanos() > stallNanos) {
                    stalled.add(c);
                }
            }
        }
        long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(stallNanos);
        for (Consumer c : stalled) {
            detach(c, "it took none of the output for " + seconds + " s");
        }
    }

    /** Stops giving {@code c} output: what it holds counts as taken; it is told why. */
    void detach(Consumer c, String why) {
        List<Delivery> held;
        long taken;
        synchronized (this) {
            if (c.detached) {
                return;
            }
            c.detached = true;
            held = new ArrayList<>(c.pending);
            taken = c.takenBytes;
        }
        for (Delivery d : held) {
            taken(c, d);
        }
        c.detached(why + "; it had taken " + taken + " bytes of output");
    }

    /** The task ended: no more chunks, no more grants. */
    synchronized void close() {
        closed = true;
    }

    /** Bytes the node sent. */
    synchronized long received() {
        return received;
    }

    /** Bytes of output {@code c} skipped because it fell too far behind a node without flow control. */
    synchronized long skipped(Consumer c) {
        return c.skippedBytes;
    }

    /** Bytes of output the consumers hold now (at most one window with flow control). */
    synchronized long held() {
        return received - (granted - window) - takenSinceGrant;
    }
}
