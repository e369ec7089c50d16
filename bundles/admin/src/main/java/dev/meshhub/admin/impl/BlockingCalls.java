package dev.meshhub.admin.impl;

import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.server.support.Answers;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * Admin calls whose work blocks (health checks touch disks, a fresh mesh snapshot reads the journal):
 * each runs on a thread of its own, never on a gRPC thread, at most {@value #AT_ONCE} at once; more
 * are refused with RESOURCE_EXHAUSTED rather than queued behind a slow disk.
 */
final class BlockingCalls {

    static final int AT_ONCE = 4;
    private static final Logger LOG = LoggerFactory.getLogger(BlockingCalls.class);

    private final Semaphore running = new Semaphore(AT_ONCE);

    /** Answers {@code observer} with what {@code work} returns, or with the status it throws ({@link io.grpc.StatusRuntimeException}). */
    <T> void run(String what, StreamObserver<T> observer, Callable<T> work) {
        if (!running.tryAcquire()) {
            Answers.fail(observer, Status.RESOURCE_EXHAUSTED.withDescription(AT_ONCE + " " + what + " calls are running already;"
                    + " retry in a few seconds"));
            return;
        }
        Thread worker = new Thread(() -> {
            try {
                Answers.complete(observer, work.call());
            } catch (io.grpc.StatusRuntimeException e) {
                Answers.fail(observer, e.getStatus());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                Answers.fail(observer, Status.UNAVAILABLE.withDescription(what + " interrupted; retry"));
            } catch (Exception e) {
                LOG.warn("admin {} call failed", what, e);
                Answers.fail(observer, Status.INTERNAL.withDescription(what + " failed inside the hub; see the hub log"));
            } finally {
                running.release();
            }
        }, "meshhub-admin-" + what.replace(' ', '-'));
        worker.setDaemon(true);
        worker.start();
    }
}
