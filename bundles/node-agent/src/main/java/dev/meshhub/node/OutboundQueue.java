package dev.meshhub.node;

import dev.meshhub.proto.v1.NodeMessage;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The messages of one TaskStream waiting for the hub to take them, bounded in bytes.
 *
 * <p>Task output is produced by reader threads faster than a slow hub may read it. The agent's
 * thread sends from this queue only while the call is ready ({@code isReady()}), so gRPC never
 * buffers more than its small on-ready threshold; what the hub does not take waits here, and when
 * this queue holds its capacity a reader thread {@linkplain #put blocks}, which stops it from
 * reading the task's pipe, which in turn makes the task's process wait in its {@code write}.
 * Memory stays bounded whatever the hub does.
 *
 * <p>The agent's own thread never blocks here: its few small messages (task started, task
 * finished) are {@linkplain #add added} past the bound. Closing the queue drops its content and
 * releases every waiting reader; later messages are discarded.
 */
final class OutboundQueue {

    private final long capacityBytes;
    private final Runnable requestDrain;
    private final AtomicBoolean drainRequested = new AtomicBoolean();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<NodeMessage> messages = new ArrayDeque<>(); // guarded by lock
    private long bytes; // guarded by lock
    private long peakBytes; // guarded by lock
    private boolean closed; // guarded by lock

    /**
     * @param capacityBytes bound of the serialized size of the messages held
     * @param requestDrain  asks the agent's thread to call {@link #drainTo}; called at most once
     *                      until that call starts, from whichever thread queued a message
     */
    OutboundQueue(long capacityBytes, Runnable requestDrain) {
        this.capacityBytes = capacityBytes;
        this.requestDrain = requestDrain;
    }

    /** Queues a message of the agent's own thread; never blocks. Dropped when closed. */
    void add(NodeMessage message) {
        int size = message.getSerializedSize();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            enqueue(message, size);
        } finally {
            lock.unlock();
        }
        wakeDrain();
    }

    /**
     * Queues a message of a reader thread, waiting while the queue holds its capacity (an empty
     * queue takes any message, so one larger than the bound cannot wait forever).
     *
     * @param wanted checked under the queue's lock before the message goes in: false drops it (the
     *               task no longer reports output); {@link #releaseWaiting()} makes a waiting
     *               caller check it again
     * @return whether the message was queued (false: the queue is closed or it is no longer wanted)
     */
    boolean put(NodeMessage message, BooleanSupplier wanted) throws InterruptedException {
        int size = message.getSerializedSize();
        lock.lockInterruptibly();
        try {
            while (!closed && wanted.getAsBoolean() && bytes > 0 && bytes + size > capacityBytes) {
                notFull.await();
            }
            if (closed || !wanted.getAsBoolean()) {
                return false;
            }
            enqueue(message, size);
        } finally {
            lock.unlock();
        }
        wakeDrain();
        return true;
    }

    /**
     * Hands messages to {@code sink} while {@code ready} says the transport takes more; on the
     * agent's thread only.
     */
    void drainTo(BooleanSupplier ready, Consumer<NodeMessage> sink) {
        // Cleared before polling: a message queued after the last poll requests a new drain.
        drainRequested.set(false);
        while (ready.getAsBoolean()) {
            NodeMessage next;
            lock.lock();
            try {
                next = messages.poll();
                if (next != null) {
                    bytes -= next.getSerializedSize();
                    notFull.signalAll();
                }
            } finally {
                lock.unlock();
            }
            if (next == null) {
                return;
            }
            sink.accept(next);
        }
    }

    /** Makes every waiting {@link #put} check its {@code wanted} condition again. */
    void releaseWaiting() {
        lock.lock();
        try {
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Drops what is queued, releases waiting readers and discards everything after. Idempotent. */
    void close() {
        lock.lock();
        try {
            closed = true;
            messages.clear();
            bytes = 0;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Bytes queued now. */
    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** The most bytes this queue ever held at once. */
    long peakBytes() {
        lock.lock();
        try {
            return peakBytes;
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(NodeMessage message, int size) {
        messages.add(message);
        bytes += size;
        peakBytes = Math.max(peakBytes, bytes);
    }

    private void wakeDrain() {
        if (drainRequested.compareAndSet(false, true)) {
            requestDrain.run();
        }
    }
}
