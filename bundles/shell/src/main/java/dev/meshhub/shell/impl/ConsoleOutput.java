package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskOutputListener;

/**
 * A task's output on its way to a shell session's console, written by a thread of this exec's own, so
 * the hub's threads never wait on a terminal: a chunk is taken once it is written, which paces the
 * task's node to the console. {@link #close} waits (bounded) until what arrived is written.
 */
final class ConsoleOutput implements TaskOutputListener {

    private final PrintStream console;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "meshhub-shell-exec-output");
        t.setDaemon(true);
        return t;
    });

    ConsoleOutput(PrintStream console) {
        this.console = console;
    }

    @Override
    public void onOutput(TaskOutput chunk) {
        onOutput(chunk, () -> {
        });
    }

    @Override
    public void onOutput(TaskOutput chunk, Runnable taken) {
        try {
            writer.execute(() -> {
                try {
                    console.write(chunk.data(), 0, chunk.data().length);
                    console.flush();
                } finally {
                    taken.run();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            taken.run();
        }
    }

    @Override
    public void onDetached(String reason) {
        try {
            writer.execute(() -> console.println("mesh:exec: " + reason));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the command already returned
        }
    }

    /** Writes what arrived (waiting at most 10 s), then stops the thread. Idempotent. */
    void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.shutdownNow();
    }
}
