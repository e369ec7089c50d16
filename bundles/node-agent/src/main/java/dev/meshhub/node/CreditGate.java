package dev.meshhub.node;

/**
 * The output credit of one task: how many bytes of its output the hub will take now. A pump takes
 * a permit for what it read before sending it and waits while there is none, so with no credit it
 * stops reading, the pipe fills and the process waits in {@code write(2)}. The hub adds credit as its consumers take the
 * output ({@code OutputCredit}). Once the task is being ended the gate is {@linkplain #release
 * released}: reads no longer wait, and what has no credit is dropped, so the pipes reach their end.
 * Thread-safe.
 */
final class CreditGate {

    private final boolean unlimited;
    private long available; // guarded by this
    private boolean released; // guarded by this

    private CreditGate(boolean unlimited, long available) {
        this.unlimited = unlimited;
        this.available = available;
    }

    /** A gate with {@code window} bytes of credit; 0 means no flow control (a hub without it). */
    static CreditGate of(long window) {
        return new CreditGate(window <= 0, Math.max(0, window));
    }

    /**
     * Waits for credit, then takes up to {@code max} bytes of it.
     *
     * @return the bytes the caller may read and send (at least 1), or 0 when the gate is released
     *         and has no credit: the caller reads and drops
     */
    synchronized int acquire(int max) throws InterruptedException {
        if (unlimited) {
            return max;
        }
        while (available <= 0 && !released) {
            wait();
        }
        if (available <= 0) {
            return 0;
        }
        int permit = (int) Math.min(max, available);
        available -= permit;
        return permit;
    }

    /** The hub granted more. */
    synchronized void grant(long bytes) {
        if (unlimited || bytes <= 0) {
            return;
        }
        available = available > Long.MAX_VALUE - bytes ? Long.MAX_VALUE : available + bytes;
        notifyAll();
    }

    /** The task is ending: waits end, reads without credit drop. Idempotent. */
    synchronized void release() {
        released = true;
        notifyAll();
    }

    synchronized long available() {
        return available;
    }
}
