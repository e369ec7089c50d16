package dev.meshhub.transport.impl.dispatch;

/**
 * A running task's output on its way to the journal's tail: only the last bytes the journal keeps
 * ({@code TaskJournal.outputTailBytes()}, 64 KiB by default) are held, in a ring, and written once a second
 * and at the task's end, instead of once per chunk: the journal keeps only a task's last bytes, and an
 * update per chunk cost a fifth of the hub's time per byte of output. Memory: one tail per running task
 * that printed something. Thread-safe.
 */
final class OutputTail {

    private byte[] ring; // allocated at the first output
    private int start;
    private int size;

    /** Adds a chunk, keeping the last {@code capacity} bytes gathered since the last {@link #drain}. */
    synchronized void add(byte[] chunk, int capacity) {
        if (ring == null || ring.length != capacity) {
            byte[] kept = ordered();
            ring = new byte[capacity];
            start = 0;
            size = 0;
            put(kept, Math.max(0, kept.length - capacity), Math.min(kept.length, capacity));
        }
        int from = Math.max(0, chunk.length - capacity);
        put(chunk, from, chunk.length - from);
    }

    /**
     * Hands what was gathered since the last call, in order, to {@code write} (under this tail's lock, so two
     * drains reach the journal in the order they were taken; {@code write} must not block). Nothing if nothing.
     */
    synchronized void drainTo(java.util.function.Consumer<byte[]> write) {
        if (size == 0) {
            return;
        }
        byte[] out = ordered();
        start = 0;
        size = 0;
        write.accept(out);
    }

    private void put(byte[] data, int offset, int length) {
        int capacity = ring.length;
        for (int i = 0; i < length; ) {
            int end = (start + size) % capacity;
            int n = Math.min(length - i, capacity - end);
            System.arraycopy(data, offset + i, ring, end, n);
            i += n;
            size += n;
            if (size > capacity) {
                start = (start + size - capacity) % capacity;
                size = capacity;
            }
        }
    }

    private byte[] ordered() {
        byte[] out = new byte[size];
        if (ring == null || size == 0) {
            return out;
        }
        int first = Math.min(size, ring.length - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, size - first);
        return out;
    }
}
