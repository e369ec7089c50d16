package dev.meshhub.node;

import dev.meshhub.proto.v1.TaskOutput;
import java.io.IOException;
import java.io.InputStream;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads one output pipe of a task on its own thread and hands each chunk to the task as soon as it
 * is read, at most {@link #CHUNK_BYTES} at a time, without waiting for a newline. What was read is
 * sent within the task's output credit ({@link CreditGate}), waiting for more: with no credit this
 * pump stops reading, the pipe fills and the process waits, as under ssh. Reads until end of file even when the task no
 * longer reports output (a released gate lets reads go on and drops what has no credit), so a
 * process never blocks on a full pipe while it is being ended.
 */
final class OutputPump implements Runnable {

    /** Largest chunk of output in one TaskOutput message. */
    static final int CHUNK_BYTES = 64 * 1024;

    private static final Logger LOG = Logger.getLogger(OutputPump.class.getName());

    private final RunningTask task;
    private final TaskOutput.Stream stream;
    private final InputStream pipe;
    private final CreditGate credit;

    OutputPump(RunningTask task, TaskOutput.Stream stream, InputStream pipe, CreditGate credit) {
        this.task = task;
        this.stream = stream;
        this.pipe = pipe;
        this.credit = credit;
    }

    /**
     * Sends what was read within the task's credit, waiting for more as needed (the credit is taken
     * after the read, so a pump blocked on a quiet pipe never holds credit the other stream needs).
     */
    private void send(byte[] buffer, int n) throws InterruptedException {
        int offset = 0;
        while (offset < n) {
            int permit = credit.acquire(n - offset);
            if (permit == 0) {
                task.dropped(n - offset);
                return;
            }
            task.output(stream, buffer, offset, permit);
            offset += permit;
        }
    }

    @Override
    public void run() {
        byte[] buffer = new byte[CHUNK_BYTES];
        try (InputStream in = pipe) {
            int n;
            // read() returns what is available after one wait, so output goes out as it comes.
            while ((n = in.read(buffer, 0, buffer.length)) >= 0) {
                send(buffer, n);
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "task " + task.label() + ": reading " + stream + " ended", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "task " + task.label() + ": reading " + stream + " failed", e);
        } finally {
            task.outputClosed(stream);
        }
    }
}
